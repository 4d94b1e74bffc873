"""API token scopes, expiry and the address of the last use

Revision ID: 0019
Revises: 0018

Existing tokens get the "write" scope: they could change things before, and an integration must not break on upgrade.
"""

from alembic import op
import sqlalchemy as sa

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scope", sa.String(length=8), server_default="write", nullable=False))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_used_address", sa.String(length=45), nullable=True))


def downgrade():
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("last_used_address")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("scope")
