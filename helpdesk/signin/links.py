"""Single-use links that set a password: "forgot password" mails, admins' hand-over links, invitations.

Only a SHA-256 of the link's secret is stored (the secret has 256 bits, so
a fast hash is enough), a link expires, works once, and every other
outstanding link of the user stops working when one is used or the password
changes any other way (``services.set_password``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.db import utcnow
from helpdesk.signin.models import PasswordLink
from helpdesk.signin.services import set_password

RESET_LINK_LIFETIME = timedelta(hours=1)  # e-mailed "forgot password" links
HANDOVER_LINK_LIFETIME = timedelta(days=3)  # links an admin gives a user (or an invitation)
LINK_PATH = "/password/"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def make_password_link(
    session: Session, user: User, *, created_by: User | None = None, valid_for: timedelta = RESET_LINK_LIFETIME
) -> str:
    """A new single-use set-password link for ``user``, as a URL path (``/password/<secret>``).

    Prefix it with the helpdesk's public URL to mail it. The secret is in
    the returned path only; the database keeps its hash.
    """
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordLink(
            user_id=user.id,
            token_hash=_digest(token),
            expires_at=utcnow() + valid_for,
            created_by_id=created_by.id if created_by else None,
        )
    )
    session.flush()
    return LINK_PATH + token


def find_link(session: Session, token: str) -> PasswordLink | None:
    """The link with this secret if it can still be used (not used, not expired, its user active)."""
    if not token or len(token) > 100:
        return None
    link = session.scalar(sa.select(PasswordLink).where(PasswordLink.token_hash == _digest(token)))
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    user = session.get(User, link.user_id)
    if user is None or not user.active:
        return None
    return link


def use_link(session: Session, token: str, password: str) -> User | None:
    """Set the password through the link; None when the link cannot be used. Raises PasswordError."""
    link = find_link(session, token)
    if link is None:
        return None
    user = session.get(User, link.user_id)
    assert user is not None
    set_password(session, user, password)  # also marks this and every other outstanding link used
    return user


def recently_mailed(session: Session, user: User, within: timedelta) -> bool:
    """Whether a self-service link went to this user lately (a mail flood guard)."""
    newest = session.scalar(
        sa.select(sa.func.max(PasswordLink.created_at)).where(
            PasswordLink.user_id == user.id, PasswordLink.created_by_id.is_(None)
        )
    )
    return newest is not None and newest > utcnow() - within
