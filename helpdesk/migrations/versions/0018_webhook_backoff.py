"""Webhook back-off and auto-disable: when an endpoint started failing, when it was disabled, when a retry is due

Revision ID: 0018
Revises: 0017

All three start empty: existing endpoints count as healthy until their next failure.
"""

from alembic import op
import sqlalchemy as sa

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("webhook_subscription", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("auto_disabled_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_column("next_attempt_at")
    with op.batch_alter_table("webhook_subscription", schema=None) as batch_op:
        batch_op.drop_column("auto_disabled_at")
        batch_op.drop_column("failing_since")
