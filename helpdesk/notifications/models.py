"""Notifications, their unread counts, and who a note mentions.

A notification is one row per person and happening; ``key`` names the
happening (``mention:<message id>``, ``assigned:<ticket id>``,
``sla_warning:<ticket id>:<clock>:<due>``, ``webhook_disabled:<webhook id>:<when>``),
so an event relayed twice gives one notification, and a ticket assigned to someone again after they read the
first notice wakes that same row instead of piling up another.  The unread
count per person is kept in its own row in the same transaction as every
change that moves it: the bell on every page reads one row, never counts.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import Base, utcnow


class NotificationKind(enum.StrEnum):
    MENTION = "mention"
    ASSIGNED = "assigned"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    #: To admins: an outbound webhook was disabled after a day of failures (no ticket; ``data`` names it).
    WEBHOOK_DISABLED = "webhook_disabled"
    #: To admins: a channel account's polls have not succeeded for three intervals (``data`` says why).
    CHANNEL_SILENT = "channel_silent"


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "key"),
        # A person's list, newest first, paged by id.
        sa.Index("ix_notification_user_id_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    key: Mapped[str] = mapped_column(sa.String(200))
    #: The ticket it is about; None for a notice about the desk itself (``kind`` says what, ``data`` which one).
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("message.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class NotificationCount(Base):
    """A person's unread notifications, maintained with every change (``recount`` proves it)."""

    __tablename__ = "notification_count"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    unread: Mapped[int] = mapped_column(default=0)


class Mention(Base):
    """A colleague an internal note @mentions: kept with the note, whoever may see it later."""

    __tablename__ = "message_mention"

    message_id: Mapped[int] = mapped_column(sa.ForeignKey("message.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
