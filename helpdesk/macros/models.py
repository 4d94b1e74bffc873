"""Macros leads write (or override) in the helpdesk, how agents use them, and rule overrides.

A stored macro has the shape of a shipped file (``macros/library.py``): per
locale titles, descriptions and bodies, tags, platforms, actions.  A row
whose key is a shipped macro's *overrides* it (the file itself is never
edited); retiring hides a macro from agents without losing its history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import Base, utcnow


class StoredMacro(Base):
    __tablename__ = "macro"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    source: Mapped[str] = mapped_column(sa.String(16), default="custom")  # custom or override
    titles: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    descriptions: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    bodies: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    platforms: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    actions: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    retired: Mapped[bool] = mapped_column(default=False)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MacroUsage(Base):
    """One use of a macro in a sent reply: the usage report and each agent's most used."""

    __tablename__ = "macro_usage"
    __table_args__ = (sa.Index("ix_macro_usage_key_at", "macro_key", "used_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    macro_key: Mapped[str] = mapped_column(sa.String(80))
    locale: Mapped[str] = mapped_column(sa.String(16))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ticket.id", ondelete="SET NULL"))
    used_at: Mapped[datetime] = mapped_column(default=utcnow)


class MacroFavourite(Base):
    __tablename__ = "macro_favourite"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    macro_key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)


class PolicyOverride(Base):
    """A reply a lead sent although it broke a marketplace rule, with the reason they gave."""

    __tablename__ = "policy_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ticket.id", ondelete="SET NULL"), index=True)
    message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("message.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    platform: Mapped[str | None] = mapped_column(sa.String(32))
    rules: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    reason: Mapped[str] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
