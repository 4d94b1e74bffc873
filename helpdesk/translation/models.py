"""What the desk keeps about translation: provider settings, monthly counters, glossaries, cached translations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import Base, utcnow


class TranslationStatus:
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class TranslationProvider(Base):
    """One configured service; at most one is active (the one translations go to)."""

    __tablename__ = "translation_provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32), unique=True)
    base_url: Mapped[str] = mapped_column(sa.String(500), default="")
    model: Mapped[str] = mapped_column(sa.String(200), default="")
    #: The API key, sealed like connector credentials (helpdesk.crypto); never shown back.
    secrets_sealed: Mapped[str | None] = mapped_column(sa.Text)
    #: Characters a month the desk may send to this provider; None is no cap.
    monthly_char_cap: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=False)
    #: What the provider keeps between calls (DeepL glossary ids), written back after each call.
    state: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_check_at: Mapped[datetime | None]
    last_check_ok: Mapped[bool | None]
    last_check_detail: Mapped[str | None] = mapped_column(sa.Text)


class TranslationUsage(Base):
    """Characters sent to one provider in one calendar month (UTC), kept as they are sent."""

    __tablename__ = "translation_usage"
    __table_args__ = (sa.UniqueConstraint("provider", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(32))
    month: Mapped[str] = mapped_column(sa.String(7))  # "2026-12"
    characters: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    requests: Mapped[int] = mapped_column(default=0)


class GlossaryTerm(Base):
    """A brand or product name of one store that no translation may change."""

    __tablename__ = "translation_glossary_term"
    __table_args__ = (sa.UniqueConstraint("channel_account_id", "term"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_account_id: Mapped[int] = mapped_column(sa.ForeignKey("channel_account.id", ondelete="CASCADE"))
    term: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessageTranslation(Base):
    """A stored message in another language, by one provider; the message itself is never changed."""

    __tablename__ = "message_translation"
    __table_args__ = (
        sa.UniqueConstraint("message_id", "target", "provider"),
        # the sweep that queues again a job lost in a crash reads only pending rows
        sa.Index(
            "ix_message_translation_next_attempt_at",
            "next_attempt_at",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("message.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(sa.String(16))
    provider: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(16), default=TranslationStatus.PENDING)
    text: Mapped[str | None] = mapped_column(sa.Text)
    source_language: Mapped[str | None] = mapped_column(sa.String(16))
    #: Protected spans the provider lost (the UI warns beside the translation).
    missing: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: Why the last attempt failed: the error class's kind (rate_limited, unreachable…), shown in the agent's
    #: language by services.explain_kind; ``error`` keeps the service's own words.
    error_kind: Mapped[str | None] = mapped_column(sa.String(32))
    error: Mapped[str | None] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(default=0)
    #: When the job of a pending row is due (now, or after a back-off); None once done or failed.
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
