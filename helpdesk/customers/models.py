"""One shared customer record per buyer, keyed by exact identities.

A buyer reaches the seller through many doors — an eBay user name, an Amazon
relay alias, a real e-mail address, a phone number.  Each door is a
``CustomerIdentity`` (scheme + normalised value, unique), so a message with a
known key always lands on the same customer; fuzzy look-alikes are only
*suggested* for merging (``MergeSuggestion``), never merged silently.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.db import Base, utcnow


class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(sa.String(200), default="")
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)  # the search's exact step
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    country: Mapped[str | None] = mapped_column(sa.String(2))
    language: Mapped[str | None] = mapped_column(sa.String(16))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customer.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    identities: Mapped[list[CustomerIdentity]] = relationship(back_populates="customer")


class CustomerIdentity(Base):
    """One exact key of a customer: ``scheme`` is email, phone or a platform name."""

    __tablename__ = "customer_identity"
    __table_args__ = (sa.UniqueConstraint("scheme", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    scheme: Mapped[str] = mapped_column(sa.String(32))
    value: Mapped[str] = mapped_column(sa.String(254), index=True)  # looked up without its scheme by search
    display_name: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="identities")


class MergeSuggestion(Base):
    """A fuzzy look-alike for an agent to confirm or dismiss."""

    __tablename__ = "customer_merge_suggestion"
    __table_args__ = (sa.UniqueConstraint("customer_id", "candidate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    score: Mapped[float]
    reason: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
