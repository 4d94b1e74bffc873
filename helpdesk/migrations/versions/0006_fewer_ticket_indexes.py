"""Drop ticket indexes that no query needs

Revision ID: 0006
Revises: 0005

Every ticket index is written for each ticket the pipeline creates or
updates.  ``(status, last_message_at)`` had no reader; ``(channel_account_id,
order_number)`` duplicated the single-column order-number index, which is
as selective; ``(status, sla_due_at)`` lost to ``(sla_due_at, id)``, which
the inbox's keyset pagination walks.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

DROPPED = {
    "ix_ticket_status_last_message": ["status", "last_message_at"],
    "ix_ticket_account_order": ["channel_account_id", "order_number"],
    "ix_ticket_status_sla_due": ["status", "sla_due_at"],
}


def upgrade():
    for name in DROPPED:
        op.drop_index(name, table_name="ticket")


def downgrade():
    for name, columns in DROPPED.items():
        op.create_index(name, "ticket", columns, unique=False)


