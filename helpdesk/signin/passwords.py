"""Password hashes: argon2id for everything new, older werkzeug hashes still accepted once.

A user whose stored hash is an older kind (werkzeug's scrypt or pbkdf2) or
argon2 with other parameters than the configured ones gets a fresh hash the
next time they sign in successfully: the only moment the clear password is at hand.

The cost comes from ``HELPDESK_PASSWORD_HASH`` (default: RFC 9106's second
recommended profile, 64 MiB and 3 passes, about 0.15 s a hash on one core).
A cost below OWASP's minimum is refused unless the app is a test app: test
runs hash thousands of throw-away passwords and need them cheap, a real desk
must never end up with weak hashes because of a stray variable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app
from werkzeug.security import check_password_hash

from helpdesk.config import ConfigError, PasswordHashing

MIN_PASSWORD = 8
EXTENSION = "helpdesk.passwords"


@dataclass
class _Passwords:
    hasher: PasswordHasher
    decoy: str | None = field(default=None)


def init_app(app: Flask) -> None:
    """Build the app's hasher from its settings; refuse a weak cost outside tests."""
    params: PasswordHashing = app.config["HELPDESK_SETTINGS"].password_hashing
    if params.below_floor and not app.testing:
        t, m, p = PasswordHashing.FLOOR
        raise ConfigError(
            f"HELPDESK_PASSWORD_HASH={params} is below OWASP's argon2id minimum (t={t},m={m},p={p}); "
            "raise it or unset it for the default"
        )
    hasher = PasswordHasher(time_cost=params.time_cost, memory_cost=params.memory_cost, parallelism=params.parallelism)
    app.extensions[EXTENSION] = _Passwords(hasher)


def _current() -> _Passwords:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


def hash_password(password: str) -> str:
    return _current().hasher.hash(password)


def verify_password(stored: str, password: str) -> tuple[bool, bool]:
    """Whether ``password`` matches ``stored``, and whether ``stored`` should be replaced by a fresh hash."""
    hasher = _current().hasher
    if stored.startswith("$argon2"):
        try:
            hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False, False
        return True, hasher.check_needs_rehash(stored)
    if check_password_hash(stored, password):
        return True, True
    return False, False


def _decoy() -> str:
    passwords = _current()
    if passwords.decoy is None:
        passwords.decoy = passwords.hasher.hash("no account has this password")
    return passwords.decoy


def spend_like_a_check(password: str) -> None:
    """Take as long as a real check, so a wrong address answers no faster than a wrong password."""
    verify_password(_decoy(), password)
