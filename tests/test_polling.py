"""Polling: pages commit with their cursor; failures become health, never crashes."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
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
    Party,
    RejectedInput,
    TransientChannelError,
)
from helpdesk.channelaccounts.models import ChannelAccount, Health
from helpdesk.ingest.models import QuarantinedInput
from helpdesk.polling.services import poll_account
from helpdesk.tickets.models import Message
from tests.conftest import T0


class ScriptedConnector(Connector):
    """Serves ``MAILBOX`` in pages; the cursor is the offset already read."""

    def check_connection(self) -> Diagnosis:
        return Diagnosis(DiagnosisCode.OK)

    kind = "test-scripted"
    capabilities = frozenset({Capability.FETCH_MESSAGES})
    MAILBOX: ClassVar[list[InboundMessage | RejectedInput]] = []
    FAIL_AT_OFFSET: ClassVar[dict[int, Exception]] = {}
    fetches: ClassVar[list[str | None]] = []

    def fetch(self, cursor: str | None, limit: int = 500) -> FetchResult:
        type(self).fetches.append(cursor)
        offset = int(cursor or 0)
        if offset in self.FAIL_AT_OFFSET:
            raise self.FAIL_AT_OFFSET.pop(offset)
        page = self.MAILBOX[offset : offset + limit]
        return FetchResult(
            messages=[m for m in page if isinstance(m, InboundMessage)],
            rejected=[m for m in page if isinstance(m, RejectedInput)],
            cursor=str(offset + len(page)),
            more=offset + len(page) < len(self.MAILBOX),
        )


registry.register(ScriptedConnector)


def message(n: int) -> InboundMessage:
    return InboundMessage(
        channel="test-scripted",
        account="scripted",
        external_id=f"s-{n}",
        sent_at=T0 + timedelta(minutes=n),
        sender=Party(platform_id=f"buyer-{n % 3}"),
        body_text=f"hello {n}",
        external_thread_id=f"t-{n % 4}",
    )


@pytest.fixture
def account(app: Any, session: Any) -> ChannelAccount:
    # the scripted connector keeps its calls in class state, which a reader process would keep to itself;
    # tests/test_poll_reader.py covers reading ahead in a process
    app.config["HELPDESK_SETTINGS"] = dataclasses.replace(app.config["HELPDESK_SETTINGS"], poll_reader="thread")
    ScriptedConnector.MAILBOX = [message(n) for n in range(10)]
    ScriptedConnector.FAIL_AT_OFFSET = {}
    ScriptedConnector.fetches = []
    acct = ChannelAccount(name="scripted", kind="test-scripted", platform="ebay", display_name="Scripted")
    session.add(acct)
    session.commit()
    return acct


def count_messages(session: Any) -> int:
    return session.scalar(sa.select(sa.func.count(Message.id)))


def test_poll_reads_every_page_and_moves_the_cursor(session: Any, account: ChannelAccount) -> None:
    report = poll_account(session, account.id, page_size=4)
    assert (report.pages, report.ingested, report.error) == (3, 10, None)
    assert ScriptedConnector.fetches == [None, "4", "8"]
    session.refresh(account)
    assert account.cursor == "10"
    assert account.health == Health.OK
    assert account.next_poll_at is not None
    assert count_messages(session) == 10
    again = poll_account(session, account.id, page_size=4)
    assert (again.ingested, again.pages) == (0, 1)


def test_failure_mid_run_keeps_committed_pages_and_cursor(session: Any, account: ChannelAccount) -> None:
    ScriptedConnector.FAIL_AT_OFFSET = {8: TransientChannelError("HTTP 503", retry_after=30)}
    report = poll_account(session, account.id, page_size=4)
    assert report.ingested == 8
    assert "503" in (report.error or "")
    session.refresh(account)
    assert account.cursor == "8"  # exactly the data committed
    assert account.health == Health.DEGRADED
    assert account.consecutive_failures == 1
    first_backoff = account.next_poll_at
    # the next run resumes where the data stops: nothing lost, nothing twice
    report = poll_account(session, account.id, page_size=4)
    assert report.ingested == 2
    assert count_messages(session) == 10
    session.refresh(account)
    assert account.health == Health.OK and account.consecutive_failures == 0
    assert first_backoff is not None


def test_backoff_grows_with_consecutive_failures(session: Any, account: ChannelAccount) -> None:
    from helpdesk.db import utcnow

    delays = []
    for _ in range(3):
        ScriptedConnector.FAIL_AT_OFFSET = {0: TransientChannelError("timeout")}
        before = utcnow()
        poll_account(session, account.id, interval_s=60)
        session.refresh(account)
        delays.append((account.next_poll_at - before).total_seconds())
    assert delays[0] < delays[1] < delays[2]
    assert delays[2] <= 3600 + 5


def test_refused_credentials_mark_the_account_failing(session: Any, account: ChannelAccount) -> None:
    ScriptedConnector.FAIL_AT_OFFSET = {0: AuthError("invalid_grant: refresh token was used")}
    report = poll_account(session, account.id)
    assert "credentials refused" in (report.error or "")
    session.refresh(account)
    assert account.health == Health.FAILING
    assert "invalid_grant" in (account.health_detail or "")


def test_missing_secret_is_named(session: Any, account: ChannelAccount) -> None:
    account.secret_refs = {"password": "HELPDESK_TEST_SURELY_UNSET_VAR"}
    session.commit()
    report = poll_account(session, account.id)
    assert "HELPDESK_TEST_SURELY_UNSET_VAR" in (report.error or "")
    assert ScriptedConnector.fetches == []


def test_unparseable_input_is_quarantined_and_the_cursor_moves_past_it(session: Any, account: ChannelAccount) -> None:
    ScriptedConnector.MAILBOX.insert(3, RejectedInput(b"\x00garbage", "email", "no From header and no body"))
    report = poll_account(session, account.id, page_size=100)
    assert (report.ingested, report.quarantined) == (10, 1)
    row = session.scalars(sa.select(QuarantinedInput)).one()
    assert (row.raw, row.source, row.reason) == (b"\x00garbage", "poll:scripted", "no From header and no body")


def test_disabled_account_is_not_polled(session: Any, account: ChannelAccount) -> None:
    account.enabled = False
    session.commit()
    report = poll_account(session, account.id)
    assert report.notes == ["account is disabled"]
    assert ScriptedConnector.fetches == []


class RacingConnector(ScriptedConnector):
    """Another process commits its own poll of the same account while this one fetches."""

    kind = "test-racing"
    engine: ClassVar[sa.Engine | None] = None
    account_id: ClassVar[int] = 0

    def fetch(self, cursor: str | None, limit: int = 500) -> FetchResult:
        page = super().fetch(cursor, limit)
        assert self.engine is not None
        with self.engine.begin() as conn:
            conn.execute(sa.update(ChannelAccount).where(ChannelAccount.id == self.account_id).values(cursor="99"))
        return page


registry.register(RacingConnector)


def test_cursor_moved_by_another_poller_stops_the_run(session: Any, account: ChannelAccount) -> None:
    RacingConnector.engine = session.get_bind()
    RacingConnector.account_id = account.id
    account.kind = "test-racing"
    session.commit()
    report = poll_account(session, account.id, page_size=4)
    assert report.notes == ["cursor moved by another poller; stopped"]
    assert count_messages(session) == 0  # the page went back with the rolled-back cursor
    session.refresh(account)
    assert account.cursor == "99"
