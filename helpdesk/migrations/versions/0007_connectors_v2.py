"""Connector contract v2: sealed secrets, account health, activity, push receipts, leases, order sync time

Revision ID: 0007
Revises: 0006

Accounts keep secrets encrypted at rest (``secrets_sealed``) beside the
environment-variable references they had, and the health the channels page
shows (last success, last error, blocked streams, when the grant ends).
``channel_activity`` counts records per account and hour; ``push_receipt``
accepts each platform notification once; ``lease`` holds expiring locks
(token refreshes of one account are serialised across processes);
``order_record.synced_at`` says how fresh an order is.
"""

from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("channel_account") as batch:
        batch.add_column(sa.Column("secrets_sealed", sa.Text(), nullable=True))
        batch.add_column(sa.Column("poll_interval_s", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("problems", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("auth_expires_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("order_record") as batch:
        batch.add_column(sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("quarantined_input") as batch:  # connector formats are named "<kind>.<record>"
        batch.alter_column("raw_format", type_=sa.String(length=40), existing_type=sa.String(length=16))
    op.create_table(
        "channel_activity",
        sa.Column("channel_account_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_account_id"],
            ["channel_account.id"],
            name=op.f("fk_channel_activity_channel_account_id_channel_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_account_id", "hour", name=op.f("pk_channel_activity")),
    )
    op.create_table(
        "push_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_receipt")),
        sa.UniqueConstraint("kind", "dedupe_key", name=op.f("uq_push_receipt_kind_dedupe_key")),
    )
    op.create_index(op.f("ix_push_receipt_received_at"), "push_receipt", ["received_at"])
    op.create_table(
        "lease",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_lease")),
    )


def downgrade():
    op.drop_table("lease")
    op.drop_index(op.f("ix_push_receipt_received_at"), table_name="push_receipt")
    op.drop_table("push_receipt")
    op.drop_table("channel_activity")
    with op.batch_alter_table("quarantined_input") as batch:
        batch.alter_column("raw_format", type_=sa.String(length=16), existing_type=sa.String(length=40))
    with op.batch_alter_table("order_record") as batch:
        batch.drop_column("synced_at")
    with op.batch_alter_table("channel_account") as batch:
        for column in ("auth_expires_at", "problems", "last_error_at", "last_success_at", "poll_interval_s"):
            batch.drop_column(column)
        batch.drop_column("secrets_sealed")
