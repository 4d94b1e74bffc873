"""Quarantine entries are keyed by a digest of their raw input, so the same bad input is kept once with a count

Revision ID: 0022
Revises: 0021

Entries filed twice before (a re-import, a retried poll) are folded into the oldest one; its ``seen_count`` says
how many there were.
"""

import hashlib

from alembic import op
import sqlalchemy as sa

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def _digest(raw_format, account, raw):
    h = hashlib.sha256()
    for part in ((raw_format or "").encode(), (account or "").encode(), bytes(raw or b"")):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def upgrade():
    with op.batch_alter_table("quarantined_input", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("seen_count", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    table = sa.table(
        "quarantined_input",
        sa.column("id", sa.Integer()),
        sa.column("raw_format", sa.String()),
        sa.column("account", sa.String()),
        sa.column("raw", sa.LargeBinary()),
        sa.column("digest", sa.String()),
        sa.column("seen_count", sa.Integer()),
        sa.column("created_at", sa.DateTime()),
        sa.column("last_seen_at", sa.DateTime()),
    )
    conn = op.get_bind()
    first: dict[str, int] = {}
    counts: dict[int, int] = {}
    last_seen: dict[int, object] = {}
    doubles: list[int] = []
    rows = conn.execute(
        sa.select(table.c.id, table.c.raw_format, table.c.account, table.c.raw, table.c.created_at).order_by(table.c.id)
    )
    for row_id, raw_format, account, raw, created_at in rows:
        digest = _digest(raw_format, account, raw)
        keep = first.setdefault(digest, row_id)
        if keep == row_id:
            conn.execute(sa.update(table).where(table.c.id == row_id).values(digest=digest))
            counts[keep] = 1
        else:
            doubles.append(row_id)
            counts[keep] += 1
            last_seen[keep] = created_at
    for keep, count in counts.items():
        if count > 1:
            conn.execute(
                sa.update(table).where(table.c.id == keep).values(seen_count=count, last_seen_at=last_seen[keep])
            )
    for start in range(0, len(doubles), 500):
        conn.execute(sa.delete(table).where(table.c.id.in_(doubles[start : start + 500])))
    with op.batch_alter_table("quarantined_input", schema=None) as batch_op:
        batch_op.alter_column("digest", existing_type=sa.String(64), nullable=False)
        batch_op.create_index("ix_quarantined_input_digest", ["digest"], unique=True)


def downgrade():
    with op.batch_alter_table("quarantined_input", schema=None) as batch_op:
        batch_op.drop_index("ix_quarantined_input_digest")
        batch_op.drop_column("last_seen_at")
        batch_op.drop_column("seen_count")
        batch_op.drop_column("digest")
