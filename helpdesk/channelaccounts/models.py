"""A channel account: one mailbox or one store on one marketplace.

Secrets live in one of two places, per secret: ``secret_refs`` maps a role
("password", "refresh_token", …) to the *name of an environment variable*
that holds it, and ``secrets_sealed`` holds values encrypted at rest
(Fernet; see :mod:`helpdesk.crypto`) — what the admin page stores, and where
rotated tokens are written back.  A sealed value wins over a reference.
The polling cursor lives here and is written in the same transaction as
the records it covers.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import Base, utcnow


class Health(enum.StrEnum):
    UNKNOWN = "unknown"
    OK = "ok"
    DEGRADED = "degraded"
    FAILING = "failing"


class ChannelAccount(Base):
    __tablename__ = "channel_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    platform: Mapped[str | None] = mapped_column(sa.String(32))
    display_name: Mapped[str] = mapped_column(sa.String(200))
    site: Mapped[str | None] = mapped_column(sa.String(16))
    default_language: Mapped[str | None] = mapped_column(sa.String(16))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    base_url: Mapped[str | None] = mapped_column(sa.String(500))
    settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    secret_refs: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    cursor: Mapped[str | None] = mapped_column(sa.Text)
    cursor_updated_at: Mapped[datetime | None]
    health: Mapped[str] = mapped_column(sa.String(16), default=Health.UNKNOWN)
    health_detail: Mapped[str | None] = mapped_column(sa.Text)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    last_polled_at: Mapped[datetime | None]
    next_poll_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    secrets_sealed: Mapped[str | None] = mapped_column(sa.Text)
    poll_interval_s: Mapped[int | None]
    last_success_at: Mapped[datetime | None]
    last_error_at: Mapped[datetime | None]
    # stream → {"code": …, "detail": …}: what blocks one stream while the others flow
    problems: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    auth_expires_at: Mapped[datetime | None]


class ChannelActivity(Base):
    """Records received per account and hour: the channels page's "last 24 h" without scanning messages."""

    __tablename__ = "channel_activity"

    channel_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("channel_account.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    messages: Mapped[int] = mapped_column(default=0)
    orders: Mapped[int] = mapped_column(default=0)


class PushReceipt(Base):
    """A platform notification we accepted, by its delivery id: each is acted on once."""

    __tablename__ = "push_receipt"
    __table_args__ = (sa.UniqueConstraint("kind", "dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    dedupe_key: Mapped[str] = mapped_column(sa.String(255))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class IdempotentResponse(Base):
    """The first answer to a signed delivery with an ``Idempotency-Key``: a retry gets it again, nothing more.

    Unique per account and key, recorded in the transaction that did the work
    (under the ingest write lock), so two copies of one delivery make one
    ticket, and a delivery that failed left no answer to refuse its retry with.
    """

    __tablename__ = "idempotent_response"
    __table_args__ = (sa.UniqueConstraint("account_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("channel_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(255))
    status: Mapped[int] = mapped_column(default=0)
    body: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
