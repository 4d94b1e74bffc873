"""Upgrading keeps every reply template, as a one-language macro."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tests.conftest import REPO, _env


def test_reply_templates_become_macros(tmp_path: Path) -> None:
    from flask_migrate import upgrade

    from helpdesk import create_app

    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app(_env(url), instance_path=tmp_path / "instance")
    directory = str(REPO / "helpdesk" / "migrations")
    with app.app_context():
        upgrade(directory=directory, revision="0007")
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO reply_template (name, body, language, created_at) VALUES "
                    "('Tracking (de)', 'Ihr Paket ist unterwegs.', 'de', '2026-01-05 09:00:00'), "
                    "('配送状況のご案内', '商品は発送済みです。', 'ja', '2026-01-05 09:00:00'), "
                    "('Thanks', 'Thank you!', NULL, '2026-01-05 09:00:00')"
                )
            )
        upgrade(directory=directory)
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT key, titles, bodies, source FROM macro ORDER BY id")).all()
            assert "reply_template" not in sa.inspect(conn).get_table_names()
        engine.dispose()
        from helpdesk.extensions import db

        db.engine.dispose()
    keys = [r.key for r in rows]
    assert keys == ["tracking-de", "template-2", "thanks"]
    assert [r.source for r in rows] == ["custom"] * 3
    assert '"de": "Ihr Paket ist unterwegs."' in rows[0].bodies and '"en": "Thank you!"' in rows[2].bodies
