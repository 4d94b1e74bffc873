"""SLA policies (editable targets) and clocks (one row per measured wait).

A policy row is what an admin edits; the shipped defaults are seeded as rows
with ``is_default`` set so they can be edited like any other.  A clock row
is one wait for an answer (``first_response`` / ``next_response``) or for a
solution (``resolution``); finished clocks stay as history for reports.

``channel_account_id`` and ``platform`` are copied from the ticket and
``elapsed_s`` is written when a clock is answered, so reports read plain
numbers without a join or date parsing.  ``next_check_at`` is the next instant the sweep must look at a clock (its
warning instant, then its due instant) and NULL once nothing can change
without a new event, so the sweep's index range holds only clocks it must
act on, however many open tickets there are.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import Base, utcnow


class ClockKind(enum.StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


RESPONSE_KINDS = (ClockKind.FIRST_RESPONSE, ClockKind.NEXT_RESPONSE)


class SlaPolicy(Base):
    """Targets and calendar for the tickets it matches; the most specific enabled match wins.

    A NULL match field means "any".  Calendar: ``calendar`` is ``24/7``,
    ``business_hours`` or ``business_days``; ``timezone`` and ``hours``
    default to the store's own (channel account timezone and
    ``settings["business_hours"]``); ``holidays`` is ``none``, ``store`` or an
    ISO country code; ``closures`` lists extra closed dates (ISO strings).
    """

    __tablename__ = "sla_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    enabled: Mapped[bool] = mapped_column(default=True)
    is_default: Mapped[bool] = mapped_column(default=False)
    platform: Mapped[str | None] = mapped_column(sa.String(32))
    channel_account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("channel_account.id", ondelete="CASCADE"), index=True
    )
    priority: Mapped[str | None] = mapped_column(sa.String(16))
    thread_kind: Mapped[str | None] = mapped_column(sa.String(32))
    first_response_s: Mapped[int | None]
    next_response_s: Mapped[int | None]
    resolution_s: Mapped[int | None]
    warn_share: Mapped[float] = mapped_column(sa.Float, default=0.75)
    pause_when_pending: Mapped[bool] = mapped_column(default=False)
    calendar: Mapped[str] = mapped_column(sa.String(16), default="24/7")
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    hours: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)
    holidays: Mapped[str] = mapped_column(sa.String(16), default="none")
    closures: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    confidence: Mapped[str | None] = mapped_column(sa.String(16))
    source_note: Mapped[str] = mapped_column(sa.Text, default="")
    escalation: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlaClock(Base):
    __tablename__ = "sla_clock"
    __table_args__ = (
        sa.Index("ix_sla_clock_ticket_kind", "ticket_id", "kind"),
        sa.Index("ix_sla_clock_next_check", "next_check_at"),
        sa.Index("ix_sla_clock_started", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("ticket.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    # copied from the ticket (they never change) so reports by platform or store need no join
    channel_account_id: Mapped[int] = mapped_column(sa.ForeignKey("channel_account.id", ondelete="CASCADE"))
    platform: Mapped[str | None] = mapped_column(sa.String(32))
    policy_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sla_policy.id", ondelete="SET NULL"))
    message_id: Mapped[int | None]
    started_at: Mapped[datetime]
    target_s: Mapped[int]
    warn_share: Mapped[float] = mapped_column(sa.Float)
    due_at: Mapped[datetime]
    warning_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(16))
    paused_at: Mapped[datetime | None]
    paused_total_s: Mapped[float] = mapped_column(sa.Float, default=0.0)
    remaining_s: Mapped[float | None] = mapped_column(sa.Float)
    breached_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    warned_at: Mapped[datetime | None]
    next_check_at: Mapped[datetime | None]
    elapsed_s: Mapped[float | None] = mapped_column(sa.Float)
    """Wall-clock seconds from start to answer, set when an answer stops the clock (for percentiles)."""
