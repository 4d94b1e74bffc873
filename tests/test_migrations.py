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


def test_a_desk_with_users_in_teams_upgrades_to_head(tmp_path: Any) -> None:
    """Upgrading rebuilds tables on SQLite (batch mode); rows that point at them must survive it."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from helpdesk import create_app
    from helpdesk.extensions import db
    from tests.conftest import REPO, _env

    app = create_app(_env(f"sqlite:///{tmp_path / 'old.db'}"), instance_path=tmp_path)
    with app.app_context():
        upgrade(directory=str(REPO / "helpdesk" / "migrations"), revision="0008")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO user_account (id, email, name, password_hash, role, locale, timezone, active,"
                    " failed_logins, created_at) VALUES (1, 'li@example.com', 'Li', 'x', 'agent', 'zh_Hans', 'UTC',"
                    " 1, 2, '2026-01-01 00:00:00')"
                )
            )
            conn.execute(sa.text("INSERT INTO team (id, name, created_at) VALUES (1, 'EU', '2026-01-01 00:00:00')"))
            conn.execute(sa.text("INSERT INTO team_member (team_id, user_id) VALUES (1, 1)"))

        upgrade(directory=str(REPO / "helpdesk" / "migrations"))

        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT email, locale FROM user_account")).all() == [
                ("li@example.com", "zh_Hans")
            ]
            assert conn.execute(sa.text("SELECT team_id, user_id FROM team_member")).all() == [(1, 1)]
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # enforcement back on afterwards
        db.engine.dispose()


def test_quarantine_entries_filed_twice_before_are_folded_into_one(tmp_path: Any) -> None:
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from helpdesk import create_app
    from helpdesk.extensions import db
    from tests.conftest import REPO, _env

    app = create_app(_env(f"sqlite:///{tmp_path / 'old.db'}"), instance_path=tmp_path)
    with app.app_context():
        upgrade(directory=str(REPO / "helpdesk" / "migrations"), revision="0021")
        with db.engine.begin() as conn:
            for raw in (b"broken", b"broken", b"other", b"broken"):
                conn.execute(
                    sa.text(
                        "INSERT INTO quarantined_input (source, raw_format, account, raw, reason, status, attempts,"
                        " created_at) VALUES ('import:x', 'email', 'support', :raw, 'bad', 'pending', 0,"
                        " '2026-01-01 00:00:00')"
                    ),
                    {"raw": raw},
                )
        upgrade(directory=str(REPO / "helpdesk" / "migrations"))
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, raw, seen_count FROM quarantined_input ORDER BY id")).all()
        assert [(bytes(r.raw), r.seen_count) for r in rows] == [(b"broken", 3), (b"other", 1)]
        assert rows[0].id == 1  # the oldest entry is the one kept
        db.engine.dispose()
