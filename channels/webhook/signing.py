"""``X-Helpdesk-Signature: t=<unix>,v1=<hex>``: HMAC-SHA256 over ``"<t>.<raw body>"``.

Signing the timestamp with the body stops a captured delivery from being
replayed later with a fresh time; the five-minute window both ways bounds
how long a capture is useful and tolerates clocks that drift a little.
"""

from __future__ import annotations

import hashlib
import hmac
import time

WINDOW_S = 300


class SignatureError(ValueError):
    """The delivery is not signed by the account's secret (or not now); ``str`` says what to fix."""


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value a sender puts on ``body`` (tests and the docs' example use the same recipe)."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def _parts(header: str) -> tuple[int, list[str]]:
    t: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                t = int(value)
            except ValueError:
                raise SignatureError("the signature's t= is not a unix timestamp") from None
        elif name == "v1" and value:
            signatures.append(value.strip().lower())
    if t is None or not signatures:
        raise SignatureError("send X-Helpdesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<body>'>")
    return t, signatures


def verify(secrets: list[str], header: str, body: bytes, now: float | None = None) -> None:
    """Raise SignatureError unless one of ``secrets`` signed ``body`` within the window."""
    t, signatures = _parts(header)
    clock = time.time() if now is None else now
    if abs(clock - t) > WINDOW_S:
        raise SignatureError("the signature's timestamp is more than five minutes off; sign with the current time")
    for secret in secrets:
        expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, given) for given in signatures):
            return
    raise SignatureError("the signature does not match the body; sign the raw body with the account's secret")
