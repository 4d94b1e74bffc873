"""Orders as the marketplaces report them, linked to customers and tickets.

Order numbers are unique per channel account; tickets find their order by
(platform, order number), since relayed mail may arrive on a mailbox account
while the order came from the store's API account.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.db import Base, utcnow

Money = sa.Numeric(14, 2)


class Order(Base):
    __tablename__ = "order_record"
    __table_args__ = (
        sa.UniqueConstraint("channel_account_id", "order_number"),
        sa.Index("ix_order_record_platform_number", "platform", "order_number"),
        # The inbox search finds a ticket by its order's tracking number; orders not yet shipped have none.
        sa.Index(
            "ix_order_record_tracking",
            "tracking_number",
            sqlite_where=sa.text("tracking_number IS NOT NULL"),
            postgresql_where=sa.text("tracking_number IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(32))
    channel_account_id: Mapped[int] = mapped_column(sa.ForeignKey("channel_account.id"))
    order_number: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(40))
    currency: Mapped[str] = mapped_column(sa.String(3))
    total: Mapped[Decimal] = mapped_column(Money)
    site: Mapped[str | None] = mapped_column(sa.String(16))
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    placed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    shipping_address: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    carrier: Mapped[str | None] = mapped_column(sa.String(80))
    tracking_number: Mapped[str | None] = mapped_column(sa.String(80))
    shipped_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # when the platform last told us about this order (a poll, a push, a refresh)
    synced_at: Mapped[datetime | None]

    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", cascade="all, delete-orphan")


class OrderLine(Base):
    __tablename__ = "order_line"
    __table_args__ = (
        # The inbox search finds the tickets about a product by its SKU.
        sa.Index(
            "ix_order_line_sku",
            "sku",
            sqlite_where=sa.text("sku IS NOT NULL"),
            postgresql_where=sa.text("sku IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("order_record.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str | None] = mapped_column(sa.String(80))
    title: Mapped[str] = mapped_column(sa.String(500))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Money)
    external_id: Mapped[str | None] = mapped_column(sa.String(80))

    order: Mapped[Order] = relationship(back_populates="lines")
