"""A filled helpdesk to back up, and a second, empty one to restore into (a new SQLite file or PostgreSQL database)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import AttachmentData, OrderLineRecord, OrderRecord, Party
from tests.conftest import PG_URL, T0, _env

# Over SMALL_BLOB_BYTES, so it is a file on disk; the small one stays in its database row.
LARGE = bytes(range(256)) * 400
SMALL = b"%PDF-1.4 small invoice"


def run(app: Any, *args: str, env: dict[str, str] | None = None) -> Any:
    """Run a CLI command against ``app`` (its own context: the command would otherwise use whichever app is current)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=["helpdesk", *args], env=env)


@pytest.fixture
def filled(app: Any, session: Any, one_ticket: dict[str, Any]) -> dict[str, Any]:
    """The demo desk (every feature's tables hold rows) plus :func:`one_ticket`."""
    from helpdesk.demo.loader import load_demo

    load_demo(session)
    session.commit()
    return one_ticket


@pytest.fixture
def one_ticket(app: Any, session: Any, make_account: Any, make_message: Any) -> dict[str, Any]:
    """A ticket with an order and two attachments (one a file on disk, one in its database row)."""
    from helpdesk.ingest.pipeline import ingest
    from helpdesk.orders.services import upsert_orders

    make_account(name="backup-shop")
    upsert_orders(
        session,
        [
            OrderRecord(
                platform="ebay",
                account="backup-shop",
                order_number="12-34567-89012",
                status="shipped",
                currency="EUR",
                total=Decimal("59.90"),
                placed_at=T0 - timedelta(days=3),
                buyer=Party(platform_id="backup_buyer", name="Jonas Weber"),
                lines=(OrderLineRecord(title="Lamp", quantity=2, unit_price=Decimal("29.95"), sku="L-1"),),
                tracking_number="JD014600003828406128",
            )
        ],
    )
    message = make_message(
        account="backup-shop",
        external_id="backup-1",
        sender=Party(platform_id="backup_buyer", name="Jonas Weber", email="jonas@example.test"),
        subject="Lampe kaputt",
        body_text="Die Lampe ist kaputt angekommen. Bestellung 12-34567-89012",
        order_refs=("12-34567-89012",),
        attachments=(
            AttachmentData(filename="photo.bin", content_type="application/octet-stream", content=LARGE),
            AttachmentData(filename="invoice.pdf", content_type="application/pdf", content=SMALL),
        ),
    )
    ingest(session, [message], source="test")
    session.commit()
    return {"subject": "Lampe kaputt"}


_names = itertools.count()


@pytest.fixture
def empty_target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[], Any]]:
    """Builds the app of a new, empty helpdesk on the same backend (never migrated: restore makes the schema)."""
    made: list[Any] = []
    databases: list[str] = []
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT") if backend == "postgresql" else None

    def make(**env: str) -> Any:
        from helpdesk import create_app

        n = next(_names)
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / f'target-{n}.db'}"
        else:
            request.getfixturevalue("database_url")  # skips (or fails in CI) without a server
            name = f"helpdesk_restore_{os.getpid()}_{n}"
            assert admin is not None
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            databases.append(name)
            url = sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        target = create_app(
            {**_env(url), **env}, instance_path=tmp_path / f"target-instance-{n}", overrides={"TESTING": True}
        )
        made.append(target)
        return target

    yield make
    from helpdesk.extensions import db

    for target in made:
        with target.app_context():
            db.engine.dispose()
    if admin is not None:
        with admin.connect() as conn:
            for name in databases:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
