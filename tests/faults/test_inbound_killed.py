"""The web server killed with SIGKILL while clients post tickets, then retried: one ticket per input.

A child serves the helpdesk (a threaded WSGI server, as ``helpdesk serve``
runs it) on a loopback port.  Four client threads post inputs to it: signed
ticket webhooks (``POST /api/v1/webhooks/tickets``, stored by group commit)
and API ticket creations (``POST /api/v1/tickets``), each with an
``Idempotency-Key`` and an external id.  The server is killed once a random
number of them were acknowledged; the last input's batch is held before its
commit, so requests are still in flight when the kill lands.

Right after the kill, every acknowledged input is in the database: a 2xx is
only ever answered after the commit.  Then a new server starts and the
clients send every input again, as a sender that did not get (or did not
trust) its answer does: an acknowledged input gets its first answer again,
and each input is exactly one message on one ticket.
"""

from __future__ import annotations

import http.client
import json
import queue
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from channels.webhook.signing import sign
from tests.faults.harness import (
    TRIALS,
    child_env,
    duplicates,
    engine_for,
    forked_work,
    hold,
    kill_at_progress,
    leases_held,
    scalar,
)
from tests.services.dovecot import free_port
from tests.webhook_channel.signed import SECRET, URL, delivery

INPUTS = 16  # and one more, the held one
CLIENTS = 4
GATE = "gate"  # the Idempotency-Key of the last input, whose batch the doomed server holds


@dataclass(frozen=True)
class Input:
    """One input as its sender keeps it for a retry: the same path, body and key every time."""

    key: str
    path: str
    body: bytes
    headers: dict[str, str]

    @property
    def external_id(self) -> str:
        """The message's external id once stored (the API keeps its callers' ids apart from the channels')."""
        return self.key if self.path == URL else f"api:{self.key}"

    def sent_headers(self) -> dict[str, str]:
        """A webhook is signed afresh on each try (its timestamp must be recent); the body stays the same."""
        if self.path == URL:
            return {**self.headers, "X-Helpdesk-Signature": sign(SECRET, self.body)}
        return self.headers


def _inputs(account_id: int, bearer: str, rng: random.Random) -> list[Input]:
    """Webhooks and API creations in a seeded order, each from its own buyer; the gate webhook last."""
    made = []
    for n in range(INPUTS):
        if n % 2:
            body = {
                "channel_account_id": account_id,
                "customer": {"email": f"api-{n}@example.test", "name": f"Buyer {n}"},
                "subject": "Return request",
                "message": f"Parcel {n} arrived damaged.",
                "external_id": f"api-{n}",
            }
            headers = {
                "Authorization": f"Bearer {bearer}",
                "Content-Type": "application/json",
                "Idempotency-Key": f"api-{n}",
            }
            made.append(Input(f"api-{n}", "/api/v1/tickets", json.dumps(body).encode(), headers))
        else:
            made.append(_webhook(f"hook-{n}", n))
    rng.shuffle(made)
    return [*made, _webhook(GATE, INPUTS)]


def _webhook(key: str, n: int) -> Input:
    body = delivery(external_id=key, buyer={"email": f"hook-{n}@example.test", "name": f"Buyer {n}"})
    headers = {"X-Helpdesk-Key-Id": "erp-main", "Content-Type": "application/json"}
    return Input(key, URL, body, {**headers, "Idempotency-Key": key})


def _post(port: int, item: Input) -> tuple[int, dict[str, Any]] | None:
    """The answer, or None when the server died under the request (or was not there)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", item.path, body=item.body, headers=item.sent_headers())
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    except (ConnectionError, http.client.HTTPException, OSError):
        return None
    finally:
        conn.close()


def _serve(port: int, *, hold_gate: bool) -> Callable[[], int]:
    """The server child: the app on a threaded WSGI server; the gate's batch held before its commit if asked."""

    def work() -> int:
        from flask import current_app
        from werkzeug.serving import make_server

        from helpdesk.hooks import tickets

        if hold_gate:
            store = tickets.store

            def held(session: Any, deliveries: Any) -> Any:
                answers = store(session, deliveries)
                if any(d.key == GATE for d in deliveries):
                    hold()
                return answers

            tickets.store = held  # type: ignore[assignment]
        make_server("127.0.0.1", port, current_app._get_current_object(), threaded=True).serve_forever()
        return 0

    return work


def _started(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the server did not start")


def _clients(port: int, inputs: list[Input], answers: dict[str, tuple[int, dict[str, Any]] | None]) -> list[Any]:
    """``CLIENTS`` threads posting the inputs in order, each answer (or None) kept by key."""
    todo: queue.Queue[Input] = queue.Queue()
    for item in inputs:
        todo.put(item)

    def run() -> None:
        while True:
            try:
                item = todo.get_nowait()
            except queue.Empty:
                return
            answers[item.key] = _post(port, item)

    threads = [threading.Thread(target=run, daemon=True) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    return threads


def _acked(answers: dict[str, tuple[int, dict[str, Any]] | None]) -> dict[str, tuple[int, dict[str, Any]]]:
    return {key: a for key, a in list(answers.items()) if a is not None and 200 <= a[0] < 300}


def _retry_until_answered(port: int, item: Input) -> tuple[int, dict[str, Any]]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = _post(port, item)
        if answer is not None and answer[0] < 500 and answer[0] != 409:  # 409: still running elsewhere
            return answer
        time.sleep(0.1)
    raise AssertionError(f"{item.key} was never answered")


@pytest.fixture
def bearer(session: Any, make_user: Any) -> str:
    from helpdesk.api.tokens import create_token

    _row, raw = create_token(session, make_user(role="admin"), "erp", "write")
    session.commit()
    return raw


@pytest.mark.parametrize("seed", range(TRIALS))
def test_a_server_killed_while_clients_post_and_retried_stores_each_input_once(
    app: Any, erp: Any, bearer: str, database_url: str, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    inputs = _inputs(erp.id, bearer, rng)
    env = child_env(database_url, tmp_path / "server")
    port = free_port()
    server = forked_work(env, _serve(port, hold_gate=True))
    _started(port)
    answers: dict[str, tuple[int, dict[str, Any]] | None] = {}
    by_key = {item.key: item for item in inputs}
    with engine_for(database_url) as engine:
        threads = _clients(port, inputs, answers)
        target = rng.randint(0, INPUTS - 2 * CLIENTS)
        kill = kill_at_progress(server, lambda: len(_acked(answers)), target, rng)
        assert kill.killed, f"the server was not killed: {kill}"
        for t in threads:
            t.join(120)
        acked = _acked(answers)
        assert GATE not in acked and len(acked) < len(inputs)  # requests were in flight when it died
        assert all(a is None or a[0] < 500 for a in answers.values()), answers  # a failure is a cut, not a 500

        # no acknowledged input is missing: each 2xx was answered after its commit
        with engine.connect() as conn:
            stored = set(conn.exec_driver_sql("SELECT external_id FROM message").scalars())
        assert {by_key[key].external_id for key in acked} <= stored, sorted(set(acked) - stored)

        port = free_port()
        server = forked_work(env, _serve(port, hold_gate=False), paused=False)
        try:
            _started(port)
            again = {item.key: _retry_until_answered(port, item) for item in inputs}
        finally:
            server.kill()
            server.join(30)

        assert all(status in (200, 201) for status, _ in again.values()), again
        for key, first in acked.items():
            assert again[key] == first, key  # a retry of an acknowledged input gets its first answer
        with engine.connect() as conn:
            stored_all = list(conn.exec_driver_sql("SELECT external_id FROM message").scalars())
        assert sorted(stored_all) == sorted(i.external_id for i in inputs)  # each input one message, none lost
        assert duplicates(engine, "message", "external_id") == []
        assert scalar(engine, "SELECT COUNT(*) FROM ticket") == len(inputs)  # one buyer each, one ticket each
        assert scalar(engine, "SELECT COUNT(*) FROM quarantined_input") == 0
        assert leases_held(engine) == []
