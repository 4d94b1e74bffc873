"""Shared fixtures: a clean database per test on SQLite and on PostgreSQL.

Every test that asks for ``app`` runs twice, once per backend.  The schema
comes from the real migrations (built once per session), so a migration bug
fails the suite.  SQLite tests get a fresh copy of a migrated template file;
PostgreSQL tests share one migrated database per worker and truncate it
after each test.  Without a PostgreSQL server the PostgreSQL half is skipped,
except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import InboundMessage, Party

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("HELPDESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def need_service(name: str, detail: str) -> None:
    """Skip a test that needs a missing service — or fail it in CI."""
    message = f"{name} is not available: {detail}"
    if IN_CI:
        pytest.fail(message + " (CI=true: every service must be up)")
    pytest.skip(message)


# --- no real network -----------------------------------------------------------------------------

_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ip = ipaddress.ip_address(socket.gethostbyname(host)) if host == "localhost" else None
        if ip is None or not ip.is_loopback:
            raise ConnectionRefusedError(f"tests may only connect to loopback, not {host!r}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


# --- databases ------------------------------------------------------------------------------------


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _migrate(url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    from helpdesk import create_app

    app = create_app(_env(url), instance_path=instance)
    with app.app_context():
        upgrade(directory=str(REPO / "helpdesk" / "migrations"))
        from helpdesk.extensions import db

        db.engine.dispose()


def _env(url: str) -> dict[str, str]:
    return {
        "HELPDESK_DATABASE_URL": url,
        "HELPDESK_SECRET_KEY": "test-secret-key-not-for-production",
        "HELPDESK_TASKS_IMMEDIATE": "true",
        "HELPDESK_WORKER_IN_PROCESS": "false",
    }


# argon2id at the smallest cost argon2 allows: microseconds a hash instead of ~0.15 s, paid by every test
# that makes a user or signs in.  Only a test app accepts it; tests/signin/test_passwords.py uses the real cost.
CHEAP_HASHING = {"HELPDESK_PASSWORD_HASH": "t=1,m=8,p=1"}


@pytest.fixture
def password_hashing() -> dict[str, str]:
    """The password-hash settings of the ``app`` fixture; a module that tests hashing itself overrides this."""
    return CHEAP_HASHING


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("sqlite-template")
    path = base / "template.db"
    _migrate(f"sqlite:///{path}", base)
    return path


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    """A migrated PostgreSQL database for this worker of this run, or a reason when there is no server.

    The name carries the process id, so two test runs on one machine never share (or drop) a database.
    """
    name = f"helpdesk_test_{_worker()}_{os.getpid()}"
    try:
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            # A throw-away database need not wait for the disk at each commit (a crash loses only test data);
            # what a test can see of a commit, and when, is the same.
            conn.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    except sa.exc.OperationalError as exc:
        yield f"unavailable: {exc.orig}"
        return
    url = sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    _migrate(url, tmp_path_factory.mktemp("pg-migrate"))
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


BIG_TABLE_ROWS = 1000


def _truncate_all(url: str) -> None:
    """Empty every table and restart every id sequence, as a fresh migrated database has them.

    ``TRUNCATE`` of all tables gives each one (and its indexes) new files whether it held rows
    or not, which costs most of a second per test; a test fills a handful of tables, so only
    those are emptied (``DELETE``, children first) and only sequences that handed out an id restart.
    A table holding thousands of rows (an ingest or backup test) is truncated instead: deleting
    30,000 messages row by row cost minutes.
    """
    from helpdesk.db import Base

    tables = Base.metadata.sorted_tables
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        probe = " UNION ALL ".join(f'(SELECT {n} FROM "{t.name}" LIMIT 1)' for n, t in enumerate(tables))
        filled = {row[0] for row in conn.execute(sa.text(probe))}
        if filled:
            big_probe = " UNION ALL ".join(
                f'(SELECT {n} FROM "{tables[n].name}" OFFSET {BIG_TABLE_ROWS} LIMIT 1)' for n in sorted(filled)
            )
            big = {row[0] for row in conn.execute(sa.text(big_probe))}
            if big:
                names = ", ".join(f'"{tables[n].name}"' for n in sorted(big))
                conn.execute(sa.text(f"TRUNCATE {names} CASCADE"))
        for n in sorted(filled, reverse=True):
            conn.execute(sa.text(f'DELETE FROM "{tables[n].name}"'))
        conn.execute(_RESTART_USED_SEQUENCES, {"tables": [t.name for t in tables]})
    engine.dispose()


# Sequences owned by our tables (serial or identity columns) that handed out a value go back to their start.
_RESTART_USED_SEQUENCES = sa.text(
    """
    SELECT setval(s.oid, seq.seqstart, false)
    FROM pg_class s
    JOIN pg_sequence seq ON seq.seqrelid = s.oid
    JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_namespace ns ON ns.oid = t.relnamespace AND ns.nspname = current_schema()
    WHERE s.relkind = 'S' AND t.relname = ANY(:tables)
      AND CASE WHEN s.relkind = 'S' THEN pg_sequence_last_value(s.oid) END IS NOT NULL  -- CASE: never on a table
    """
)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path / "helpdesk.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    if url is None or url.startswith("unavailable"):
        need_service("PostgreSQL", url or "no server")
    yield url
    _truncate_all(url)


@pytest.fixture
def app(database_url: str, tmp_path: Path, password_hashing: dict[str, str]) -> Iterator[Any]:
    from helpdesk import create_app
    from helpdesk.extensions import db

    instance = tmp_path / "instance"
    env = {**_env(database_url), **password_hashing}
    application = create_app(env, instance_path=instance, overrides={"TESTING": True})
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def session(app: Any) -> Any:
    from helpdesk.extensions import db

    return db.session


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


# --- factories ------------------------------------------------------------------------------------

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def make_account(session: Any) -> Callable[..., Any]:
    from helpdesk.channelaccounts.models import ChannelAccount

    def make(**overrides: Any) -> ChannelAccount:
        name = overrides.pop("name", "shop-de")
        fields = {"kind": "ebay", "platform": "ebay", "display_name": name, "site": "DE", "default_language": "de"}
        fields.update(overrides)
        account = ChannelAccount(name=name, **fields)
        session.add(account)
        session.commit()
        return account

    return make


@pytest.fixture
def make_message() -> Callable[..., InboundMessage]:
    counter = iter(range(1, 10**9))

    def make(**overrides: Any) -> InboundMessage:
        n = next(counter)
        fields: dict[str, Any] = {
            "channel": "ebay",
            "account": "shop-de",
            "external_id": f"m-{n}",
            "sent_at": T0 + timedelta(minutes=n),
            "sender": Party(platform_id="buyer_1", name="Jonas Weber", country="DE"),
            "body_text": f"Message {n}",
            "subject": "Where is my parcel?",
        }
        fields.update(overrides)
        return InboundMessage(**fields)

    return make


@pytest.fixture
def make_user(session: Any) -> Callable[..., Any]:
    from helpdesk.accounts.services import create_user

    def make(email: str = "agent@example.test", password: str = "correct horse battery", **kw: Any) -> Any:
        user = create_user(session, email, kw.pop("name", "Agent"), password, **kw)
        session.commit()
        return user

    return make
