"""Outbox rows hold a run of same-named events (a JSON list) instead of one event each

Revision ID: 0016
Revises: 0015

An import batch wrote thousands of rows; now it writes one per event name.
Rows already written become one-event runs, so nothing unrelayed is lost.
"""

from alembic import op
import sqlalchemy as sa

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payloads", sa.JSON(), nullable=True))
    table = sa.table("outbox_event", sa.column("id", sa.Integer), sa.column("payload", sa.JSON), sa.column("payloads", sa.JSON))
    conn = op.get_bind()
    for row in conn.execute(sa.select(table.c.id, table.c.payload)).all():
        conn.execute(table.update().where(table.c.id == row.id).values(payloads=[row.payload]))
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.drop_column("payload")
        batch_op.alter_column("payloads", existing_type=sa.JSON(), nullable=False)


def downgrade():
    # lossy: a run keeps only its first event (the old shape holds one); relay the outbox before going back
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=True))
    table = sa.table("outbox_event", sa.column("id", sa.Integer), sa.column("payload", sa.JSON), sa.column("payloads", sa.JSON))
    conn = op.get_bind()
    for row in conn.execute(sa.select(table.c.id, table.c.payloads)).all():
        conn.execute(table.update().where(table.c.id == row.id).values(payload=(row.payloads or [{}])[0]))
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.drop_column("payloads")
        batch_op.alter_column("payload", existing_type=sa.JSON(), nullable=False)
