"""Webhook subscriptions and the record of every delivery attempt.

A subscription names the events it wants (``["*"]`` for all) and the
*environment variable* that holds its signing secret; the secret itself is
never stored.  Each event sent becomes a ``WebhookDelivery`` row, so an
admin can see what went out, what failed and why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import Base, utcnow


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    url: Mapped[str] = mapped_column(sa.String(500))
    secret_env: Mapped[str] = mapped_column(sa.String(120))
    events: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the current run of failed attempts began; None after any success.
    failing_since: Mapped[datetime | None]
    #: Set when the desk disabled the endpoint for failing 24 h; cleared when an admin enables it.
    auto_disabled_at: Mapped[datetime | None]

    def wants(self, event: str) -> bool:
        return "*" in self.events or event in self.events


class WebhookDelivery(Base):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        # "Is an older delivery of this ticket's events still on its way to this endpoint?", asked before each POST.
        sa.Index("ix_webhook_delivery_subscription_id_ticket_id_id", "subscription_id", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_subscription.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    #: The ticket the event is about (copied from the payload, no foreign key: the log outlives tickets).
    #: An endpoint receives one ticket's events in order; None for events about no ticket, which are unordered.
    ticket_id: Mapped[int | None]
    #: pending, waiting (behind an older delivery of its ticket to this endpoint), delivered, failed
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    response_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    #: When the automatic retry is due; None once delivered or given up.
    next_attempt_at: Mapped[datetime | None]


class WebhookAttempt(Base):
    """One POST of a delivery (or one refusal to POST): what an admin reads when a receiver says it got nothing.

    The delivery row keeps only the latest outcome; the attempts keep each
    one, so a receiver that answered 500 twice and then timed out shows that.
    """

    __tablename__ = "webhook_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_delivery.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    response_status: Mapped[int | None]
    latency_ms: Mapped[int | None]
    response_excerpt: Mapped[str | None] = mapped_column(sa.Text)
    error: Mapped[str | None] = mapped_column(sa.Text)
