"""Inbox search by tracking number and SKU

Revision ID: 0015
Revises: 0014

Partial indexes: orders without a tracking number (not shipped yet) and
lines without a SKU are never searched for, so they cost nothing.
"""

from alembic import op
import sqlalchemy as sa

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_order_record_tracking",
        "order_record",
        ["tracking_number"],
        sqlite_where=sa.text("tracking_number IS NOT NULL"),
        postgresql_where=sa.text("tracking_number IS NOT NULL"),
    )
    op.create_index(
        "ix_order_line_sku",
        "order_line",
        ["sku"],
        sqlite_where=sa.text("sku IS NOT NULL"),
        postgresql_where=sa.text("sku IS NOT NULL"),
    )


def downgrade():
    op.drop_index("ix_order_line_sku", table_name="order_line")
    op.drop_index("ix_order_record_tracking", table_name="order_record")
