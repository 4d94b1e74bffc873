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

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.api.models import ApiToken
from helpdesk.db import utcnow

PREFIX_LEN = 10


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the raw token (shown once)."""
    raw = "hd_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name[:120], prefix=raw[:PREFIX_LEN], token_hash=hash_token(raw))
    session.add(token)
    session.flush()
    return token, raw


def check_token(session: Session, raw: str) -> User | None:
    """The active user a raw token belongs to, or None; records when it was last used."""
    digest = hash_token(raw)
    token = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None)))
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    user = token.user
    if user is None or not user.active:
        return None
    token.last_used_at = utcnow()
    return user


def revoke_token(session: Session, prefix: str) -> bool:
    token = session.scalar(sa.select(ApiToken).where(ApiToken.prefix == prefix, ApiToken.revoked_at.is_(None)))
    if token is None:
        return False
    token.revoked_at = utcnow()
    return True


def issue(session: Session, actor: User | None, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user`` on an admin's behalf, audited; the raw token is returned once."""
    from helpdesk.accounts.admin_services import audit

    token, raw = create_token(session, user, name.strip() or "API")
    audit(
        session,
        actor,
        "api_token.created",
        {"token_id": token.id, "prefix": token.prefix, "name": token.name, "email": user.email},
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
