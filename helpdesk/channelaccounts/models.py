"""A channel account: one mailbox or one store on one marketplace.

Credentials are never stored: ``secret_refs`` maps a secret's role
("password", "refresh_token", …) to the *name of an environment variable*
that holds it.  The polling cursor lives here and is written in the same
transaction as the messages it covers.
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
