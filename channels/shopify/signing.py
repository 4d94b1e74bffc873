"""Shopify's webhook signature: base64 of HMAC-SHA256 over the raw body, keyed with the app's client secret.

Only the body is signed; the ``X-Shopify-*`` headers around it are not.  The
signature is computed over the bytes exactly as they arrived: parsing and
re-serialising the JSON changes spacing and key order and breaks it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def sign(body: bytes, secret: str) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value for ``body``."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode("ascii")


def verify(body: bytes, signature: str | None, secrets: Iterable[str]) -> bool:
    """Whether ``signature`` is the body's HMAC under one of ``secrets`` (compared in constant time)."""
    if not signature:
        return False
    given = signature.strip().encode("ascii", "replace")
    matched = False
    for secret in secrets:
        if secret:  # every candidate is compared, so the time taken does not tell which one matched
            matched |= hmac.compare_digest(sign(body, secret).encode("ascii"), given)
    return matched
