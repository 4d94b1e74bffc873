"""The task queue really stores and runs jobs: Huey on SQLite, and on Redis."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest
from huey.storage import SqliteStorage

from helpdesk import tasks
from tests.conftest import need_service

RESULTS: list[int] = []


@tasks.task()
def record(value: int) -> int:
    RESULTS.append(value)
    return value * 2


def _run_consumer_until(predicate: Any, timeout: float = 10) -> None:
    consumer = tasks.huey.create_consumer(workers=1, worker_type="thread", periodic=False, check_worker_health=False)
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer.start()  # starts worker threads and returns; it installs signal handlers, restored below
    deadline = time.monotonic() + timeout
    try:
        while not predicate() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        consumer.stop(graceful=True)
        for sig, handler in saved.items():
            signal.signal(sig, handler)


@pytest.fixture
def queued(tmp_path: Path) -> Any:
    from helpdesk import create_app

    def build(env: dict[str, str]) -> Any:
        app = create_app(
            {
                "HELPDESK_SECRET_KEY": "test-secret-key-not-for-production",
                "HELPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'q.db'}",
                **env,
            },
            instance_path=tmp_path,
        )
        tasks.huey.storage.flush_all()
        RESULTS.clear()
        return app

    yield build
    tasks.huey.immediate = True


def test_sqlite_queue_runs_jobs_in_a_consumer(queued: Any, tmp_path: Path) -> None:
    queued({})
    assert isinstance(tasks.huey.storage, SqliteStorage)
    assert tasks.huey.storage.filename == str(tmp_path / "tasks.db")
    assert tasks.huey.storage.conn.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL, like the database
    result = record(21)
    assert RESULTS == []  # enqueued, not run inline
    assert tasks.huey.pending_count() == 1
    _run_consumer_until(lambda: RESULTS)
    assert RESULTS == [21]
    assert result.get(blocking=True, timeout=5) == 42


def test_redis_queue_runs_jobs_in_a_consumer(queued: Any) -> None:
    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15").ping()
    except redis.exceptions.ConnectionError as exc:
        need_service("Redis", str(exc))
    queued({"HELPDESK_REDIS_URL": "redis://127.0.0.1:6379/15"})
    assert tasks.huey.storage.__class__.__name__ == "RedisStorage"
    record(5)
    _run_consumer_until(lambda: RESULTS)
    assert RESULTS == [5]


def test_a_task_skipped_for_its_lock_is_not_reported_as_a_warning(caplog: Any) -> None:
    import logging

    assert tasks.huey is not None  # importing the module installs the filter
    huey_logger = logging.getLogger("huey")
    with caplog.at_level(logging.WARNING, logger="huey"):
        huey_logger.warning("Task %s not run, %s.", "abc", "unable to acquire lock poll-account-7")
        huey_logger.warning("Task %s failed", "def")
    assert [r.getMessage() for r in caplog.records] == ["Task def failed"]


def test_a_worker_process_knows_every_task_the_app_can_queue(tmp_path: Path) -> None:
    """A worker started on its own (``helpdesk worker``) must have every task registered, not only those some
    request happened to import: a job it cannot name is dropped ("not found in TaskRegistry"), as replies were."""
    import json
    import re
    import subprocess
    import sys

    from tests.conftest import REPO

    declared = set()
    for path in (REPO / "helpdesk").rglob("*.py"):
        for name in re.findall(r"@(?:tasks\.)?task\([^)]*\)\s*\ndef (\w+)", path.read_text()):
            module = ".".join(path.relative_to(REPO).with_suffix("").parts)
            declared.add(f"{module}.{name}")
    assert "helpdesk.tickets.tasks.send_reply" in declared
    script = (
        "import json, sys; from helpdesk import create_app; from helpdesk.tasks import huey; "
        "create_app({'HELPDESK_DATABASE_URL': sys.argv[1], 'HELPDESK_SECRET_KEY': 'x' * 32}); "
        "print(json.dumps(sorted(huey._registry._registry)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, f"sqlite:///{tmp_path / 'desk.db'}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HELPDESK_INSTANCE_PATH": str(tmp_path)},
    )
    registered = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert declared - registered == set()
