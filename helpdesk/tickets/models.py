"""Tickets, their messages and attachments.

A ticket is one conversation with one customer on one channel account,
optionally about one order.  Messages are unique per (channel account,
external id): that constraint, not any cursor, is what makes every ingest
idempotent.  Attachment bytes are stored once per content hash.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.db import Base, utcnow


class TicketStatus(enum.StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    SOLVED = "solved"
    CLOSED = "closed"


OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class DeliveryState(enum.StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Ticket(Base):
    __tablename__ = "ticket"
    __table_args__ = (
        # Every index here is paid for by each ticket written at ingest; each one has a reader.
        # Threading by the platform's thread id.
        sa.Index("ix_ticket_thread", "channel_account_id", "external_thread_id"),
        # A customer's tickets (customer page, merges, the ticket sidebar); order numbers are looked
        # up through the single-column index on order_number, which is as selective as any pair.
        sa.Index("ix_ticket_customer_order", "customer_id", "order_number"),
        # The inbox's keyset pagination: SLA due (default sort) and creation time, each with id as tie-break.
        sa.Index("ix_ticket_sla_due_id", "sla_due_at", "id"),
        sa.Index("ix_ticket_created_id", "created_at", "id"),
        # Covers the inbox's view counts, so they come from an index-only scan.
        sa.Index("ix_ticket_inbox_counts", "status", "channel_account_id", "platform", "sla_state", "assignee_id"),
        # The productivity report's solved tickets of a period; partial, so tickets written at ingest
        # (never solved yet) cost it nothing.
        sa.Index(
            "ix_ticket_solved",
            "solved_at",
            sqlite_where=sa.text("solved_at IS NOT NULL"),
            postgresql_where=sa.text("solved_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(500), default="")
    status: Mapped[str] = mapped_column(sa.String(16), default=TicketStatus.NEW)
    priority: Mapped[str] = mapped_column(sa.String(16), default=Priority.NORMAL)
    channel_account_id: Mapped[int] = mapped_column(sa.ForeignKey("channel_account.id"))
    platform: Mapped[str | None] = mapped_column(sa.String(32))
    site: Mapped[str | None] = mapped_column(sa.String(16))
    language: Mapped[str | None] = mapped_column(sa.String(16))
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id"))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("order_record.id"), index=True)
    order_number: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("team.id"), index=True)
    external_thread_id: Mapped[str | None] = mapped_column(sa.String(255))
    followup_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ticket.id"))
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ticket.id"))
    message_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_inbound_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    solved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Denormalised from the SLA clocks so the inbox can sort and filter by index:
    # the earliest due instant of any running clock, and ok / warning / breached.
    sla_due_at: Mapped[datetime | None]
    sla_state: Mapped[str | None] = mapped_column(sa.String(16))

    messages: Mapped[list[Message]] = relationship(back_populates="ticket", order_by="Message.sent_at")
    tags: Mapped[list[TicketTag]] = relationship(cascade="all, delete-orphan")

    @property
    def tag_names(self) -> list[str]:
        return sorted(t.tag for t in self.tags)


class TicketTag(Base):
    __tablename__ = "ticket_tag"

    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(sa.String(64), primary_key=True, index=True)


class Message(Base):
    __tablename__ = "message"
    __table_args__ = (
        sa.UniqueConstraint("channel_account_id", "external_id"),
        sa.Index("ix_message_ticket_sent", "ticket_id", "sent_at"),
        # Agents' messages of a period (productivity report); partial, so buyers' messages never enter it.
        sa.Index(
            "ix_message_agent_sent",
            "sent_at",
            "author_user_id",
            sqlite_where=sa.text("author_user_id IS NOT NULL"),
            postgresql_where=sa.text("author_user_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("ticket.id", ondelete="CASCADE"))
    channel_account_id: Mapped[int] = mapped_column(sa.ForeignKey("channel_account.id"))
    external_id: Mapped[str | None] = mapped_column(sa.String(255))
    direction: Mapped[str] = mapped_column(sa.String(3))
    is_internal: Mapped[bool] = mapped_column(default=False)
    auto: Mapped[str | None] = mapped_column(sa.String(16))
    author_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customer.id"))
    author_name: Mapped[str] = mapped_column(sa.String(200), default="")
    subject: Mapped[str] = mapped_column(sa.String(500), default="")
    body_text: Mapped[str] = mapped_column(sa.Text, default="")
    stripped_text: Mapped[str | None] = mapped_column(sa.Text)
    # Buyer HTML exactly as received. It is sanitised where it is shown (the ``clean_html`` filter),
    # never trusted as stored: the allow-list can then tighten without rewriting old rows.
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    language: Mapped[str | None] = mapped_column(sa.String(16))
    in_reply_to: Mapped[str | None] = mapped_column(sa.String(255))
    references: Mapped[str | None] = mapped_column(sa.Text)
    meta: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    sent_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivery_state: Mapped[str] = mapped_column(sa.String(16), default=DeliveryState.RECEIVED)
    delivery_error: Mapped[str | None] = mapped_column(sa.Text)
    delivery_attempts: Mapped[int] = mapped_column(default=0)
    original_sha256: Mapped[str | None] = mapped_column(sa.ForeignKey("attachment_blob.sha256"))

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    attachments: Mapped[list[Attachment]] = relationship(back_populates="message", cascade="all, delete-orphan")

    @property
    def display_text(self) -> str:
        """The new text without quoted history, for the conversation view."""
        return self.stripped_text if self.stripped_text is not None else self.body_text


class AttachmentBlob(Base):
    """Attachment bytes, stored once per SHA-256: in the row or on disk."""

    __tablename__ = "attachment_blob"

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    size: Mapped[int]
    data: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attachment(Base):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("message.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(sa.ForeignKey("attachment_blob.sha256"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(127))
    size: Mapped[int]
    inline: Mapped[bool] = mapped_column(default=False)
    content_id: Mapped[str | None] = mapped_column(sa.String(255))

    message: Mapped[Message] = relationship(back_populates="attachments")
