"""The connector contract, as one test class every connector's tests subclass with its fake.

Each test drives the real connector through the helpdesk's real poller,
delivery task and webhook endpoint against the connector's loopback fake,
so what is checked is the whole path a seller depends on: first and
incremental polls, three polls = one, a page boundary that repeats a record,
every fault a platform produces (the cursor stays, the account backs off,
an expired token is refreshed once, a malformed record is quarantined with
its raw payload while the page goes on), the reply round trip, signed
pushes (accepted, tampered, replayed, stale), order look-ups and connection
diagnoses.  A hook the fake does not offer (``NotImplementedError``, e.g.
quota errors inside HTTP 200 on a platform that uses 429) skips its test.

A subclass sets ``kind`` and provides the ``fake`` fixture (a started fake
with the hooks of :class:`channels.fake.FakeServer`), and where it applies:
``assert_reply_wire`` (the fields the platform requires), ``known_order_number``,
``push_kwargs`` / ``stale_push`` (arguments for the fake's ``signed_push``).
The contract runs on SQLite; the storage code it reaches is covered on
PostgreSQL by the core's own tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa

from channels import registry
from channels.base import Capability, DiagnosisCode, Stream
from helpdesk.channelaccounts.models import ChannelAccount, Health
from helpdesk.channelaccounts.services import AccountInput, create_account, diagnose_account
from helpdesk.db import utcnow
from helpdesk.ingest.models import QuarantinedInput
from helpdesk.orders.models import Order
from helpdesk.polling.services import PollReport, poll_account
from helpdesk.tickets.models import Message, Ticket

ACCOUNT = "contract-store"


def _hook(fake: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call a fake's fault hook, skipping the test where the platform has no such fault."""
    try:
        return getattr(fake, name)(*args, **kwargs)
    except NotImplementedError:
        pytest.skip(f"the {fake.platform} fake has no {name}: the platform does not fail that way")


class ConnectorContract:
    kind: ClassVar[str]
    #: the settings key of the connector's read timeout in seconds (None: it has none to shorten)
    timeout_setting: ClassVar[str | None] = "timeout_s"
    page_size: ClassVar[int] = 5

    # --- what a subclass provides -----------------------------------------------------------------------

    @pytest.fixture
    def fake(self) -> Iterator[Any]:
        raise NotImplementedError("the subclass starts its platform's fake here")

    def assert_reply_wire(self, wire: dict[str, Any], text: str, ticket: Ticket) -> None:
        """The fake received ``wire`` for a reply saying ``text``; check the fields the platform requires."""
        raise NotImplementedError

    def known_order_number(self, fake: Any) -> str:
        raise NotImplementedError

    def push_kwargs(self, fake: Any) -> dict[str, Any]:
        """Arguments for ``fake.signed_push`` that describe a fresh, genuine notification."""
        return {}

    def stale_push(self, fake: Any) -> tuple[dict[str, str], bytes]:
        """Headers and body of a correctly signed notification too old to accept."""
        raise NotImplementedError

    # --- plumbing -----------------------------------------------------------------------------------------

    @pytest.fixture(params=["sqlite"])
    def backend(self, request: pytest.FixtureRequest) -> str:
        return str(request.param)

    @property
    def cls(self) -> Any:
        return registry.get(self.kind)

    def pulls(self, stream: Stream) -> bool:
        wanted = {Stream.MESSAGES: Capability.FETCH_MESSAGES, Stream.ORDERS: Capability.FETCH_ORDERS}[stream]
        return wanted in self.cls.capabilities

    @pytest.fixture
    def account(self, session: Any, fake: Any) -> ChannelAccount:
        settings, secrets = fake.account_settings()
        if self.timeout_setting and self.cls.schema.get(self.timeout_setting) is not None:
            settings = {**settings, self.timeout_setting: 2}
        account = create_account(
            session,
            AccountInput(
                kind=self.kind,
                name=ACCOUNT,
                platform=self.cls.platforms[0] or "none",
                settings=settings,
                secrets=secrets,
            ),
        )
        session.commit()
        return account

    def poll(self, session: Any, account: ChannelAccount, **kw: Any) -> PollReport:
        report = poll_account(session, account.id, page_size=self.page_size, **kw)
        session.expire_all()
        return report

    def seed(self, fake: Any, n: int = 7) -> tuple[int, int]:
        messages = n if self.pulls(Stream.MESSAGES) else 0
        orders = n if self.pulls(Stream.ORDERS) else 0
        fake.seed(messages=messages, orders=orders)
        return messages, orders

    def stored(self, session: Any, account: ChannelAccount) -> tuple[int, int]:
        messages = session.scalar(
            sa.select(sa.func.count(Message.id)).where(
                Message.channel_account_id == account.id, Message.direction == "in"
            )
        )
        orders = session.scalar(sa.select(sa.func.count(Order.id)).where(Order.channel_account_id == account.id))
        return int(messages or 0), int(orders or 0)

    def at_least(self, session: Any, account: ChannelAccount, expected: tuple[int, int]) -> None:
        messages, orders = self.stored(session, account)
        assert messages >= expected[0] and orders >= expected[1], (messages, orders, expected)

    # --- polling -----------------------------------------------------------------------------------------

    def test_first_poll_stores_what_waits_and_moves_the_cursor(self, session, fake, account) -> None:
        seeded = self.seed(fake)
        report = self.poll(session, account)
        assert report.error is None, report.error
        assert self.stored(session, account) == seeded
        assert account.cursor is not None and account.health == Health.OK and account.last_success_at is not None

    def test_an_incremental_poll_adds_only_what_is_new(self, session, fake, account) -> None:
        first = self.seed(fake)
        self.poll(session, account)
        second = self.seed(fake, 4)
        report = self.poll(session, account)
        assert report.error is None, report.error
        assert self.stored(session, account) == (first[0] + second[0], first[1] + second[1])
        assert report.ingested == second[0]

    def test_three_polls_store_what_one_poll_stores(self, session, fake, account) -> None:
        seeded = self.seed(fake)
        for _ in range(3):
            assert self.poll(session, account).error is None
        assert self.stored(session, account) == seeded
        tickets = session.scalar(sa.select(sa.func.count(Ticket.id)).where(Ticket.channel_account_id == account.id))
        if seeded[0]:
            assert 0 < tickets <= seeded[0]

    def test_a_record_repeated_across_a_page_boundary_is_stored_once(self, session, fake, account) -> None:
        _hook(fake, "repeat_across_page_boundary")
        seeded = self.seed(fake, 12)
        report = self.poll(session, account)
        assert report.error is None, report.error
        assert self.stored(session, account) == seeded

    # --- faults ------------------------------------------------------------------------------------------

    def _fault_keeps_cursor(self, session: Any, fake: Any, account: ChannelAccount, inject: Callable[[], None]) -> None:
        first = self.seed(fake)
        self.poll(session, account)
        cursor = account.cursor
        second = self.seed(fake, 3)
        inject()
        failed = self.poll(session, account)
        assert failed.error is not None
        assert account.cursor == cursor, "the cursor must not move past data a failed poll did not store"
        assert account.health in {Health.DEGRADED, Health.FAILING}
        assert account.next_poll_at is not None and account.next_poll_at > utcnow()
        recovered = self.poll(session, account)
        assert recovered.error is None, recovered.error
        assert self.stored(session, account) == (first[0] + second[0], first[1] + second[1])
        assert account.health == Health.OK

    def test_rate_limited_poll_keeps_the_cursor_and_waits_the_retry_after(self, session, fake, account) -> None:
        self._fault_keeps_cursor(session, fake, account, lambda: _hook(fake, "rate_limit_next", 30))
        # the poll that was refused asked for 30 s; the successful one that followed scheduled normally

    def test_retry_after_sets_the_next_poll(self, session, fake, account) -> None:
        self.seed(fake)
        _hook(fake, "rate_limit_next", 600)
        report = self.poll(session, account)
        assert report.error is not None
        assert account.next_poll_at >= utcnow() + timedelta(seconds=590)

    def test_server_error_keeps_the_cursor(self, session, fake, account) -> None:
        self._fault_keeps_cursor(session, fake, account, lambda: _hook(fake, "server_error_next"))

    def test_quota_error_inside_a_success_keeps_the_cursor(self, session, fake, account) -> None:
        self._fault_keeps_cursor(session, fake, account, lambda: _hook(fake, "quota_error_next"))

    def test_a_slow_answer_times_out_and_keeps_the_cursor(self, session, fake, account) -> None:
        if not self.timeout_setting or self.cls.schema.get(self.timeout_setting) is None:
            pytest.skip("the connector has no timeout setting")
        self._fault_keeps_cursor(session, fake, account, lambda: _hook(fake, "slow_next", 3.5))

    def test_an_expired_token_is_refreshed_once_and_the_poll_goes_on(self, session, fake, account) -> None:
        self.seed(fake)
        self.poll(session, account)
        before = fake.token_refreshes
        _hook(fake, "expire_tokens")
        second = self.seed(fake, 3)
        report = self.poll(session, account)
        assert report.error is None, report.error
        assert fake.token_refreshes == before + 1
        assert self.stored(session, account)[0] >= second[0]

    def test_a_malformed_record_is_quarantined_raw_while_the_page_goes_on(self, session, fake, account) -> None:
        _hook(fake, "add_malformed_record")
        seeded = self.seed(fake, 3)
        report = self.poll(session, account)
        assert report.error is None, report.error
        assert self.stored(session, account) == seeded
        rows = session.scalars(sa.select(QuarantinedInput)).all()
        assert len(rows) == 1 and rows[0].raw and rows[0].reason and rows[0].account == ACCOUNT
        parser = registry.raw_parser(rows[0].raw_format)
        assert parser is not None, f"{rows[0].raw_format!r} has no replay parser"
        with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the parser's own refusal is
            parser(rows[0].raw, ACCOUNT)

    # --- replies, orders, pushes --------------------------------------------------------------------------

    def test_a_reply_reaches_the_platform_with_the_fields_it_requires(self, session, fake, account, make_user):
        if Capability.SEND_REPLY not in self.cls.capabilities:
            pytest.skip("the connector sends no replies")
        from helpdesk.tickets import services
        from helpdesk.tickets.tasks import send_reply

        fake.seed(messages=1)
        self.poll(session, account)
        ticket = session.scalars(sa.select(Ticket).where(Ticket.channel_account_id == account.id)).first()
        agent = make_user(role="admin")
        text = "Thank you, the parcel left our warehouse today."
        message = services.add_reply(session, ticket, agent, text)
        session.commit()
        send_reply(message.id)
        session.expire_all()
        message = session.get(Message, message.id)
        assert message.delivery_state == "sent", message.delivery_error
        assert message.external_id
        assert len(fake.replies) == 1
        self.assert_reply_wire(fake.replies[0], text, ticket)

    def test_an_order_is_looked_up_by_its_number(self, session, fake, account) -> None:
        if Capability.FETCH_ORDER not in self.cls.capabilities:
            pytest.skip("the connector cannot look orders up")
        from helpdesk.channelaccounts.services import build_connector

        fake.seed(orders=3)
        number = self.known_order_number(fake)
        connector = build_connector(account)
        try:
            order = connector.fetch_order(number)
            assert order is not None and order.order_number == number and order.account == ACCOUNT
            assert connector.fetch_order("0" + number[1:] + "0") is None
        finally:
            connector.close()

    def _post(self, client: Any, headers: dict[str, str], body: bytes) -> Any:
        return client.post(f"/hooks/{self.kind}", data=body, headers=headers)

    def test_a_signed_push_is_accepted_once(self, session, client, fake, account) -> None:
        if Capability.PUSH not in self.cls.capabilities:
            pytest.skip("the platform pushes nothing")
        self.seed(fake, 2)
        headers, body = fake.signed_push(**self.push_kwargs(fake))
        first = self._post(client, headers, body)
        assert first.status_code == 200, first.get_data(as_text=True)
        after_first = self.stored(session, account)
        assert sum(after_first) > 0, "the push (or the poll it asked for) stored nothing"
        again = self._post(client, headers, body)  # a retry or a replay of the same delivery
        assert again.status_code == 200
        assert self.stored(session, account) == after_first

    def test_a_tampered_push_is_refused(self, session, client, fake, account) -> None:
        if Capability.PUSH not in self.cls.capabilities:
            pytest.skip("the platform pushes nothing")
        self.seed(fake, 2)
        headers, body = fake.signed_push(**self.push_kwargs(fake))
        tampered = body.replace(b"1", b"2", 1) if b"1" in body else body + b" "
        response = self._post(client, headers, tampered)
        assert response.status_code in {400, 401, 403}
        assert "Traceback" not in response.get_data(as_text=True)
        assert self.stored(session, account) == (0, 0)

    def test_a_stale_push_is_refused(self, session, client, fake, account) -> None:
        if Capability.PUSH not in self.cls.capabilities:
            pytest.skip("the platform pushes nothing")
        try:
            headers, body = self.stale_push(fake)
        except NotImplementedError:
            pytest.skip("the platform's notifications carry no time to judge")
        response = self._post(client, headers, body)
        assert response.status_code in {400, 401}
        assert self.stored(session, account) == (0, 0)

    # --- diagnosis and dry run ---------------------------------------------------------------------------

    def test_check_connection_says_ok(self, session, fake, account) -> None:
        diagnosis = diagnose_account(account)
        assert diagnosis.code is DiagnosisCode.OK, diagnosis

    def test_check_connection_names_refused_credentials(self, session, fake, account) -> None:
        _hook(fake, "revoke_credentials")
        assert diagnose_account(account).code is DiagnosisCode.CREDENTIALS_REFUSED

    def test_check_connection_names_a_missing_permission(self, session, fake, account) -> None:
        stream = Stream.MESSAGES if self.pulls(Stream.MESSAGES) else Stream.ORDERS
        _hook(fake, "drop_scope", stream)
        diagnosis = diagnose_account(account)
        assert diagnosis.code is DiagnosisCode.PERMISSION_MISSING, diagnosis

    def test_check_connection_names_an_unreachable_platform(self, session, fake, account) -> None:
        fake.stop()
        assert diagnose_account(account).code is DiagnosisCode.UNREACHABLE

    def test_a_missing_permission_blocks_one_stream_and_the_others_flow(self, session, fake, account) -> None:
        if not (self.pulls(Stream.MESSAGES) and self.pulls(Stream.ORDERS)):
            pytest.skip("the connector reads one stream")
        _hook(fake, "drop_scope", Stream.MESSAGES)
        seeded = self.seed(fake)
        report = self.poll(session, account)
        assert self.stored(session, account) == (0, seeded[1]), report
        assert account.health == Health.DEGRADED and "messages" in (account.problems or {})
        more = self.seed(fake, 3)  # and the next poll still reads the streams that work
        self.poll(session, account)
        assert self.stored(session, account) == (0, seeded[1] + more[1])

    def test_a_dry_run_prints_records_and_stores_nothing(self, app, session, fake, account) -> None:
        import json

        self.seed(fake, 3)
        result = app.test_cli_runner().invoke(args=["helpdesk", "channels", "dry-run", ACCOUNT, "--pages", "2"])
        assert result.exit_code == 0, result.output
        records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        assert {r["record"] for r in records} & {"message", "order"}
        session.expire_all()
        assert self.stored(session, account) == (0, 0)
        assert session.get(ChannelAccount, account.id).cursor is None
