"""Customer names searchable by word and word prefix, so the fuzzy customer search reads a bounded candidate set

Revision ID: 0025
Revises: 0024

SQLite: an external-content FTS5 table over ``customer.display_name`` with a
3-letter prefix index, kept current by triggers (names are short and written
once per new buyer, unlike message bodies, which the writer indexes itself).
PostgreSQL: a GIN index over ``to_tsvector('simple', display_name)``.  A
later batch migration that rebuilds ``customer`` on SQLite must recreate the
triggers (see ``helpdesk.customers.search``).
"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

PG_DOCUMENT = "to_tsvector('simple', display_name)"
TRIGGERS = ("customer_name_fts_ai", "customer_name_fts_ad", "customer_name_fts_au")


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE customer_name_fts USING fts5(display_name, content='customer', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='3')"
        )
        op.execute(
            "CREATE TRIGGER customer_name_fts_ai AFTER INSERT ON customer BEGIN "
            "INSERT INTO customer_name_fts(rowid, display_name) VALUES (new.id, new.display_name); END"
        )
        op.execute(
            "CREATE TRIGGER customer_name_fts_ad AFTER DELETE ON customer BEGIN "
            "INSERT INTO customer_name_fts(customer_name_fts, rowid, display_name) "
            "VALUES ('delete', old.id, old.display_name); END"
        )
        op.execute(
            "CREATE TRIGGER customer_name_fts_au AFTER UPDATE OF display_name ON customer BEGIN "
            "INSERT INTO customer_name_fts(customer_name_fts, rowid, display_name) "
            "VALUES ('delete', old.id, old.display_name); "
            "INSERT INTO customer_name_fts(rowid, display_name) VALUES (new.id, new.display_name); END"
        )
        op.execute("INSERT INTO customer_name_fts(customer_name_fts) VALUES ('rebuild')")
    else:
        op.execute(f"CREATE INDEX ix_customer_name_words ON customer USING gin ({PG_DOCUMENT})")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for trigger in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS customer_name_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_customer_name_words")
