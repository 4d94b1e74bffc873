"""Helpers shared by the benchmark scripts: medians, child processes, apps."""

from __future__ import annotations

import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("HELPDESK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def median(values: list[float]) -> float:
    return statistics.median(values)


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(script: Path, *args: str) -> dict[str, Any]:
    """Run one measurement in a fresh process so its peak memory is its own."""
    out = subprocess.run([sys.executable, str(script), *args], check=True, capture_output=True, text=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_postgres(name: str) -> str | None:
    """A new empty PostgreSQL database, or None when no server answers."""
    import sqlalchemy as sa

    try:
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except sa.exc.OperationalError:
        return None
    return sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def make_app(database_url: str, **env: str) -> Any:
    """A migrated app on ``database_url`` with its own throw-away instance folder."""
    from flask_migrate import upgrade

    from helpdesk import create_app

    instance = Path(tempfile.mkdtemp(prefix="helpdesk-bench-"))
    app = create_app(
        {
            "HELPDESK_DATABASE_URL": database_url,
            "HELPDESK_SECRET_KEY": "bench-secret-key-0123456789",
            "HELPDESK_TASKS_IMMEDIATE": "false",
            "HELPDESK_ALLOWED_URL_NETWORKS": "127.0.0.0/8",  # the benches' fake platforms run on this machine
            **env,
        },
        instance_path=instance,
    )
    with app.app_context():
        upgrade(directory=str(REPO / "helpdesk" / "migrations"))
    gc.freeze()  # as wsgi.py does once the app is built, so benches run like the CLI and the server
    return app
