"""The eBay connector against its loopback fake over real HTTP (Message API mode)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest

from channels.base import (
    AttachmentData,
    AuthError,
    ChannelError,
    DiagnosisCode,
    Direction,
    Party,
    RateLimited,
    Stream,
    TransientChannelError,
)
from channels.credentials import ACCESS_EXPIRES, ACCESS_TOKEN, REFRESH_EXPIRES, REFRESH_TOKEN
from channels.ebay import mapping
from channels.ebay.fake import FakeEbay
from channels.ebay.settings import SCOPE_MESSAGE, complete_settings
from channels.schema import ConfigError
from tests.channels.ebay.conftest import Connect
from tests.channels.ebay.support import drain, reply_to


def buyer_ids(fake: FakeEbay) -> set[str]:
    return {
        m["messageId"]
        for thread in fake.threads.values()
        for m in thread
        if m["senderUsername"] != fake.seller and "messageId" in m
    }


def ids(pages) -> list[str]:
    return [m.external_id for page in pages for m in page.messages]


# --- reading ---------------------------------------------------------------------------------------


def test_the_first_fetch_reads_every_waiting_message_and_order(fake: FakeEbay, connect: Connect) -> None:
    fake.seed(messages=12, orders=9)
    connector, _ = connect()
    pages, cursor = drain(connector, limit=5)
    assert set(ids(pages)) == buyer_ids(fake) and len(ids(pages)) == 12
    assert {o.order_number for p in pages for o in p.orders} == set(fake.orders)
    assert all(m.direction is Direction.IN and m.account == "lampworks" for p in pages for m in p.messages)
    assert json.loads(cursor or "{}")["v"] == 1
    for request in fake.requests_to("/commerce/message/v1/"):
        assert request.headers["x-ebay-c-marketplace-id"] == "EBAY_GB"
        assert request.headers["authorization"].startswith("Bearer ")


def test_an_incremental_fetch_brings_only_what_is_new(fake: FakeEbay, connect: Connect) -> None:
    fake.seed(messages=6, orders=3)
    connector, _ = connect()
    _, cursor = drain(connector)
    before = buyer_ids(fake)
    fake.seed(messages=5, orders=2)
    fake.clear_log()
    pages, _ = drain(connector, cursor)
    assert set(ids(pages)) == buyer_ids(fake) - before
    # listed again (the overlap), but only conversations with more than one new message are read again
    read = {r.path.rsplit("/", 1)[1] for r in fake.requests_to("/commerce/message/v1/conversation/")}
    continued = {m.external_thread_id for p in pages for m in p.messages if len(fake.threads[m.external_thread_id]) > 1}
    assert read == continued and continued


def test_three_fetches_of_the_same_state_give_the_same_records(fake: FakeEbay, connect: Connect) -> None:
    fake.seed(messages=7, orders=4)
    connector, _ = connect()
    runs = [drain(connector, limit=5)[0] for _ in range(3)]
    assert sorted(ids(runs[0])) == sorted(ids(runs[1])) == sorted(ids(runs[2]))
    orders = [sorted(o.order_number for p in run for o in p.orders) for run in runs]
    assert orders[0] == orders[1] == orders[2]


def test_a_page_fetched_again_from_its_cursor_gives_the_same_records(fake: FakeEbay, connect: Connect) -> None:
    fake.seed(messages=11, orders=11)
    connector, _ = connect()
    first = connector.fetch(None, 5)
    second = connector.fetch(first.cursor, 5)
    again = connector.fetch(first.cursor, 5)  # the poller crashed before storing the second page
    assert [m.external_id for m in again.messages] == [m.external_id for m in second.messages]
    assert [o.order_number for o in again.orders] == [o.order_number for o in second.orders]
    assert again.cursor == second.cursor


def test_a_record_that_jumps_ahead_between_pages_is_still_delivered(fake: FakeEbay, connect: Connect) -> None:
    fake.repeat_across_page_boundary()
    fake.seed(messages=14, orders=14)
    connector, _ = connect()
    pages, _ = drain(connector, limit=5)
    assert set(ids(pages)) == buyer_ids(fake)
    assert {o.order_number for p in pages for o in p.orders} == set(fake.orders)
    listed = [r.arg("offset") for r in fake.requests_to("/sell/fulfillment/v1/order")]
    assert listed == ["0", "5", "10", "0"], "the pass ends by reading the head again"


def test_a_long_thread_is_read_page_by_page_and_delivered_once(fake: FakeEbay, connect: Connect) -> None:
    cid = long_thread(fake, 60)
    connector, _ = connect()
    pages, _ = drain(connector)
    assert len(ids(pages)) == 60 == len(set(ids(pages)))
    offsets = [r.arg("offset") for r in fake.requests_to(f"/commerce/message/v1/conversation/{cid}")]
    assert offsets == ["0", "50"]


def long_thread(fake: FakeEbay, messages: int) -> str:
    """A conversation in which the buyer wrote ``messages`` times; its id."""
    first = fake.add_conversation(fake_buyer(), fake_listing(), "Many questions", "Question 0")
    cid = fake.message_home[first["messageId"]]
    for n in range(1, messages):
        fake.add_buyer_message(cid, "Many questions", f"Question {n}")
    return cid


def fake_buyer():
    from channels.ebay.fakedata import BUYERS

    return BUYERS[0]


def fake_listing():
    from channels.ebay.fakedata import LISTINGS

    return LISTINGS[0]


def test_the_sellers_messages_from_the_seller_centre_come_in_as_outgoing(fake: FakeEbay, connect: Connect) -> None:
    message = fake.add_conversation(fake_buyer(), fake_listing(), "Lamp", "Does it work with 110 V?")
    cid = fake.message_home[message["messageId"]]
    fake._seller_message(cid, "Yes, it has a universal socket.")
    connector, _ = connect(seller_username=None)  # learnt from the orders
    fake.seed(orders=1)
    page = connector.fetch(None)
    outgoing = [m for m in page.messages if m.direction is Direction.OUT]
    assert len(outgoing) == 1 and outgoing[0].recipient == Party(platform_id=fake_buyer().username)
    assert json.loads(page.cursor or "{}")["me"] == fake.seller


def test_without_orders_or_a_setting_the_seller_is_learnt_from_the_conversations(
    fake: FakeEbay, connect: Connect
) -> None:
    fake.seed(messages=3)
    connector, _ = connect(seller_username=None)
    page = connector.fetch(None)
    assert len(page.messages) == 3 and not page.problems
    assert json.loads(page.cursor or "{}")["me"] == fake.seller


def test_a_malformed_message_is_rejected_with_its_raw_payload_and_the_page_goes_on(
    fake: FakeEbay, connect: Connect
) -> None:
    fake.seed(messages=2)
    fake.add_malformed_record()
    fake.seed(messages=2)
    connector, _ = connect()
    page = connector.fetch(None)
    assert len(page.messages) == 4
    (rejected,) = page.rejected
    assert rejected.raw_format == mapping.RAW_MESSAGE and rejected.field == "messageId"
    assert json.loads(rejected.raw)["message"]["messageBody"] == "This message lost its id on the way."
    with pytest.raises(mapping.MappingError):
        mapping.parse_message_raw(rejected.raw, "lampworks")
    assert connector.fetch(page.cursor).rejected == []  # not read again: nothing new in that conversation


def test_returns_and_inquiries_become_threads_linked_to_their_orders(fake: FakeEbay, connect: Connect) -> None:
    fake.seed(orders=3)
    placed = list(fake.orders)
    fake.add_return(placed[0], reason=2)
    fake.add_inquiry(placed[1])
    connector, _ = connect()
    pages, _ = drain(connector)
    cases = {m.meta["thread_kind"]: m for p in pages for m in p.messages}
    assert cases["return"].order_refs == (placed[0],) and cases["return"].external_thread_id.startswith("return:")
    assert cases["item_not_received"].order_refs == (placed[1],)
    search = fake.requests_to("/post-order/v2/")
    assert search and all(r.headers["authorization"].startswith("IAF ") for r in search)


def test_cases_wait_for_the_first_pass_over_orders(fake: FakeEbay, connect: Connect) -> None:
    fake.seed(orders=12)
    fake.add_inquiry(next(iter(fake.orders)))
    connector, _ = connect()
    first = connector.fetch(None, 5)
    assert first.more and not fake.requests_to("/post-order/")
    pages, _ = drain(connector, first.cursor, 5)
    (inquiry,) = [m for p in pages for m in p.messages]
    assert inquiry.order_refs == (next(iter(fake.orders)),)


# --- faults ----------------------------------------------------------------------------------------


def test_429_is_rate_limited_with_the_retry_after(fake: FakeEbay, connect: Connect) -> None:
    fake.seed(messages=1)
    connector, _ = connect()
    fake.rate_limit_next(7, path="/commerce/message")
    with pytest.raises(RateLimited) as caught:
        connector.fetch(None)
    assert caught.value.retry_after == 7.0 and "2001" in str(caught.value)


def test_500_is_transient(fake: FakeEbay, connect: Connect) -> None:
    connector, _ = connect()
    fake.server_error_next(path="/sell/fulfillment")
    with pytest.raises(TransientChannelError) as caught:
        connector.fetch(None)
    assert not isinstance(caught.value, RateLimited)


def test_an_answer_slower_than_the_timeout_is_transient(fake: FakeEbay, connect: Connect) -> None:
    connector, _ = connect(timeout_s=0.5)
    connector.client.tokens.token()
    fake.slow_next(1.5, path="/sell/fulfillment")
    with pytest.raises(TransientChannelError, match="in time"):
        connector.fetch(None)


def test_an_expired_token_is_refreshed_once_and_the_call_retried(fake: FakeEbay, connect: Connect) -> None:
    fake.seed(messages=2)
    connector, store = connect()
    connector.fetch(None)
    old = store.get()[ACCESS_TOKEN]
    fake.expire_tokens()
    before = fake.token_refreshes
    page = connector.fetch(None)
    assert len(page.messages) == 2 and fake.token_refreshes == before + 1
    assert store.get()[ACCESS_TOKEN] != old


def test_a_refresh_writes_the_access_token_back_and_keeps_the_refresh_token(fake: FakeEbay, connect: Connect) -> None:
    fake.refresh_token_expires_in = 47304000
    connector, store = connect()
    refresh = store.get()[REFRESH_TOKEN]
    connector.fetch(None)
    secrets = store.get()
    assert secrets[REFRESH_TOKEN] == refresh, "eBay does not rotate refresh tokens"
    assert secrets[ACCESS_TOKEN] and datetime.fromisoformat(secrets[ACCESS_EXPIRES]) > datetime.now(UTC)
    assert datetime.fromisoformat(secrets[REFRESH_EXPIRES]).year >= datetime.now(UTC).year + 1
    (token_call,) = fake.requests_to("/identity/v1/oauth2/token")
    form = token_call.form()
    assert form["grant_type"] == "refresh_token" and SCOPE_MESSAGE in form["scope"].split()
    assert token_call.headers["authorization"].startswith("Basic ")


def test_revoked_credentials_are_an_auth_error(fake: FakeEbay, connect: Connect) -> None:
    connector, _ = connect()
    connector.fetch(None)
    fake.revoke_credentials()
    with pytest.raises(AuthError, match="connect the store again"):
        connector.fetch(None)


def test_a_wrong_cert_id_is_an_auth_error(fake: FakeEbay, connect: Connect) -> None:
    connector, _ = connect(secrets={"client_secret": "PRD-wrong"})
    with pytest.raises(AuthError, match="App ID and Cert ID"):
        connector.fetch(None)


def test_a_missing_message_scope_blocks_messages_while_orders_flow(fake: FakeEbay, connect: Connect) -> None:
    connector, _ = connect()
    fake.drop_scope(Stream.MESSAGES)
    fake.seed(messages=3, orders=3)
    page = connector.fetch(None)
    assert page.messages == [] and len(page.orders) == 3
    (problem,) = page.problems
    assert problem.stream is Stream.MESSAGES and problem.code is DiagnosisCode.PERMISSION_MISSING
    assert SCOPE_MESSAGE in problem.detail
    assert connector.client.refresher.refused == (SCOPE_MESSAGE,)


def test_a_blocked_stream_does_not_stop_the_others_in_later_polls(fake: FakeEbay, connect: Connect) -> None:
    connector, _ = connect()
    fake.drop_scope(Stream.MESSAGES)
    fake.seed(orders=2)
    first, cursor = drain(connector)
    known = set(fake.orders)
    fake.seed(orders=3)
    later, _ = drain(connector, cursor)
    assert {o.order_number for p in later for o in p.orders} >= set(fake.orders) - known != set()
    assert all(p.problems and p.problems[0].stream is Stream.MESSAGES for p in first + later)


def test_a_missing_fulfillment_scope_blocks_orders_and_cases_while_messages_flow(
    fake: FakeEbay, connect: Connect
) -> None:
    fake.seed(messages=3, orders=3)
    connector, _ = connect()
    cursor = connector.fetch(None).cursor
    fake.drop_scope(Stream.ORDERS)
    fake.seed(messages=2, orders=2)
    page = connector.fetch(cursor)
    assert len(page.messages) == 2 and page.orders == []
    assert [(p.stream, p.code) for p in page.problems] == [(Stream.ORDERS, DiagnosisCode.PERMISSION_MISSING)]


# --- replies ---------------------------------------------------------------------------------------


def test_a_reply_sends_exactly_the_fields_the_message_api_requires(fake: FakeEbay, connect: Connect) -> None:
    fake.seed(messages=1)
    connector, _ = connect()
    (message,) = connector.fetch(None).messages
    result = connector.send_reply(reply_to(message, "Yes, tracked delivery to Graz is included."))
    assert fake.replies == [
        {
            "conversationId": message.external_thread_id,
            "messageText": "Yes, tracked delivery to Graz is included.",
            "messageMedia": [],
            "emailCopyToSender": False,
        }
    ]
    stored = fake.threads[message.external_thread_id][-1]
    assert result.external_id == stored["messageId"] and result.sent_at.tzinfo is not None
    later = connector.fetch(None).messages
    assert [m.direction for m in later if m.external_id == result.external_id] == [Direction.OUT]


def test_a_retried_reply_is_not_sent_twice(fake: FakeEbay, connect: Connect) -> None:
    fake.seed(messages=1)
    connector, _ = connect()
    (message,) = connector.fetch(None).messages
    first = connector.send_reply(reply_to(message, "It left today."))
    again = connector.send_reply(reply_to(message, "It  left today."))
    assert again.external_id == first.external_id and len(fake.replies) == 1


def test_a_retried_reply_on_a_long_thread_is_not_sent_twice(fake: FakeEbay, connect: Connect) -> None:
    long_thread(fake, 70)
    connector, _ = connect()
    newest = max(connector.fetch(None).messages, key=lambda m: m.sent_at)
    first = connector.send_reply(reply_to(newest, "All answered below."))
    assert connector.send_reply(reply_to(newest, "All answered below.")) == first and len(fake.replies) == 1


def test_a_reply_over_2000_characters_or_with_files_is_refused_before_sending(fake: FakeEbay, connect: Connect) -> None:
    fake.seed(messages=1)
    connector, _ = connect()
    (message,) = connector.fetch(None).messages
    with pytest.raises(ChannelError, match="2000"):
        connector.send_reply(reply_to(message, "x" * 2001))
    invoice = (AttachmentData("a.pdf", "application/pdf", b"%"),)
    with_file = dataclasses.replace(reply_to(message, "See the invoice."), attachments=invoice)
    with pytest.raises(ChannelError, match="links"):
        connector.send_reply(with_file)
    assert fake.replies == []


def test_the_fake_refuses_a_message_over_the_limit_as_ebay_does(fake: FakeEbay, connect: Connect) -> None:
    fake.seed(messages=1)
    connector, _ = connect()
    (message,) = connector.fetch(None).messages
    with pytest.raises(ChannelError, match="355013"):
        connector.client.rest(
            "POST",
            "/commerce/message/v1/send_message",
            json={"conversationId": message.external_thread_id, "messageText": "y" * 2001},
            what="message",
        )


def test_replies_to_a_return_and_an_inquiry_go_to_their_case(fake: FakeEbay, connect: Connect) -> None:
    fake.seed(orders=2)
    fake.add_return()
    fake.add_inquiry()
    connector, _ = connect()
    pages, _ = drain(connector)
    cases = [m for p in pages for m in p.messages]
    results = [connector.send_reply(reply_to(m, f"Sorry about the {m.meta['case']}.", n)) for n, m in enumerate(cases)]
    assert fake.replies == [{"message": {"content": f"Sorry about the {m.meta['case']}."}} for m in cases]
    sent = fake.requests_to("/post-order/v2/", "POST")
    assert [r.path.split("/")[3] for r in sent] == [m.meta["case"] for m in cases]
    assert all(r.headers["authorization"].startswith("IAF ") for r in sent)
    assert len({r.external_id for r in results}) == 2


# --- look-ups and health ---------------------------------------------------------------------------


def test_an_order_is_looked_up_by_its_number(fake: FakeEbay, connect: Connect) -> None:
    fake.seed(orders=2)
    connector, _ = connect()
    number = next(iter(fake.orders))
    order = connector.fetch_order(number)
    assert order is not None and order.order_number == number and order.buyer.platform_id
    assert connector.fetch_order("99-00000-00000") is None


def test_check_connection_is_ok_on_a_working_account(fake: FakeEbay, connect: Connect) -> None:
    connector, _ = connect()
    diagnosis = connector.check_connection()
    assert diagnosis.ok, diagnosis
    assert [c.name for c in diagnosis.checks] == ["credentials", "messages", "orders", "cases"]


def test_check_connection_names_refused_credentials(fake: FakeEbay, connect: Connect) -> None:
    connector, _ = connect()
    fake.revoke_credentials()
    diagnosis = connector.check_connection()
    assert diagnosis.code is DiagnosisCode.CREDENTIALS_REFUSED and "again" in diagnosis.hint


def test_check_connection_names_the_missing_scope_and_where_to_grant_it(fake: FakeEbay, connect: Connect) -> None:
    connector, _ = connect()
    fake.drop_scope(Stream.MESSAGES)
    diagnosis = connector.check_connection()
    assert diagnosis.code is DiagnosisCode.PERMISSION_MISSING
    assert SCOPE_MESSAGE in diagnosis.hint and "User Tokens" in diagnosis.hint
    assert {c.name: c.code for c in diagnosis.checks}["orders"] is DiagnosisCode.OK


def test_check_connection_names_a_spent_quota(fake: FakeEbay, connect: Connect) -> None:
    connector, _ = connect()
    connector.client.tokens.token()
    fake.rate_limit_next(60, path="/commerce/message")
    assert connector.check_connection().code is DiagnosisCode.RATE_LIMITED


def test_check_connection_names_an_unreachable_platform(fake: FakeEbay, connect: Connect) -> None:
    connector, _ = connect()
    fake.stop()
    assert connector.check_connection().code is DiagnosisCode.UNREACHABLE


def test_unusable_settings_are_refused_naming_the_field(connect: Connect) -> None:
    with pytest.raises(ConfigError) as caught:
        connect(marketplace_id="EBAY_MARS")
    assert caught.value.field == "marketplace_id"
    with pytest.raises(ConfigError) as caught:
        complete_settings({"client_id": "x", "scopes": "https://api.ebay.com/oauth/api_scope"}, set())
    assert caught.value.field == "scopes"
    assert complete_settings({"client_id": "x", "marketplace_id": "EBAY_DE"}, set())["site_id"] == 77
    assert complete_settings({"client_id": "x"}, set())["site_id"] == 0  # the US site is 0


def test_live_demo_traffic_reads_cleanly(fake: FakeEbay, connect: Connect) -> None:
    import random

    rng = random.Random(5)
    for _ in range(150):
        fake.tick(rng)
    connector, _ = connect()
    pages, _ = drain(connector)
    messages = [m for p in pages for m in p.messages]
    assert not any(p.rejected or p.problems for p in pages)
    assert {m.meta["thread_kind"] for m in messages} == {"message", "return", "item_not_received"}
    assert any("Versand" in m.body_text or "envío" in m.body_text for m in messages)
    assert sum(len(p.orders) for p in pages) == len(fake.orders)


def test_a_cursor_from_a_time_reads_only_what_is_newer(fake: FakeEbay, connect: Connect) -> None:
    from datetime import timedelta

    fake.seed(messages=4, orders=2)
    connector, _ = connect()
    later, _ = drain(connector, connector.start_cursor(fake.now() + timedelta(hours=1)))
    assert [m for p in later for m in p.messages] == [] and [o for p in later for o in p.orders] == []
    everything, _ = drain(connector, connector.start_cursor(fake.now() - timedelta(days=30)))
    assert len([m for p in everything for m in p.messages]) == 4
    assert len([o for p in everything for o in p.orders]) == 2
    filters = [r.arg("filter") for r in fake.requests_to("/sell/fulfillment/v1/order")]
    assert filters[-1].startswith("lastmodifieddate:[") and filters[-1].endswith("..]")
