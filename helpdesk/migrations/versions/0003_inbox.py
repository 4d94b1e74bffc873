"""inbox search and views

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PG_DOCUMENT = "to_tsvector('simple', coalesce(subject, '') || ' ' || coalesce(body_text, ''))"


def upgrade():
    op.create_table(
        "reply_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_template")),
        sa.UniqueConstraint("name", name=op.f("uq_reply_template_name")),
    )
    op.create_index("ix_ticket_sla_due_id", "ticket", ["sla_due_at", "id"], unique=False)
    op.create_index("ix_ticket_created_id", "ticket", ["created_at", "id"], unique=False)
    op.create_index(
        "ix_ticket_inbox_counts",
        "ticket",
        ["status", "channel_account_id", "platform", "sla_state", "assignee_id"],
        unique=False,
    )

    if op.get_bind().dialect.name == "sqlite":
        # External-content FTS5 index over message subject and text, kept current by triggers.
        op.execute(
            "CREATE VIRTUAL TABLE message_fts USING fts5("
            "subject, body_text, content='message', content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER message_fts_ai AFTER INSERT ON message BEGIN "
            "INSERT INTO message_fts(rowid, subject, body_text) VALUES (new.id, new.subject, new.body_text); END"
        )
        op.execute(
            "CREATE TRIGGER message_fts_ad AFTER DELETE ON message BEGIN "
            "INSERT INTO message_fts(message_fts, rowid, subject, body_text) "
            "VALUES ('delete', old.id, old.subject, old.body_text); END"
        )
        op.execute(
            "CREATE TRIGGER message_fts_au AFTER UPDATE OF subject, body_text ON message BEGIN "
            "INSERT INTO message_fts(message_fts, rowid, subject, body_text) "
            "VALUES ('delete', old.id, old.subject, old.body_text); "
            "INSERT INTO message_fts(rowid, subject, body_text) VALUES (new.id, new.subject, new.body_text); END"
        )
        op.execute("INSERT INTO message_fts(message_fts) VALUES ('rebuild')")
    else:
        op.execute(f"CREATE INDEX ix_message_fts ON message USING gin ({PG_DOCUMENT})")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("message_fts_ai", "message_fts_ad", "message_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS message_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_message_fts")
    op.drop_index("ix_ticket_inbox_counts", table_name="ticket")
    op.drop_index("ix_ticket_created_id", table_name="ticket")
    op.drop_index("ix_ticket_sla_due_id", table_name="ticket")
    op.drop_table("reply_template")
