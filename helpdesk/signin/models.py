"""What sign-in security keeps in the database, so every web process sees the same state.

Throttle rows are keyed by the e-mail address as typed (lower-cased) and the
source address, never by the account alone: failures from one address slow
down that address, not the real user signing in from elsewhere.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import Base, utcnow

ANY_ACCOUNT = ""  # the e-mail key of a throttle row that counts every failure from one address


class SigninThrottle(Base):
    """Failed sign-ins from one source address, for one e-mail address or (``email == ""``) for all."""

    __tablename__ = "signin_throttle"
    __table_args__ = (sa.UniqueConstraint("email", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    address: Mapped[str] = mapped_column(sa.String(64))
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(index=True)


class PasswordLink(Base):
    """A single-use link that sets a password; only a hash of its secret is kept."""

    __tablename__ = "password_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator app; hashed like a password link."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None]


class TwoFactorRequirement(Base):
    """Whether every user of a role must use a two-factor code (a row per role an admin has decided on)."""

    __tablename__ = "two_factor_requirement"

    role: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    required: Mapped[bool] = mapped_column(default=False)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserSession(Base):
    """One signed-in browser: the cookie carries a random id, the database only its hash.

    The record is what makes a session end for good: signing out, "end" on
    the security page or an admin's "End sessions" stamp ``ended_at``, and a
    saved copy of the cookie opens nothing afterwards.  Idle and absolute
    lifetimes are checked against ``last_seen_at`` and ``created_at``.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ended_at: Mapped[datetime | None]
    device: Mapped[str] = mapped_column(sa.String(120), default="")  # "Firefox on Windows", from the User-Agent
    address: Mapped[str] = mapped_column(sa.String(64), default="")  # where the sign-in came from
