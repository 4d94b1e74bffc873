"""Idempotent responses: the first answer to a signed ticket delivery, per account and Idempotency-Key

Revision ID: 0020
Revises: 0019
"""

from alembic import op
import sqlalchemy as sa

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "idempotent_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["channel_account.id"],
            name=op.f("fk_idempotent_response_account_id_channel_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotent_response")),
        sa.UniqueConstraint("account_id", "key", name=op.f("uq_idempotent_response_account_id_key")),
    )
    op.create_index(op.f("ix_idempotent_response_created_at"), "idempotent_response", ["created_at"])


def downgrade():
    op.drop_index(op.f("ix_idempotent_response_created_at"), table_name="idempotent_response")
    op.drop_table("idempotent_response")
