"""Users, and what each user may see.

Signing in (throttling, password checks, two-factor codes) lives in ``helpdesk.signin``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Role, Team, User, team_channel_accounts, team_members
from helpdesk.signin.passwords import MIN_PASSWORD, hash_password


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
        password_hash=hash_password(password),
        role=role,
        locale=locale,
        timezone=timezone,
        teams=list(teams or []),
    )
    session.add(user)
    session.flush()
    return user


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
