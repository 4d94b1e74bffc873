"""Notifications about the desk itself (an outbound webhook disabled): the ticket becomes optional

Revision ID: 0023
Revises: 0022
"""

from alembic import op
import sqlalchemy as sa

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=True)


def downgrade():
    op.execute("DELETE FROM notification WHERE ticket_id IS NULL")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=False)
