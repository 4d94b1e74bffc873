"""The outbox: events committed by any process reach browsers and webhooks, and a crash loses none.

Other processes are real ones: ``flask --app wsgi helpdesk ingest`` in a
subprocess, or a short script that commits and then SIGKILLs itself.  The
browser is a python-socketio client signed in to the app served on a
loopback port, without Redis; webhooks go to an HTTP receiver on loopback.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk.outbox.relay import LEASE, Relay, relay_for
from tests.conftest import REPO
from tests.services.dovecot import free_port

PASSWORD = "correct horse battery"
SECRET_ENV = "HELPDESK_TEST_OUTBOX_SECRET"


def _line(n: int) -> str:
    """One buyer message as ``helpdesk ingest`` reads it; each n is its own buyer, so its own ticket."""
    return json.dumps(
        {
            "channel": "ebay",
            "account": "shop-de",
            "external_id": f"x-{n}",
            "sent_at": f"2026-01-05T09:{n:02d}:00+01:00",
            "sender": {"platform_id": f"buyer-{n}"},
            "body_text": f"Where is parcel {n}?",
            "order_refs": [f"27-13905-{n:05d}"],
        }
    )


def _env(database_url: str, instance: Path) -> dict[str, str]:
    """Another process on the same database: no Redis, tasks queued (not run inline)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(
        HELPDESK_DATABASE_URL=database_url,
        HELPDESK_SECRET_KEY="test-secret-key-not-for-production",
        HELPDESK_INSTANCE_PATH=str(instance),
        HELPDESK_TASKS_IMMEDIATE="false",
        PYTHONPATH=str(REPO),
    )
    return env


@pytest.fixture
def served(app: Any, make_user: Any, make_account: Any) -> Iterator[str]:
    """The app on a loopback port, as ``helpdesk serve`` runs it: its relay started, no message queue."""
    from werkzeug.serving import make_server

    from helpdesk.extensions import socketio

    assert socketio.server_options.get("client_manager") is None  # no Redis anywhere in this test
    make_account()
    make_user("lead@example.test", PASSWORD, name="Lena", role="lead")
    relay = relay_for(app)
    relay.start()
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)
    relay.stop()


def _signed_in_socket(base: str, events: list[str]) -> tuple[Any, list[tuple[float, str, dict[str, Any]]], Any]:
    import requests
    import socketio

    http = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(f"{base}/login").text)
    assert token is not None
    http.post(f"{base}/login", data={"email": "lead@example.test", "password": PASSWORD, "csrf_token": token[1]})
    heard: list[tuple[float, str, dict[str, Any]]] = []
    client = socketio.Client(http_session=http)
    for name in events:
        client.on(name, lambda data, name=name: heard.append((time.monotonic(), name, data)))
    client.connect(base, transports=["websocket"], wait_timeout=10, headers={"User-Agent": http.headers["User-Agent"]})
    return client, heard, http


def _wait(condition: Any, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def test_ticket_imported_by_the_cli_reaches_a_connected_browser(served: str, database_url: str, tmp_path: Path) -> None:
    client, heard, http = _signed_in_socket(served, ["ticket.created", "message.received"])
    try:
        path = tmp_path / "import.jsonl"
        path.write_text("\n".join(_line(n) for n in (1, 2)) + "\n")
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "helpdesk", "ingest", str(path)],
            cwd=REPO,
            env=_env(database_url, tmp_path / "cli"),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        committed = time.monotonic()
        assert result.returncode == 0, result.stderr[-2000:]
        assert "2 ingested" in result.stdout
        assert _wait(lambda: len(heard) == 4), heard  # two tickets created, two messages received
    finally:
        client.disconnect()
        http.close()
    created = [data for _, name, data in heard if name == "ticket.created"]
    assert {c["platform"] for c in created} == {"ebay"}
    assert len({c["ticket_id"] for c in created}) == 2
    assert len([h for h in heard if h[1] == "message.received"]) == 2
    # the relay polls every half second: the event lands well within a second of the CLI's exit
    assert heard[-1][0] - committed < 3.0, (heard[-1][0] - committed, committed - started)


# --- webhooks: exactly once, whoever relays and whoever dies -------------------------------------------------


@dataclass
class Receiver:
    url: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                box.calls.append(body)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box
    server.shutdown()
    server.server_close()


@pytest.fixture
def subscribed(session: Any, receiver: Receiver, make_account: Any, monkeypatch: pytest.MonkeyPatch) -> Receiver:
    from helpdesk.webhooks import services
    from helpdesk.webhooks.models import WebhookSubscription

    monkeypatch.setenv(SECRET_ENV, "whsec-outbox")
    make_account()
    session.add(WebhookSubscription(name="erp", url=receiver.url, secret_env=SECRET_ENV, events=["ticket.created"]))
    session.commit()
    services.forget_cache()
    return receiver


DOOMED = """
import os, signal, sys
from datetime import timedelta
from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.ingest.pipeline import ingest
from helpdesk.ingest.quarantine import RawInput
from helpdesk.leases import try_acquire

app = create_app()
with app.app_context():
    lines = open(sys.argv[1], "rb").read().splitlines()
    ingest(db.session, [RawInput(line, "json") for line in lines], source="doomed")
    db.session.commit()
    # as a relay that had just taken the lease for its pass when the machine pulled the plug
    assert try_acquire(db.engine, sys.argv[2], "doomed-relay", timedelta(seconds=2))
    print("committed", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _commit_and_die(database_url: str, tmp_path: Path, numbers: range) -> None:
    path = tmp_path / "doomed.jsonl"
    path.write_text("\n".join(_line(n) for n in numbers) + "\n")
    result = subprocess.run(
        [sys.executable, "-c", DOOMED, str(path), LEASE],
        cwd=REPO,
        env=_env(database_url, tmp_path / "doomed"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]
    assert "committed" in result.stdout


def _race(app: Any, relays: int, passes: int, batch: int = 500) -> None:
    """``relays`` relays (as in as many processes) relay at once, ``passes`` times each."""
    errors: list[BaseException] = []

    def run(relay: Relay) -> None:
        try:
            for _ in range(passes):
                relay.run_once()
                time.sleep(0.05)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(Relay(app, poll_s=0.05, batch=batch),)) for _ in range(relays)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors


def test_events_of_a_killed_process_reach_webhooks_exactly_once(
    app: Any, session: Any, subscribed: Receiver, database_url: str, tmp_path: Path
) -> None:
    from helpdesk.webhooks.models import WebhookDelivery

    _commit_and_die(database_url, tmp_path, range(1, 6))
    assert subscribed.calls == []  # nobody relayed: the process died right after its commit
    # its lease has not lapsed yet: a relay now passes without delivering anything (nor losing anything)
    assert Relay(app).run_once() == 0
    time.sleep(2.1)
    _race(app, relays=3, passes=8)
    tickets = sorted(call["data"]["ticket_id"] for call in subscribed.calls)
    assert len(tickets) == 5
    assert len(set(tickets)) == 5, tickets  # each ticket.created exactly once
    assert {call["event"] for call in subscribed.calls} == {"ticket.created"}
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count(WebhookDelivery.id))) == 5


def test_two_relays_without_the_lease_still_deliver_once(
    app: Any, session: Any, subscribed: Receiver, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lease saves work; the consumer's cursor row is what makes the delivery exactly-once."""
    from helpdesk.outbox import relay as relay_module

    _commit_and_die(database_url, tmp_path, range(1, 9))
    monkeypatch.setattr(relay_module, "try_acquire", lambda *args, **kwargs: True)  # everyone thinks it holds it
    _race(app, relays=4, passes=6, batch=3)
    tickets = [call["data"]["ticket_id"] for call in subscribed.calls]
    assert len(tickets) == 8
    assert len(set(tickets)) == 8, sorted(tickets)


def test_relayed_events_are_pruned_after_the_retention_but_unrelayed_ones_stay(
    app: Any, session: Any, subscribed: Receiver, database_url: str, tmp_path: Path
) -> None:
    from helpdesk.db import utcnow
    from helpdesk.outbox import store
    from helpdesk.outbox.models import OutboxEvent

    _commit_and_die(database_url, tmp_path, range(1, 3))
    total = session.scalar(sa.select(sa.func.count(OutboxEvent.id)))
    later = utcnow() + timedelta(days=2)
    assert store.prune(session, timedelta(days=1), now=later) == 0  # webhooks have not heard them yet
    session.commit()
    time.sleep(2.1)  # the dead relay's lease lapses
    Relay(app).run_once()
    assert len(subscribed.calls) == 2
    assert store.prune(session, timedelta(days=1)) == 0  # heard, but recent
    session.commit()
    assert store.prune(session, timedelta(days=1), now=later) == total
    session.commit()


def test_a_delivery_whose_job_was_lost_is_sent_by_the_sweep(app: Any, session: Any, subscribed: Receiver) -> None:
    """The relay commits a delivery row, then queues its job: a crash between the two must not lose the POST."""
    from helpdesk.db import utcnow
    from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription
    from helpdesk.webhooks.tasks import requeue_stranded

    sub = session.scalars(sa.select(WebhookSubscription)).one()
    old = WebhookDelivery(
        subscription_id=sub.id,
        event="ticket.created",
        payload={"ticket_id": 41},
        created_at=utcnow() - timedelta(hours=1),
    )
    fresh = WebhookDelivery(subscription_id=sub.id, event="ticket.created", payload={"ticket_id": 42})
    session.add_all([old, fresh])
    session.commit()
    assert requeue_stranded() == 1  # the fresh one's job may still be on its way
    assert [call["data"]["ticket_id"] for call in subscribed.calls] == [41]
    assert requeue_stranded() == 0  # sent: never twice


def test_a_relay_follows_an_outbox_that_went_back(app: Any, session: Any) -> None:
    """A backup restored under a running server: its relay must not wait for ids the desk will take days to reach."""
    from helpdesk import events

    heard: list[Any] = []

    @events.listen("channel.health")
    def grab(name: str, payload: Any) -> None:
        heard.append(payload["detail"])

    try:
        relay = relay_for(app)
        relay.cursor = 10**9  # where the server was before the restore
        relay.run_once()
        events.publish(session, "channel.health", {"channel_account_id": None, "health": "ok", "detail": "after"})
        session.commit()
    finally:
        events.unlisten(grab)
    assert heard == ["after"]


def test_a_stream_of_commits_reaches_once_only_listeners_in_few_passes(app: Any, session: Any, monkeypatch) -> None:
    """Every commit wakes the relay and broadcast follows each one; the once-only listeners (with their lease,
    their cursor transactions, the jobs they queue) run at most every ``once_every_s``, each pass covering
    the commits of that moment: none lost, none twice, in order."""
    from helpdesk import events

    once_calls: list[list[str]] = []
    broadcast: list[str] = []

    def hear_once(_session: Any, _name: str, payloads: list[Any]) -> None:
        once_calls.append([p["detail"] for p in payloads])

    def hear(_name: str, payload: Any) -> None:
        broadcast.append(payload["detail"])

    events.listen_once("test.paced", "channel.health")(hear_once)
    events.listen("channel.health")(hear)
    relay = relay_for(app)
    monkeypatch.setattr(relay, "immediate", False)  # its own thread, as when served
    monkeypatch.setattr(relay, "once_every_s", 1.0)
    relay.start()
    try:
        started = time.monotonic()
        for n in range(6):
            events.publish(session, "channel.health", {"channel_account_id": None, "health": "ok", "detail": str(n)})
            session.commit()
        elapsed = time.monotonic() - started
        deadline = time.monotonic() + 30
        while (sum(len(c) for c in once_calls) < 6 or len(broadcast) < 6) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        relay.stop()
        events.unlisten(hear_once)
        events.unlisten(hear)
    expected = [str(n) for n in range(6)]
    assert [d for call in once_calls for d in call] == expected
    assert broadcast == expected
    # a pass may fall between the commits; more than one per second of committing would mean no pacing
    assert len(once_calls) <= 2 + int(elapsed / 1.0), once_calls
