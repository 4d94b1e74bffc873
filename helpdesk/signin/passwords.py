"""Password hashes: argon2id for everything new, older werkzeug hashes still accepted once.

A user whose stored hash is an older kind (werkzeug's scrypt or pbkdf2) or
argon2 with weaker parameters than today's gets a fresh hash the next time
they sign in successfully: the only moment the clear password is at hand.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from werkzeug.security import check_password_hash

# RFC 9106's second recommended profile (argon2id, 64 MiB, 3 passes): about 0.15 s a hash on one core.
_hasher = PasswordHasher()
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> tuple[bool, bool]:
    """Whether ``password`` matches ``stored``, and whether ``stored`` should be replaced by a fresh hash."""
    if stored.startswith("$argon2"):
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False, False
        return True, _hasher.check_needs_rehash(stored)
    if check_password_hash(stored, password):
        return True, True
    return False, False


@cache
def _decoy() -> str:
    return _hasher.hash("no account has this password")


def spend_like_a_check(password: str) -> None:
    """Take as long as a real check, so a wrong address answers no faster than a wrong password."""
    verify_password(_decoy(), password)
