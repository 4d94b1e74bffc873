"""PostgreSQL unreachable for a while: a proxy between the helpdesk and the (shared) server is cut, then restored.

The real server is never stopped — every test run on the machine uses it.
During the outage a page answers 503 in words (the API the same in JSON),
never a trace; afterwards the same client works again on the same pool,
whose pre-ping replaced the dropped connections.  A poll cut between two
pages stores nothing of the page in flight, keeps its cursor where the data
is, and the next poll completes: each record once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from huey.exceptions import TaskLockedException
from sqlalchemy.orm import Session

from channels.ebay.fake import FakeEbay
from helpdesk.channelaccounts.models import ChannelAccount, Health
from helpdesk.polling.services import PollReport, poll_account
from tests.conftest import CHEAP_HASHING, _env
from tests.faults.harness import duplicates, engine_for, scalar
from tests.faults.proxy import FaultyProxy
from tests.faults.test_marketplace_poll_killed import _account
from tests.web import login

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])


@pytest.fixture
def proxy(database_url: str) -> Iterator[FaultyProxy]:
    url = sa.make_url(database_url)
    server = FaultyProxy((url.host or "127.0.0.1", url.port or 5432))
    try:
        yield server
    finally:
        server.close()


@contextmanager
def app_through(proxy: FaultyProxy, database_url: str, instance: Path, **env: str) -> Iterator[Flask]:
    """A second helpdesk on the same database, reaching it only through ``proxy``."""
    from helpdesk import create_app
    from helpdesk.extensions import db

    url = sa.make_url(database_url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app({**_env(url), **CHEAP_HASHING, **env}, instance_path=instance, overrides={"TESTING": True})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_a_page_during_the_outage_is_a_503_in_words_and_works_again_after(
    app: Any, session: Any, make_user: Any, proxy: FaultyProxy, database_url: str, tmp_path: Path
) -> None:
    user = make_user()
    session.refresh(user)
    session.close()  # the user's attributes stay loaded: nothing of this session goes through the proxy
    with app_through(proxy, database_url, tmp_path / "web") as web:
        client = web.test_client()
        login(client, user)
        assert client.get("/").status_code == 200

        with proxy.outage():
            page = client.get("/")
            api = client.get("/api/v1/tickets", headers={"Authorization": "Bearer hd_not-checked-while-down"})

        text = page.get_data(as_text=True)
        assert page.status_code == 503, text[:500]
        assert "Database busy or unreachable" in text and "Wait a few seconds, then try again" in text
        assert "Traceback" not in text and "psycopg" not in text
        assert page.headers["Retry-After"] == "5"
        assert api.status_code == 503 and api.get_json()["error"]["code"] == "database_unavailable"
        assert proxy.refused >= 1

        after = client.get("/")  # the same pool: dropped connections are replaced, none is handed out dead
        assert after.status_code == 200, after.get_data(as_text=True)[:500]
        assert "Agent" in after.get_data(as_text=True)  # still signed in: the page names the agent


MESSAGES, ORDERS, PAGE = 12, 6, 3


def test_a_poll_cut_off_from_the_database_between_pages_loses_nothing_and_completes_next_time(
    app: Any, session: Any, proxy: FaultyProxy, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpdesk import tasks
    from helpdesk.extensions import db

    fake = FakeEbay().start()
    try:
        fake.seed(messages=MESSAGES, orders=ORDERS)
        account_id = _account(session, fake)
        monkeypatch.setattr(tasks, "TASK_LEASE_TTL", timedelta(seconds=1))
        with (
            app_through(proxy, database_url, tmp_path / "worker", HELPDESK_TASKS_IMMEDIATE="false"),
            engine_for(database_url) as direct,
        ):
            commits = 0

            def cut_after_second_page(_session: Session) -> None:
                nonlocal commits
                commits += 1
                if commits == 2:
                    proxy.go_down()

            sa.event.listen(Session, "after_commit", cut_after_second_page)
            try:
                cut = poll_as_worker(account_id)
            finally:
                sa.event.remove(Session, "after_commit", cut_after_second_page)
            assert str(cut.error).startswith("database unavailable:"), cut
            stored = scalar(direct, "SELECT COUNT(*) FROM message")
            stored += scalar(direct, "SELECT COUNT(*) FROM order_record")
            assert 0 < stored < MESSAGES + ORDERS  # the pages before the cut, not the one in flight
            with direct.connect() as conn:
                next_poll = conn.execute(
                    sa.text("SELECT next_poll_at FROM channel_account WHERE id = :id"), {"id": account_id}
                ).scalar()
            assert next_poll is None  # still due: the next sweep polls it again

            proxy.come_back()
            db.session.remove()
            done = poll_when_lease_lapsed(account_id)

        assert done.error is None and done.pages >= 1, done
        with engine_for(database_url) as direct:
            assert scalar(direct, "SELECT COUNT(*) FROM message") == MESSAGES
            assert scalar(direct, "SELECT COUNT(*) FROM order_record") == ORDERS
            assert duplicates(direct, "message", "external_id") == []
        account = session.get(ChannelAccount, account_id)
        session.refresh(account)
        assert account.health == Health.OK and account.last_success_at is not None
    finally:
        fake.stop()


def poll_as_worker(account_id: int) -> PollReport:
    """The worker's poll of one account (under its task lease), in small pages."""
    from helpdesk.extensions import db
    from helpdesk.tasks import task_lease

    with task_lease(f"poll-account-{account_id}"):
        return poll_account(db.session, account_id, page_size=PAGE)


def poll_when_lease_lapsed(account_id: int) -> PollReport:
    """The next scheduled poll: skipped while the lease the cut poll could not give back lives (1 s here)."""
    deadline = time.monotonic() + 15
    while True:
        try:
            return poll_as_worker(account_id)
        except TaskLockedException:
            assert time.monotonic() < deadline, "the cut poll's lease never lapsed"
            time.sleep(0.2)
