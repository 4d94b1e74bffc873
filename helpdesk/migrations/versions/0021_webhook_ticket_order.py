"""Webhook deliveries name their ticket, so an endpoint receives one ticket's events in order

Revision ID: 0021
Revises: 0020

Deliveries still on their way are given their ticket from the payload; delivered ones stay without (they are
past ordering).
"""

from alembic import op
import sqlalchemy as sa

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_webhook_delivery_subscription_id_ticket_id_id", ["subscription_id", "ticket_id", "id"], unique=False
        )
    delivery = sa.table(
        "webhook_delivery",
        sa.column("id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("payload", sa.JSON()),
        sa.column("ticket_id", sa.Integer()),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(delivery.c.id, delivery.c.payload).where(delivery.c.status != "delivered")).all()
    for row_id, payload in rows:
        ticket_id = (payload or {}).get("ticket_id") if isinstance(payload, dict) else None
        if isinstance(ticket_id, int) and not isinstance(ticket_id, bool):
            conn.execute(sa.update(delivery).where(delivery.c.id == row_id).values(ticket_id=ticket_id))


def downgrade():
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_delivery_subscription_id_ticket_id_id")
        batch_op.drop_column("ticket_id")
