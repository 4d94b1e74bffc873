"""Three writers on one SQLite file at once: the web server, the task consumer and an import.

For a few seconds agents sign in over real HTTP (a threaded WSGI server)
and post replies and notes as fast as they can; every reply queues a send
that the worker process (the real Huey consumer, its own process) delivers
through eBay's loopback fake; meanwhile ``helpdesk ingest`` imports a file
in small batches in a third process.  SQLite has one writer at a time, so
each waits for the others.  What must hold: no agent ever sees an error
(every post is a redirect, none a 500 or 503), neither log mentions a
locked database or a failed job, and all of the work lands — every post,
every send, every imported line.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from werkzeug.serving import make_server

from channels.ebay.fake import FakeEbay
from helpdesk.polling.services import poll_account
from tests.faults.harness import child_env, forked_cli, forked_work
from tests.faults.test_marketplace_poll_killed import _account
from tests.web import PASSWORD

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

LOAD_S = 10
AGENTS = 3
IMPORTED = 2000
TROUBLE = re.compile(r"database is locked|database is busy|Traceback|ERROR|failed", re.IGNORECASE)


def _import_file(path: Path) -> Path:
    lines = [
        json.dumps(
            {
                "channel": "ebay",
                "account": "lampworks",
                "external_id": f"imported-{n}",
                "sent_at": f"2026-01-05T09:{n % 60:02d}:00+00:00",
                "sender": {"platform_id": f"importer-buyer-{n % 150}"},
                "body_text": f"Imported question {n}",
            }
        )
        for n in range(IMPORTED)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _consume_until(stop: Path, log_file: Path) -> int:
    """The worker process: Huey's consumer in threads, logging warnings to a file, until ``stop`` exists."""
    from helpdesk.tasks import start_consumer

    handler = logging.FileHandler(log_file)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logging.getLogger().addHandler(handler)
    consumer = start_consumer(workers=2)
    while not stop.exists():
        time.sleep(0.1)
    consumer.stop(graceful=True)
    return 0


class Agent(threading.Thread):
    """Signs in over HTTP, then posts a reply or a note to the desk's tickets until the load ends."""

    def __init__(self, base: str, email: str, ticket_ids: list[int], start: threading.Barrier, number: int) -> None:
        super().__init__(daemon=True)
        self.base, self.email, self.ticket_ids, self.number = base, email, ticket_ids, number
        self.start_together = start
        self.posted: list[str] = []
        self.refused: list[str] = []

    def _token(self, http: requests.Session, path: str) -> str:
        page = http.get(self.base + path, timeout=60)
        if page.status_code != 200:
            self.refused.append(f"GET {path}: {page.status_code} {page.text[:200]}")
            return ""
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        return match.group(1) if match else ""

    def run(self) -> None:
        with requests.Session() as http:
            signed_in = http.post(
                self.base + "/login",
                data={"email": self.email, "password": PASSWORD, "csrf_token": self._token(http, "/login")},
                allow_redirects=False,
                timeout=60,
            )
            if signed_in.status_code != 302:
                self.refused.append(f"sign-in: {signed_in.status_code}")
            self.start_together.wait(120)
            until = time.monotonic() + LOAD_S
            n = 0
            while time.monotonic() < until and signed_in.status_code == 302:
                ticket_id = self.ticket_ids[(self.number + n) % len(self.ticket_ids)]
                body = f"agent {self.number} post {n}"
                form = {"body": body, "internal": "1" if n % 2 else "0", "csrf_token": ""}
                form["csrf_token"] = self._token(http, f"/tickets/{ticket_id}")
                answer = http.post(
                    f"{self.base}/tickets/{ticket_id}/reply", data=form, allow_redirects=False, timeout=60
                )
                if answer.status_code == 302:
                    self.posted.append(body)
                else:
                    self.refused.append(f"POST reply: {answer.status_code} {answer.text[:300]}")
                n += 1


def test_the_web_server_the_worker_and_an_import_writing_at_once_lose_nothing_and_show_no_error(
    app: Any,
    session: Any,
    make_user: Any,
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from helpdesk.tickets.models import DeliveryState, Message, Ticket

    fake = FakeEbay().start()
    try:
        fake.seed(messages=8)
        account_id = _account(session, fake)
        assert poll_account(session, account_id).error is None
        ticket_ids = list(session.scalars(sa.select(Ticket.id)))
        users = [make_user(f"agent{n}@example.test", name=f"Agent {n}", role="lead").email for n in range(AGENTS)]
        session.close()
        stop, worker_log = tmp_path / "stop", tmp_path / "worker.log"
        caplog.set_level(logging.WARNING)

        env = child_env(database_url, tmp_path / "desk")
        worker = forked_work(env, lambda: _consume_until(stop, worker_log))
        lines = _import_file(tmp_path / "import.jsonl")
        with _served(env, tmp_path / "desk") as base:
            start = threading.Barrier(AGENTS)
            agents = [Agent(base, email, ticket_ids, start, n) for n, email in enumerate(users)]
            # the import starts with the agents (not before the server is up): on a quiet machine it
            # could otherwise be over before the first agent posts
            importer = forked_cli(env, ["ingest", str(lines), "--batch-size", "10"])
            for agent in agents:
                agent.start()
            overlapped = importer.is_alive()  # 2,000 lines in 200 transactions: still going as the agents begin
            for agent in agents:
                agent.join(LOAD_S + 120)
        importer.join(180)
        replies = _wait_until_sent(database_url, Message, DeliveryState)
        stop.touch()
        worker.join(60)
    finally:
        fake.stop()

    refused = [line for agent in agents for line in agent.refused]
    posted = [body for agent in agents for body in agent.posted]
    assert refused == [], refused[:5]  # no agent saw an error, not even a 503 "busy, try again"
    assert len(posted) >= AGENTS * 3 and overlapped, posted  # the load did run, with the import under way
    assert importer.exitcode == 0 and worker.exitcode == 0
    server_trouble = [r.getMessage() for r in caplog.records if TROUBLE.search(r.getMessage())]
    assert server_trouble == []
    worker_trouble = [line for line in worker_log.read_text().splitlines() if TROUBLE.search(line)]
    assert worker_trouble == []

    session.expire_all()
    stored = set(session.scalars(sa.select(Message.body_text).where(Message.body_text.like("agent %"))))
    assert stored == set(posted)  # every post that was answered with a redirect is there, once
    assert replies and all(state == DeliveryState.SENT for state in replies.values()), replies
    imported = session.scalar(
        sa.select(sa.func.count()).select_from(Message).where(Message.external_id.like("imported-%"))
    )
    assert imported == IMPORTED


@contextmanager
def _served(env: dict[str, str], instance: Path) -> Iterator[str]:
    """The desk's web server on loopback: real threads and sockets, not a test client."""
    from helpdesk import create_app

    web = create_app(env, instance_path=instance)
    server = make_server("127.0.0.1", 0, web, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def _wait_until_sent(database_url: str, message: Any, states: Any) -> dict[int, str]:
    """Outbound replies by id and delivery state, once none is queued or sending any more (or after a minute)."""
    engine = sa.create_engine(database_url)
    try:
        deadline = time.monotonic() + 60
        while True:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.select(message.id, message.delivery_state).where(
                        message.direction == "out", message.is_internal.is_(False)
                    )
                ).all()
            replies = {row.id: str(row.delivery_state) for row in rows}
            waiting = [s for s in replies.values() if s in (states.QUEUED, states.SENDING)]
            if not waiting or time.monotonic() > deadline:
                return replies
            time.sleep(0.2)
    finally:
        engine.dispose()
