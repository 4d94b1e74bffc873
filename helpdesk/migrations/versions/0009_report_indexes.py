"""Productivity report indexes: solved tickets and agents' messages of a period

Revision ID: 0009
Revises: 0008

Both are partial: tickets are written unsolved at ingest and buyers'
messages have no author, so the busiest writes never touch them.
"""

from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_ticket_solved",
        "ticket",
        ["solved_at"],
        sqlite_where=sa.text("solved_at IS NOT NULL"),
        postgresql_where=sa.text("solved_at IS NOT NULL"),
    )
    op.create_index(
        "ix_message_agent_sent",
        "message",
        ["sent_at", "author_user_id"],
        sqlite_where=sa.text("author_user_id IS NOT NULL"),
        postgresql_where=sa.text("author_user_id IS NOT NULL"),
    )


def downgrade():
    op.drop_index("ix_message_agent_sent", table_name="message")
    op.drop_index("ix_ticket_solved", table_name="ticket")
