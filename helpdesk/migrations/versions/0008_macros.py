"""Macros: reply templates in many languages, their use, favourites, rule overrides

Revision ID: 0008
Revises: 0007

Each reply template becomes a custom macro with one locale (its language,
or English when it had none), titled by its old name; the old table goes.
"""

import re
import unicodedata

from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _key(name, taken, fallback):
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    key = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:70] or fallback
    candidate, n = key, 2
    while candidate in taken:
        candidate, n = f"{key}-{n}", n + 1
    taken.add(candidate)
    return candidate


def upgrade():
    macro = op.create_table(
        "macro",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("titles", sa.JSON(), nullable=False),
        sa.Column("descriptions", sa.JSON(), nullable=False),
        sa.Column("bodies", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("platforms", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["user_account.id"], name=op.f("fk_macro_updated_by_id_user_account"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_macro")),
        sa.UniqueConstraint("key", name=op.f("uq_macro_key")),
    )
    op.create_table(
        "macro_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("macro_key", sa.String(length=80), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_macro_usage_ticket_id_ticket"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_macro_usage_user_id_user_account"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_macro_usage")),
    )
    op.create_index("ix_macro_usage_key_at", "macro_usage", ["macro_key", "used_at"])
    op.create_index(op.f("ix_macro_usage_user_id"), "macro_usage", ["user_id"])
    op.create_table(
        "macro_favourite",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("macro_key", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_macro_favourite_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "macro_key", name=op.f("pk_macro_favourite")),
    )
    op.create_table(
        "policy_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=32), nullable=True),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_policy_override_message_id_message"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_policy_override_ticket_id_ticket"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_policy_override_user_id_user_account"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_override")),
    )
    op.create_index(op.f("ix_policy_override_at"), "policy_override", ["at"])
    op.create_index(op.f("ix_policy_override_ticket_id"), "policy_override", ["ticket_id"])

    conn = op.get_bind()
    old = sa.table(
        "reply_template",
        sa.column("id", sa.Integer()),
        sa.column("name", sa.String()),
        sa.column("body", sa.Text()),
        sa.column("language", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),  # typed, so SQLite's text comes back a datetime
    )
    templates = conn.execute(sa.select(old.c.id, old.c.name, old.c.body, old.c.language, old.c.created_at).order_by(old.c.id))
    taken = set()
    rows = []
    for template_id, name, body, language, created_at in templates:
        locale = (language or "en").replace("-", "_")
        rows.append(
            {
                "key": _key(name, taken, f"template-{template_id}"),
                "source": "custom",
                "titles": {locale: name},
                "descriptions": {},
                "bodies": {locale: body},
                "tags": [],
                "platforms": [],
                "actions": {},
                "retired": False,
                "updated_by_id": None,
                "created_at": created_at,
                "updated_at": created_at,
            }
        )
    if rows:
        op.bulk_insert(macro, rows)
    op.drop_table("reply_template")


def downgrade():
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
    op.drop_index(op.f("ix_policy_override_ticket_id"), table_name="policy_override")
    op.drop_index(op.f("ix_policy_override_at"), table_name="policy_override")
    op.drop_table("policy_override")
    op.drop_table("macro_favourite")
    op.drop_index(op.f("ix_macro_usage_user_id"), table_name="macro_usage")
    op.drop_index("ix_macro_usage_key_at", table_name="macro_usage")
    op.drop_table("macro_usage")
    op.drop_table("macro")
