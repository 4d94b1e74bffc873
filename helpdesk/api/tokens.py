"""Issuing and checking API tokens; only the SHA-256 of a token is ever stored.

Tokens are 32 random bytes, URL-safe, prefixed ``hd_`` so secret scanners
recognise them.  A hash (not a slow password hash) is right here: the token
has 256 bits of entropy, so it cannot be guessed from its hash, and every
API request must check it quickly.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.api.models import ApiToken, Scope
from helpdesk.db import utcnow

PREFIX_LEN = 10


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ScopeTooWide(ValueError):
    """Asked for a scope the user's role could never use (an admin scope for a non-admin)."""


def create_token(
    session: Session, user: User, name: str, scope: str = Scope.READ, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the raw token (shown once).

    An admin scope is refused for anyone but an admin: the role would cut it
    down anyway, and a token that claims more than it can do misleads whoever
    reads the token list.
    """
    from helpdesk.accounts.models import Role

    if scope not in Scope.ALL:
        raise ScopeTooWide(f"unknown scope {scope!r}; choose read, write or admin")
    if scope == Scope.ADMIN and user.role != Role.ADMIN:
        raise ScopeTooWide(f"{user.email} is not an admin, so the token cannot have the admin scope")
    raw = "hd_" + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name[:120],
        prefix=raw[:PREFIX_LEN],
        token_hash=hash_token(raw),
        scope=scope,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, raw


@dataclass(frozen=True)
class Refused:
    """Why a token was not accepted, in words an integrator can act on."""

    message: str


def authenticate(session: Session, raw: str, address: str | None = None) -> ApiToken | Refused:
    """The usable token for a raw secret, or why not; records when and from where it was last used."""
    digest = hash_token(raw)
    token = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None)))
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return Refused("the token is unknown or revoked")
    now = utcnow()
    if token.expires_at is not None and token.expires_at <= now:
        return Refused(f"the token expired at {token.expires_at.isoformat()}; ask an admin for a new one")
    user = token.user
    if user is None or not user.active:
        return Refused("the token's user is deactivated")
    token.last_used_at = now
    token.last_used_address = (address or "")[:45] or None
    return token


def check_token(session: Session, raw: str) -> User | None:
    """The active user a raw token belongs to, or None (see ``authenticate`` for why)."""
    found = authenticate(session, raw)
    return found.user if isinstance(found, ApiToken) else None


def revoke_token(session: Session, prefix: str) -> bool:
    token = session.scalar(sa.select(ApiToken).where(ApiToken.prefix == prefix, ApiToken.revoked_at.is_(None)))
    if token is None:
        return False
    token.revoked_at = utcnow()
    return True


def issue(
    session: Session, actor: User | None, user: User, name: str, scope: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for ``user`` on an admin's behalf, audited; the raw token is returned once."""
    from helpdesk.accounts.admin_services import audit

    token, raw = create_token(session, user, name.strip() or "API", scope, expires_at)
    audit(
        session,
        actor,
        "api_token.created",
        {
            "token_id": token.id,
            "prefix": token.prefix,
            "name": token.name,
            "email": user.email,
            "scope": token.scope,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        },
    )
    return token, raw


def revoke(session: Session, actor: User | None, token: ApiToken) -> bool:
    """Revoke one token (by row, not prefix: prefixes are for reading, not unique by design); audited."""
    from helpdesk.accounts.admin_services import audit

    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    session.flush()
    audit(session, actor, "api_token.revoked", {"token_id": token.id, "prefix": token.prefix, "name": token.name})
    return True
