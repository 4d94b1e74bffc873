"""Silence is an error: three missed intervals make an account failing, with how long and why, everywhere it shows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from huey.exceptions import TaskLockedException

from helpdesk import leases, tasks
from helpdesk.channelaccounts.health import summarise
from helpdesk.channelaccounts.models import Health
from helpdesk.channelaccounts.silence import record_skip, silence_of
from helpdesk.db import utcnow
from tests.channels.test_accounts import plain
from tests.test_cli import run
from tests.web import post


def _quiet_for(session: Any, account: Any, minutes: int) -> None:
    account.health = Health.OK
    account.last_success_at = utcnow() - timedelta(minutes=minutes)
    session.commit()


def test_three_missed_intervals_are_silence_two_are_not(app: Any, session: Any) -> None:
    account = plain(session)
    _quiet_for(session, account, 2)
    assert silence_of(account, 60) is None
    _quiet_for(session, account, 4)
    silence = silence_of(account, 60)
    assert silence is not None and silence.minutes == 4 and silence.last_attempt == "none"
    assert silence_of(account, 120) is None  # its own interval counts, not the helpdesk's
    account.enabled = False
    assert silence_of(account, 60) is None  # a switched-off account is not expected to poll


def test_the_sentence_says_how_long_and_what_became_of_the_last_attempt(app: Any, session: Any) -> None:
    account = plain(session)
    _quiet_for(session, account, 25)
    with app.test_request_context():
        assert silence_of(account, 60).sentence() == (
            "Not polled for 25 minutes; no poll was attempted since: check that the worker is running."
        )
        record_skip(account, "another poll of this account held its lock")
        assert "the last attempt was skipped because another poll of this account still held its lock" in (
            silence_of(account, 60).sentence()
        )
        account.health, account.health_detail, account.last_error_at = Health.FAILING, "HTTP 503 from the API", utcnow()
        assert silence_of(account, 60).sentence() == (
            "Not polled for 25 minutes; the last attempt failed: HTTP 503 from the API"
        )
        (row,) = summarise(session, [account], 60)
        assert row.state == "failing"
        assert row.warnings.count("HTTP 503 from the API") == 0  # said once, inside the sentence


def test_a_poll_skipped_for_a_held_lock_is_recorded_and_explained(
    app: Any, session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpdesk.extensions import db
    from helpdesk.polling.tasks import _poll_now

    monkeypatch.setattr(tasks.huey, "immediate", False)
    account = plain(session)
    _quiet_for(session, account, 10)
    other = leases.RenewedLease(db.engine, f"task:poll-account-{account.id}", timedelta(seconds=30))
    assert other.take()
    try:
        with pytest.raises(TaskLockedException):
            _poll_now(account.id)
    finally:
        other.release()
    session.expire_all()
    assert account.problems["skipped"]["why"] == "another poll of this account held its lock"
    with app.test_request_context():
        (row,) = summarise(session, [account], 60)
    assert row.state == "failing" and "skipped because another poll" in " ".join(row.warnings)
    _poll_now(account.id)  # the lease is free again: the poll runs, succeeds and the account is fine
    session.expire_all()
    assert "skipped" not in account.problems and silence_of(account, 60) is None


def test_channels_list_and_the_health_endpoint_report_silence(app: Any, session: Any, client: Any) -> None:
    account = plain(session)
    assert client.get("/health").json == {
        "status": "ok",
        "database": "ok",
        "channels": {"silent": 0},
        "outbox": {"behind_s": 0},
    }
    _quiet_for(session, account, 30)
    listed = run(app, "channels", "list").output
    assert "failing" in listed and "Not polled for 30 minutes" in listed
    health = client.get("/health")
    assert health.status_code == 200  # the web server is fine; a monitor alerts on "degraded"
    assert health.json == {"status": "degraded", "database": "ok", "channels": {"silent": 1}, "outbox": {"behind_s": 0}}
    assert "plain-de" not in health.get_data(as_text=True)  # no sign-in here: store names stay private


def test_admins_are_told_once_per_silence_and_again_after_the_next_one(
    app: Any, session: Any, client: Any, make_user: Any
) -> None:
    from helpdesk.channelaccounts.silence import notice_silent_accounts
    from helpdesk.notifications.models import Notification
    from tests.web import login

    admin = make_user("admin@example.test", role="admin")
    make_user("agent@example.test")
    account = plain(session)
    _quiet_for(session, account, 30)
    assert notice_silent_accounts(session, 60) == 1
    session.commit()
    assert notice_silent_accounts(session, 60) == 0  # the next minute's check: nothing new to say
    notes = session.scalars(sa.select(Notification)).all()
    assert [(n.user_id, n.kind, n.ticket_id) for n in notes] == [(admin.id, "channel_silent", None)]
    login(client, admin)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "has not been polled since" in page and "check that the worker is running" in page
    opened = post(client, f"/notifications/{notes[0].id}/open", {}, token_from="/notifications/")
    assert opened.headers["Location"].endswith(f"/channels/{account.id}")
    from helpdesk.polling.services import poll_account

    poll_account(session, account.id)  # back to health: the next silence is news again
    session.expire_all()
    assert silence_of(account, 60) is None and "silence_noticed" not in account.problems
    _quiet_for(session, account, 45)
    assert notice_silent_accounts(session, 60) == 1
