"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from helpdesk.db import Base
from helpdesk.inbox.schema import include_object


def test_migrated_schema_matches_models(app: Any) -> None:
    from helpdesk.extensions import db

    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
        diffs = compare_metadata(ctx, Base.metadata)
    assert diffs == []
