"""New messages are indexed for search by the code that writes them

Revision ID: 0005
Revises: 0004

The SQLite insert trigger of 0003 flushed the FTS5 index once per row (a
trigger body runs in its own savepoint); ``helpdesk.inbox.fts`` now indexes
each batch in one statement.  The update and delete triggers stay.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS message_fts_ai")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER message_fts_ai AFTER INSERT ON message BEGIN "
            "INSERT INTO message_fts(rowid, subject, body_text) VALUES (new.id, new.subject, new.body_text); END"
        )
