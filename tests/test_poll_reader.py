"""Pages read ahead in a process of their own: same records, failures carried back, a dead reader costs nothing.

The connector here serves pages from memory, and what it does in the reader
process (fail, die, hang) is decided by class attributes the parent sets
before the poll forks it: the child sees them as they were at the fork.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa

from channels import registry
from channels.base import (
    AuthError,
    Capability,
    Connector,
    Diagnosis,
    DiagnosisCode,
    FetchResult,
    InboundMessage,
    InvalidDelivery,
    Party,
    TransientChannelError,
)
from helpdesk.channelaccounts.models import ChannelAccount, Health
from helpdesk.polling.reading import InlineReader, ProcessReader, ThreadReader, in_reader_process, page_reader
from helpdesk.polling.services import poll_account
from helpdesk.tickets.models import Message
from tests.conftest import T0

MESSAGES = 30
PAGE = 4


class PagedConnector(Connector):
    """``MESSAGES`` messages in pages; the cursor is the offset read.  In a reader process it may misbehave."""

    kind = "test-paged"
    capabilities = frozenset({Capability.FETCH_MESSAGES})
    in_child: ClassVar[dict[int, str]] = {}  # offset → what the reader process does there: die, hang, auth, busy, odd
    pid_file: ClassVar[Path | None] = None

    def check_connection(self) -> Diagnosis:
        return Diagnosis(DiagnosisCode.OK)

    def fetch(self, cursor: str | None, limit: int = 500) -> FetchResult:
        offset = int(cursor or 0)
        if in_reader_process():
            self._misbehave(self.in_child.get(offset))
        page = [_message(n) for n in range(offset, min(offset + limit, MESSAGES))]
        return FetchResult(messages=page, cursor=str(offset + len(page)), more=offset + len(page) < MESSAGES)

    def _misbehave(self, what: str | None) -> None:
        if self.pid_file is not None:
            self.pid_file.write_text(str(os.getpid()))
        if what == "die":
            os._exit(3)
        if what == "hang":
            time.sleep(600)
        if what == "auth":
            raise AuthError("the token was revoked")
        if what == "busy":
            raise TransientChannelError("HTTP 503", retry_after=120)
        if what == "odd":  # an exception whose constructor pickling cannot call again
            raise InvalidDelivery("body.id", "is missing", "json")


registry.register(PagedConnector)


def _message(n: int) -> InboundMessage:
    return InboundMessage(
        channel="test-paged",
        account="paged",
        external_id=f"p-{n}",
        sent_at=T0 + timedelta(minutes=n),
        sender=Party(platform_id=f"buyer-{n % 5}"),
        body_text=f"message {n}",
        external_thread_id=f"t-{n % 7}",
    )


@pytest.fixture
def account(app: Any, session: Any) -> ChannelAccount:
    PagedConnector.in_child = {}
    PagedConnector.pid_file = None
    acct = ChannelAccount(name="paged", kind="test-paged", platform="ebay", display_name="Paged")
    session.add(acct)
    session.commit()
    return acct


def _use_reader(app: Any, how: str) -> None:
    app.config["HELPDESK_SETTINGS"] = dataclasses.replace(app.config["HELPDESK_SETTINGS"], poll_reader=how)


def _stored(session: Any) -> list[str]:
    return list(session.scalars(sa.select(Message.external_id)))


def test_the_default_reads_ahead_in_a_process_and_connectors_with_an_after_commit_hook_read_in_line(app: Any) -> None:
    from helpdesk.config import load_settings

    assert load_settings({"HELPDESK_SECRET_KEY": "k" * 32}).poll_reader == "process"
    connector = PagedConnector.__new__(PagedConnector)
    assert isinstance(page_reader(connector, PAGE, "process"), ProcessReader)
    assert isinstance(page_reader(connector, PAGE, "thread"), ThreadReader)

    class Marking(PagedConnector):
        def committed(self, page: FetchResult) -> None:
            pass

    assert isinstance(page_reader(Marking.__new__(Marking), PAGE, "process"), InlineReader)


@pytest.mark.parametrize("how", ["process", "thread", "inline"])
def test_every_reader_stores_each_message_once_and_ends_at_the_last_cursor(
    app: Any, session: Any, account: ChannelAccount, how: str
) -> None:
    _use_reader(app, how)
    report = poll_account(session, account.id, page_size=PAGE, max_pages=100)
    assert (report.error, report.pages, report.ingested) == (None, 8, MESSAGES)
    stored = _stored(session)
    assert sorted(stored) == sorted(f"p-{n}" for n in range(MESSAGES))
    session.refresh(account)
    assert account.cursor == str(MESSAGES) and account.health == Health.OK


def test_a_poll_capped_in_pages_stops_its_reader_and_the_next_poll_goes_on(
    app: Any, session: Any, account: ChannelAccount, tmp_path: Path
) -> None:
    PagedConnector.pid_file = tmp_path / "reader.pid"
    report = poll_account(session, account.id, page_size=PAGE, max_pages=3)
    assert (report.pages, report.ingested) == (3, 12)
    assert _gone(int(PagedConnector.pid_file.read_text()))  # the reader, reading ahead, was stopped and reaped
    session.refresh(account)
    assert account.cursor == "12"
    report = poll_account(session, account.id, page_size=PAGE, max_pages=100)
    assert report.ingested == MESSAGES - 12 and len(set(_stored(session))) == MESSAGES


def test_a_reader_process_that_dies_ends_the_poll_as_a_temporary_failure_and_loses_nothing(
    app: Any, session: Any, account: ChannelAccount
) -> None:
    PagedConnector.in_child = {16: "die"}
    report = poll_account(session, account.id, page_size=PAGE, max_pages=100)
    assert "page reader process ended unexpectedly (exit code 3)" in (report.error or "")
    session.refresh(account)
    assert account.cursor == "16" and len(_stored(session)) == 16  # the cursor covers exactly what is stored
    assert account.health == Health.DEGRADED

    PagedConnector.in_child = {}
    report = poll_account(session, account.id, page_size=PAGE, max_pages=100)
    assert report.error is None and report.ingested == MESSAGES - 16
    assert sorted(_stored(session)) == sorted(f"p-{n}" for n in range(MESSAGES))


@pytest.mark.parametrize(
    ("what", "said", "health"),
    [
        ("auth", "credentials refused: the token was revoked", Health.FAILING),
        ("busy", "temporary failure: HTTP 503", Health.DEGRADED),
        ("odd", "body.id: is missing", Health.FAILING),
    ],
)
def test_a_failure_in_the_reader_process_reaches_the_poll_as_if_read_in_line(
    app: Any, session: Any, account: ChannelAccount, what: str, said: str, health: Health
) -> None:
    PagedConnector.in_child = {8: what}
    before = time.time()
    report = poll_account(session, account.id, page_size=PAGE, max_pages=100)
    assert said in (report.error or "")
    session.refresh(account)
    assert account.cursor == "8" and len(_stored(session)) == 8
    assert account.health == health
    if what == "busy":  # the platform's Retry-After came back across the pipe
        assert account.next_poll_at is not None
        assert account.next_poll_at.timestamp() - before >= 110


def _poll_in_child(env: dict[str, str], instance: str, account_id: int) -> None:
    from helpdesk import create_app
    from helpdesk.extensions import db

    app = create_app(env, instance_path=Path(instance))
    with app.app_context():
        report = poll_account(db.session, account_id, page_size=PAGE, max_pages=100)
    Path(instance, "report.txt").write_text(repr(report))
    os._exit(0)


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in state  # reparented to an init that does not reap: dead all the same


def test_a_poller_killed_takes_its_reader_process_with_it(
    app: Any, session: Any, account: ChannelAccount, database_url: str, tmp_path: Path
) -> None:
    from helpdesk.extensions import db
    from tests.faults.harness import child_env

    PagedConnector.in_child = {8: "hang"}
    PagedConnector.pid_file = tmp_path / "reader.pid"
    account_id = account.id
    session.close()
    for engine in db.engines.values():
        engine.dispose()
    env = child_env(database_url, tmp_path / "poller")
    poller = multiprocessing.get_context("fork").Process(
        target=_poll_in_child, args=(env, str(tmp_path / "poller"), account_id), daemon=True
    )
    poller.start()
    deadline = time.monotonic() + 60
    while not (PagedConnector.pid_file.exists() and PagedConnector.pid_file.read_text()):
        report = tmp_path / "poller" / "report.txt"
        assert time.monotonic() < deadline, f"the reader never started: {report.exists() and report.read_text()}"
        time.sleep(0.05)
    reader = int(PagedConnector.pid_file.read_text())
    assert not _gone(reader)
    os.kill(poller.pid, signal.SIGKILL)  # type: ignore[arg-type]
    poller.join(10)
    deadline = time.monotonic() + 10
    while not _gone(reader):
        assert time.monotonic() < deadline, "the reader process outlived its poller"
        time.sleep(0.05)
