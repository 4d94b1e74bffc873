"""Message translations know when their job is due, so a job lost in a crash is queued again

Revision ID: 0027
Revises: 0026
"""

from alembic import op
import sqlalchemy as sa

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("message_translation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE message_translation SET next_attempt_at = updated_at WHERE status = 'pending'")
    op.create_index(
        "ix_message_translation_next_attempt_at",
        "message_translation",
        ["next_attempt_at"],
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade():
    op.drop_index("ix_message_translation_next_attempt_at", table_name="message_translation")
    with op.batch_alter_table("message_translation", schema=None) as batch_op:
        batch_op.drop_column("next_attempt_at")
