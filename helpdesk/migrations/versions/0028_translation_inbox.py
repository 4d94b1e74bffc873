"""Teams may have buyer messages translated automatically; translations are searchable

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

PG_DOCUMENT = "to_tsvector('simple', coalesce(text, ''))"


def upgrade():
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.add_column(sa.Column("auto_translate_to", sa.String(length=16), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # External-content FTS5 index over translated text; a translation is written once or twice
        # (pending, then done), so triggers cost nothing worth measuring and never touch ingest.
        op.execute(
            "CREATE VIRTUAL TABLE message_translation_fts USING fts5("
            "text, content='message_translation', content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER message_translation_fts_ai AFTER INSERT ON message_translation BEGIN "
            "INSERT INTO message_translation_fts(rowid, text) VALUES (new.id, new.text); END"
        )
        op.execute(
            "CREATE TRIGGER message_translation_fts_ad AFTER DELETE ON message_translation BEGIN "
            "INSERT INTO message_translation_fts(message_translation_fts, rowid, text) "
            "VALUES ('delete', old.id, old.text); END"
        )
        op.execute(
            "CREATE TRIGGER message_translation_fts_au AFTER UPDATE OF text ON message_translation BEGIN "
            "INSERT INTO message_translation_fts(message_translation_fts, rowid, text) "
            "VALUES ('delete', old.id, old.text); "
            "INSERT INTO message_translation_fts(rowid, text) VALUES (new.id, new.text); END"
        )
        op.execute("INSERT INTO message_translation_fts(message_translation_fts) VALUES ('rebuild')")
    else:
        op.execute(f"CREATE INDEX ix_message_translation_fts ON message_translation USING gin ({PG_DOCUMENT})")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("message_translation_fts_ai", "message_translation_fts_ad", "message_translation_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS message_translation_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_message_translation_fts")
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_column("auto_translate_to")
