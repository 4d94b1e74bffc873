"""SQLite busy: another process holds a long write transaction while the web app and the worker write.

SQLite has one writer at a time.  A writer that finds the lock taken waits
(the busy timeout) and then goes on: an agent's note and a poll started
while another process held ``BEGIN IMMEDIATE`` both land once it commits.
Held past the busy timeout (shortened here), the agent gets the 503 page in
words — "busy, try again" — in the app's layout, never a 500 or a trace.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from channels.ebay.fake import FakeEbay
from helpdesk.polling.services import PollReport, poll_account
from tests.faults.test_marketplace_poll_killed import _account
from tests.web import compiled_translations, fresh_globals_per_request, login, make_ticket, post, world

__all__ = ["compiled_translations", "fresh_globals_per_request", "make_ticket", "world"]

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

#: A process of its own that takes SQLite's write lock and keeps it until told (or for N seconds).
HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("held", flush=True)
if sys.argv[2] == "stdin":
    sys.stdin.readline()
else:
    time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
print("released", flush=True)
"""


@contextmanager
def write_lock_held(database_url: str, seconds: float | None = None) -> Iterator[subprocess.Popen[str]]:
    """Another process holds the database's write lock: for ``seconds``, or until the block ends."""
    path = sa.make_url(database_url).database
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), "stdin" if seconds is None else str(seconds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "held"
        try:
            yield holder
        finally:
            if seconds is None:
                holder.stdin.write("go\n")
                holder.stdin.flush()
            assert holder.wait(30) == 0


def _in_thread(work: Any) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(work()), daemon=True)
    thread.start()
    return thread, out


def test_the_web_app_and_a_poll_wait_for_a_long_write_elsewhere_and_both_land(
    app: Any, session: Any, client: Any, world: Any, make_ticket: Any, database_url: str
) -> None:
    from helpdesk.extensions import db
    from helpdesk.tickets.models import Message

    ticket = make_ticket()
    ticket_id = ticket.id
    login(client, world.eu)
    token_page = f"/tickets/{ticket_id}"
    fake = FakeEbay().start()
    try:
        fake.seed(messages=6, orders=2)
        account_id = _account(session, fake)
        form = {"body": "Checked with the carrier: it left the depot.", "internal": "1"}

        def poll() -> PollReport:
            with app.app_context():
                try:
                    return poll_account(db.session, account_id)
                finally:
                    db.session.remove()

        with write_lock_held(database_url, seconds=2.0) as holder:
            web, answered = _in_thread(lambda: post(client, f"/tickets/{ticket_id}/reply", form, token_page))
            worker, polled = _in_thread(poll)
            web.join(60)
            worker.join(60)
            assert holder.stdout is not None and holder.stdout.readline().strip() == "released"
    finally:
        fake.stop()

    assert answered and answered[0].status_code == 302, answered and answered[0].get_data(as_text=True)[:300]
    assert polled and polled[0].error is None, polled
    session.expire_all()
    notes = session.scalars(sa.select(Message).where(Message.ticket_id == ticket_id, Message.is_internal)).all()
    assert [n.body_text for n in notes] == [form["body"]]
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Message).where(Message.channel_account_id == account_id))
        == 6
    )


def test_a_write_lock_held_past_the_busy_timeout_is_a_503_to_retry_not_a_500(
    app: Any, client: Any, world: Any, make_ticket: Any, database_url: str
) -> None:
    from helpdesk.extensions import db

    ticket_id = make_ticket().id
    login(client, world.eu)
    form = {"body": "A note while the database is busy.", "internal": "1"}
    sa.event.listen(db.engine, "connect", _short_busy_timeout)
    db.session.remove()
    db.engine.dispose()  # every connection from now on has the short timeout
    try:
        page = f"/tickets/{ticket_id}"
        with write_lock_held(database_url):
            answer = post(client, f"/tickets/{ticket_id}/reply", form, page)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 503, text[:500]
        assert "Database busy or unreachable" in text and "nothing was changed" in text
        assert "Traceback" not in text and "database is locked" not in text
        assert answer.headers["Retry-After"] == "5"
        assert 'href="/"' in text or "/inbox" in text  # the page in the app's layout, with a way on

        again = post(client, f"/tickets/{ticket_id}/reply", form, page)  # the lock is gone: it goes through
        assert again.status_code == 302
    finally:
        sa.event.remove(db.engine, "connect", _short_busy_timeout)
        db.engine.dispose()


def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA busy_timeout=300")
