"""The Trading API path (``messages_api=trading``): GetMemberMessages, AddMemberMessageRTQ, Trading's errors."""

from __future__ import annotations

import pytest

from channels.base import AuthError, ChannelError, Direction, OutboundReply, RateLimited
from channels.ebay import mapping
from channels.ebay.fake import FakeEbay
from channels.ebay.sending import MemberMessageLimit
from channels.ebay.settings import TRADING
from channels.ebay.trading import Q, parse, text
from tests.channels.ebay.conftest import Connect
from tests.channels.ebay.support import drain, reply_to


def test_questions_are_read_in_a_creation_window_200_a_page(fake: FakeEbay, connect: Connect) -> None:
    fake.seed(messages=230)
    connector, _ = connect(TRADING)
    pages, _ = drain(connector)
    got = [m for p in pages for m in p.messages]
    assert len(got) == 230 == len({m.external_id for m in got})
    assert all(m.meta["api"] == "trading" and ":" in (m.external_thread_id or "") for m in got)
    calls = fake.requests_to("/ws/api.dll")
    assert [parse(c.body).findtext(f"{Q}Pagination/{Q}PageNumber") for c in calls] == ["1", "2"]
    first = calls[0]
    assert first.headers["x-ebay-api-call-name"] == "GetMemberMessages" and first.headers["x-ebay-api-siteid"] == "3"
    assert first.headers["x-ebay-api-compatibility-level"] and first.headers["x-ebay-api-iaf-token"].startswith("a-")
    assert text(parse(first.body), Q + "StartCreationTime") and text(parse(first.body), Q + "EndCreationTime")


def test_the_next_fetch_reads_only_questions_asked_since(fake: FakeEbay, connect: Connect) -> None:
    fake.seed(messages=5)
    connector, _ = connect(TRADING)
    _, cursor = drain(connector)
    fake.seed(messages=3)
    pages, _ = drain(connector, cursor)
    assert len([m for p in pages for m in p.messages]) == 3


def test_a_spent_call_limit_inside_http_200_is_rate_limited(fake: FakeEbay, connect: Connect) -> None:
    connector, _ = connect(TRADING)
    fake.quota_error_next()
    with pytest.raises(RateLimited, match="518"):
        connector.fetch(None)
    assert connector.fetch(None).problems == []


def test_the_rest_fake_reports_quota_with_429_only(fake: FakeEbay) -> None:
    with pytest.raises(NotImplementedError):
        fake.quota_error_next()


def test_an_invalid_token_931_is_renewed_once_then_refused(fake: FakeEbay, connect: Connect) -> None:
    fake.seed(messages=2)
    connector, _ = connect(TRADING)
    connector.fetch(None)
    fake.expire_tokens()
    before = fake.token_refreshes
    assert len(connector.fetch(None).messages) == 2 and fake.token_refreshes == before + 1
    fake.revoke_credentials()
    with pytest.raises(AuthError):
        connector.fetch(None)


def test_an_answer_goes_out_as_rtq_and_comes_back_as_the_same_record(fake: FakeEbay, connect: Connect) -> None:
    fake.seed(messages=1)
    connector, _ = connect(TRADING)
    page = connector.fetch(None)
    (question,) = page.messages
    result = connector.send_reply(reply_to(question, "Yes & it ships <today>."))
    assert fake.replies == [
        {
            "ItemID": question.meta["item_id"],
            "Body": "Yes & it ships <today>.",
            "DisplayToPublic": "false",
            "EmailCopyToSender": "false",
            "ParentMessageID": question.external_id,
            "RecipientID": question.sender.platform_id,
        }
    ]
    rtq = fake.requests_to("/ws/api.dll")[-1]
    assert rtq.headers["x-ebay-api-call-name"] == "AddMemberMessageRTQ" and b"&amp;" in rtq.body
    assert result.external_id == mapping.answer_id(question.external_id, "Yes & it ships <today>.")
    again = [m for p in drain(connector)[0] for m in p.messages if m.direction is Direction.OUT]
    assert [m.external_id for m in again] == [result.external_id]


def test_the_fake_refuses_an_answer_without_its_parent(fake: FakeEbay, connect: Connect) -> None:
    fake.seed(messages=1)
    connector, _ = connect(TRADING)
    (question,) = connector.fetch(None).messages
    orphan = reply_to(question, "Hello")
    orphan = OutboundReply(**{**{f: getattr(orphan, f) for f in orphan.__slots__}, "thread_meta": {
        **question.meta, "parent_message_id": "404404"}})  # fmt: skip
    with pytest.raises(ChannelError, match="20139"):
        connector.send_reply(orphan)


def test_member_messages_are_held_to_75_a_minute_per_seller() -> None:
    seller = "limit-test-seller"
    for n in range(75):
        MemberMessageLimit.take(seller, now=1000.0 + n / 10)
    with pytest.raises(RateLimited) as caught:
        MemberMessageLimit.take(seller, now=1010.0)
    assert caught.value.retry_after == pytest.approx(50.0)
    MemberMessageLimit.take(seller, now=1060.0)  # the first calls have left the window
