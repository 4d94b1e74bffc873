"""Users, passwords, sign-in lock-out, and what each user may see."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from helpdesk.accounts.models import Role, Team, User, team_channel_accounts, team_members
from helpdesk.db import utcnow

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 8


class AccountError(ValueError):
    """A user could not be created or changed; the message says why."""


def create_user(
    session: Session,
    email: str,
    name: str,
    password: str,
    role: str = Role.AGENT,
    locale: str = "en",
    timezone: str = "UTC",
    teams: list[Team] | None = None,
) -> User:
    email = email.strip().lower()
    if "@" not in email:
        raise AccountError(f"{email!r} is not an e-mail address")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    if role not in set(Role):
        raise AccountError(f"role must be one of {', '.join(Role)}")
    if session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise AccountError(f"a user with e-mail {email} already exists")
    user = User(
        email=email,
        name=name,
        password_hash=generate_password_hash(password),
        role=role,
        locale=locale,
        timezone=timezone,
        teams=list(teams or []),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> tuple[User | None, str | None]:
    """The user if the password is right; else None and a reason safe to show."""
    user = session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    generic = "Wrong e-mail address or password."
    if user is None or not user.active:
        return None, generic
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        return None, "Too many failed attempts; try again in 15 minutes or ask an admin to unlock you."
    if not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        return None, generic
    user.failed_logins = 0
    user.locked_until = None
    return user, None


def visible_account_ids(user: User) -> set[int] | None:
    """Channel accounts the user may see; None means all of them."""
    if user.sees_everything:
        return None
    from helpdesk.extensions import db

    stmt = (
        sa.select(team_channel_accounts.c.channel_account_id)
        .join(team_members, team_members.c.team_id == team_channel_accounts.c.team_id)
        .where(team_members.c.user_id == user.id)
    )
    return set(db.session.scalars(stmt))
