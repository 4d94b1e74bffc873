"""Customer e-mail and identity values indexed: the search's exact step looks both up on every search

Both were read by a full scan (the identity key's unique index leads with its scheme, which the search
does not know), so an exact look-up cost grew with the number of customers.

Revision ID: 0029
Revises: 0028
"""

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_customer_email", "customer", ["email"], unique=False)
    op.create_index("ix_customer_identity_value", "customer_identity", ["value"], unique=False)


def downgrade():
    op.drop_index("ix_customer_identity_value", table_name="customer_identity")
    op.drop_index("ix_customer_email", table_name="customer")
