"""Users (agents, leads, admins) and teams.

An agent sees the channel accounts (stores, mailboxes) of the teams they
belong to; leads and admins see everything.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.db import Base, utcnow


class Role(enum.StrEnum):
    AGENT = "agent"
    LEAD = "lead"
    ADMIN = "admin"


team_members = sa.Table(
    "team_member",
    Base.metadata,
    sa.Column("team_id", sa.ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
)

team_channel_accounts = sa.Table(
    "team_channel_account",
    Base.metadata,
    sa.Column("team_id", sa.ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("channel_account_id", sa.ForeignKey("channel_account.id", ondelete="CASCADE"), primary_key=True),
)


class Team(Base):
    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Buyer messages of the team's stores are translated into this language as they arrive; None is off.
    auto_translate_to: Mapped[str | None] = mapped_column(sa.String(16))

    members: Mapped[list[User]] = relationship(secondary=team_members, back_populates="teams")


class User(UserMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16), default=Role.AGENT)
    locale: Mapped[str] = mapped_column(sa.String(16), default="en")
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]  # shown to admins; None until the first sign-in after it was added
    # Part of the session id (see ``get_id``): raising it ends every session the user has.
    session_epoch: Mapped[int] = mapped_column(default=0)
    totp_secret: Mapped[str | None] = mapped_column(sa.String(255))  # sealed with the app's encryption key
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]  # the last accepted code's time step: a code works once
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    teams: Mapped[list[Team]] = relationship(secondary=team_members, back_populates="members")

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.active

    def get_id(self) -> str:
        """The session's user id, ``"<id>:<epoch>"``: sessions made before the epoch last rose no longer load."""
        return f"{self.id}:{self.session_epoch}"

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def sees_everything(self) -> bool:
        return self.role in {Role.LEAD, Role.ADMIN}
