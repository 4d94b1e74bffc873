"""Secrets at rest: connector credentials sealed with Fernet, keys rotatable.

``HELPDESK_ENCRYPTION_KEY`` holds one or more Fernet keys separated by
commas: the first seals new values, every one of them opens old ones
(``MultiFernet``), so a key is rotated by putting a new one first, running
``flask --app wsgi helpdesk channels reseal`` and later dropping the old one.
Without the variable a key is derived from ``HELPDESK_SECRET_KEY`` (HKDF),
so a newcomer's one-command set-up still never stores a secret in clear.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


class SealError(RuntimeError):
    """Sealed secrets cannot be opened with any configured key."""


def derived_key(secret_key: str) -> bytes:
    """A Fernet key derived from the app's secret key (used when no encryption key is set)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"helpdesk connector secrets").derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(raw)


def sealer(keys: list[bytes]) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in keys])


def _current() -> MultiFernet:
    settings = current_app.config["HELPDESK_SETTINGS"]
    cached = current_app.extensions.get("helpdesk.sealer")
    if cached is None:
        cached = sealer(list(settings.encryption_keys))
        current_app.extensions["helpdesk.sealer"] = cached
    return cached


def seal(values: Mapping[str, str], box: MultiFernet | None = None) -> str | None:
    """``values`` as one sealed token (None when there is nothing to keep)."""
    if not values:
        return None
    payload = json.dumps(dict(values), sort_keys=True, ensure_ascii=False).encode()
    return (box or _current()).encrypt(payload).decode()


def unseal(token: str | None, box: MultiFernet | None = None) -> dict[str, str]:
    if not token:
        return {}
    try:
        data = (box or _current()).decrypt(token.encode())
    except InvalidToken:
        raise SealError(
            "stored secrets cannot be decrypted with HELPDESK_ENCRYPTION_KEY (was the key changed "
            "without keeping the old one after it?)"
        ) from None
    value = json.loads(data)
    return {str(k): str(v) for k, v in value.items()}


def reseal(token: str | None, box: MultiFernet | None = None) -> str | None:
    """The same values sealed with the first key (key rotation)."""
    if not token:
        return token
    return (box or _current()).rotate(token.encode()).decode()
