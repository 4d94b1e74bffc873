"""Task locks are leases: a holder killed with SIGKILL cannot stop the work for good."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from huey.exceptions import TaskLockedException

from helpdesk import leases, tasks
from tests.conftest import REPO


@pytest.fixture
def queued_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leases as the consumer takes them (not the inline mode of the test app), with a short lifetime."""
    monkeypatch.setattr(tasks.huey, "immediate", False)
    monkeypatch.setattr(tasks, "TASK_LEASE_TTL", timedelta(seconds=1.5))


def _kill_a_holder_of(database_url: str, name: str) -> None:
    """Start a process that takes lease ``name`` and keeps renewing it, then SIGKILL it mid-work."""
    script = textwrap.dedent(
        f"""
        import sys, time
        from datetime import timedelta
        import sqlalchemy as sa
        from helpdesk.leases import RenewedLease
        lease = RenewedLease(sa.create_engine({database_url!r}), {name!r}, timedelta(seconds=1.5))
        assert lease.take()
        print("held", flush=True)
        time.sleep(60)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        time.sleep(1.2)  # long enough for it to have renewed once: the lease outlived its first ttl
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_a_lease_left_by_a_killed_worker_lapses_and_the_next_run_proceeds(
    app: Any, database_url: str, queued_mode: None
) -> None:
    _kill_a_holder_of(database_url, "task:poll-account-7")
    with pytest.raises(TaskLockedException), tasks.task_lease("poll-account-7"):
        pass  # the dead holder's lease is still running out
    deadline = time.monotonic() + 10
    ran = False
    while not ran and time.monotonic() < deadline:
        try:
            with tasks.task_lease("poll-account-7"):
                ran = True
        except TaskLockedException:
            time.sleep(0.2)
    assert ran, "the lease of a killed holder never lapsed"


def test_a_long_task_keeps_its_lease_and_frees_it_when_done(app: Any, queued_mode: None) -> None:
    from helpdesk.extensions import db

    others: list[bool] = []
    with tasks.task_lease("sla-sweep"):
        for _ in range(4):  # 2.4 s, well past one ttl of 1.5 s: only renewals keep it
            time.sleep(0.6)
            others.append(leases.try_acquire(db.engine, "task:sla-sweep", "someone-else", timedelta(seconds=5)))
    assert others == [False] * 4
    assert leases.try_acquire(db.engine, "task:sla-sweep", "someone-else", timedelta(seconds=5))


def test_one_holder_at_a_time_among_threads(app: Any, queued_mode: None) -> None:
    inside, most, skipped = [0], [0], [0]
    guard = threading.Lock()

    def work() -> None:
        with app.app_context():
            try:
                with tasks.task_lease("webhook-delivery:1"):
                    with guard:
                        inside[0] += 1
                        most[0] = max(most[0], inside[0])
                    time.sleep(0.2)
                    with guard:
                        inside[0] -= 1
            except TaskLockedException:
                with guard:
                    skipped[0] += 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert most[0] == 1 and skipped[0] >= 1


def test_a_killed_pollers_account_is_polled_again_within_two_default_intervals() -> None:
    """The worst case after a kill: the dead holder's lease lapses, then the next minutely sweep finds it due.

    The lapse itself is shown above with a short lifetime; this holds the real
    lifetime to the promise (docs/reliability.md) as the settings change.
    """
    from helpdesk.config import load_settings
    from helpdesk.polling.services import SWEEP_SLACK

    interval = timedelta(seconds=load_settings({"HELPDESK_SECRET_KEY": "k" * 32}).poll_interval_s)
    sweep_period = timedelta(minutes=1)  # helpdesk.polling.tasks: crontab(minute="*")
    assert tasks.TASK_LEASE_TTL + sweep_period + SWEEP_SLACK <= 2 * interval
