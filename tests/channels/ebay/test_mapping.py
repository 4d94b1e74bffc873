"""eBay payloads from named fixture files → the helpdesk's records."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from channels.base import Direction, OrderRecord
from channels.ebay import mapping, trading
from channels.ebay.mapping import MappingError
from channels.ebay.trading import Q
from tests.channels.ebay.support import data, data_json

SELLER = "lampworks_uk"


def thread_messages(seller: str | None = SELLER):
    listed = data_json("get_conversations_page1.json")["conversations"][0]
    thread = data_json("get_conversation_thread.json")["messages"]
    return [mapping.rest_message(listed, m, account="shop", seller=seller, marketplace="EBAY_GB") for m in thread]


def test_a_buyer_message_keys_thread_buyer_and_listing() -> None:
    first = thread_messages()[0]
    assert first.external_id == "9920381101" and first.external_thread_id == "4419027735"
    assert first.direction is Direction.IN and first.recipient is None
    assert first.sender.platform_id == "alpine_finds_22"
    assert first.sent_at == datetime(2026, 1, 3, 18, 22, 10, tzinfo=UTC)
    assert first.meta["item_id"] == "395512340987" and first.meta["thread_kind"] == "message"
    assert first.channel == "ebay" and first.platform == "ebay" and first.site == "EBAY_GB"


def test_entities_in_a_message_body_are_undone() -> None:
    assert thread_messages()[0].body_text == "Is the lamp still available? Thanks & regards"


def test_attached_media_stay_links() -> None:
    first = thread_messages()[0]
    assert first.attachments == ()
    assert first.meta["media_urls"] == "https://i.ebayimg.example/images/socket.jpg"
    assert first.meta["media_names"] == "socket.jpg"


def test_the_sellers_own_message_is_outgoing_with_the_buyer_as_recipient() -> None:
    reply = thread_messages()[1]
    assert reply.direction is Direction.OUT
    assert reply.recipient is not None and reply.recipient.platform_id == "alpine_finds_22"


def test_the_seller_is_matched_whatever_the_case() -> None:
    assert thread_messages(seller="LampWorks_UK")[1].direction is Direction.OUT


def test_a_conversation_without_a_listing_has_no_item() -> None:
    listed = data_json("get_conversations_page1.json")["conversations"][1]
    message = mapping.rest_message(listed, listed["latestMessage"], account="s", seller=SELLER, marketplace=None)
    assert "item_id" not in message.meta and message.direction is Direction.OUT


@pytest.mark.parametrize(("drop", "field"), [("messageId", "messageId"), ("createdDate", "createdDate"),
                                             ("senderUsername", "senderUsername")])  # fmt: skip
def test_a_message_missing_a_required_field_names_it(drop: str, field: str) -> None:
    listed = data_json("get_conversations_page1.json")["conversations"][0]
    message = dict(listed["latestMessage"])
    del message[drop]
    with pytest.raises(MappingError) as caught:
        mapping.rest_message(listed, message, account="s", seller=SELLER, marketplace=None)
    assert caught.value.field == field


def test_a_quarantined_message_maps_again_from_its_raw_bytes() -> None:
    listed = data_json("get_conversations_page1.json")["conversations"][0]
    raw = mapping.message_raw(listed, listed["latestMessage"], SELLER, "EBAY_GB")
    again = mapping.parse_message_raw(raw, "shop")
    assert again.external_id == "9920381144" and again.account == "shop" and again.meta["item_id"] == "395512340987"


def test_times_with_an_offset_are_normalised_to_utc() -> None:
    assert mapping.parse_time("2026-01-06T22:30:00.000+01:00", "t") == datetime(2026, 1, 6, 21, 30, tzinfo=UTC)
    assert mapping.parse_time("2026-01-06T22:30:00", "t").tzinfo is UTC
    with pytest.raises(MappingError):
        mapping.parse_time("06/01/2026", "t")


# --- Trading ---------------------------------------------------------------------------------------


def exchanges():
    return list(trading.parse(data("get_member_messages_page2.xml")).iter(Q + "MemberMessageExchange"))


def test_a_trading_question_keys_on_item_and_buyer() -> None:
    question, answer = mapping.member_exchange(exchanges()[0], account="shop", seller=SELLER, marketplace="EBAY_GB")
    assert question.external_id == "2281904467" and question.external_thread_id == "395512340987:alpine_finds_22"
    assert question.sender.email == "5c1e0a9d33b7f2e84a61@members.ebay.com"
    assert question.body_text == "Hello, can you ship this to Graz with tracking? Thanks & regards"
    assert question.meta["parent_message_id"] == "2281904467" and question.meta["api"] == "trading"
    assert question.meta["question_type"] == "Shipping"
    assert answer.direction is Direction.OUT and answer.recipient == question.sender
    assert answer.external_id == mapping.answer_id("2281904467", "Yes, tracked delivery to Austria is included.")
    assert answer.sent_at == datetime(2026, 1, 5, 7, 58, 40, tzinfo=UTC)


def test_the_answer_we_sent_and_the_answer_read_back_share_their_id() -> None:
    assert mapping.answer_id("1", "Yes,  tracked\ndelivery.") == mapping.answer_id("1", "Yes, tracked delivery.")


def test_a_message_without_a_listing_is_threaded_by_member() -> None:
    (message,) = mapping.member_exchange(exchanges()[1], account="shop", seller=SELLER, marketplace=None)
    assert message.external_thread_id == "member:wisla_collector" and "item_id" not in message.meta
    assert message.sender.email is None


def test_an_exchange_without_a_message_id_is_refused_and_its_raw_xml_replays_to_the_same_refusal() -> None:
    broken = exchanges()[2]
    with pytest.raises(MappingError) as caught:
        mapping.member_exchange(broken, account="shop", seller=SELLER, marketplace=None)
    assert caught.value.field == "Question.MessageID"
    with pytest.raises(MappingError):
        mapping.parse_member_message_raw(trading.to_bytes(broken), "shop")
    assert mapping.parse_member_message_raw(trading.to_bytes(exchanges()[0]), "shop").external_id == "2281904467"


def test_trading_ack_warning_is_success_and_failure_carries_errors() -> None:
    page = trading.parse(data("get_member_messages_page2.xml"))
    assert trading.ack(page) == "Warning" and trading.errors(page)[0].severity == "Warning"
    failed = trading.parse(data("get_member_messages_invalid_token.xml"))
    assert trading.ack(failed) == "Failure" and trading.errors(failed)[0].code == "931"


def test_trading_xml_with_an_external_entity_is_not_resolved() -> None:
    hostile = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/hostname">]><r>&x;</r>'
    assert "localhost" not in (trading.parse(hostile).text or "")


def test_request_text_is_escaped() -> None:
    body = trading.add_member_message_rtq("1", "2", "buyer", "Fish & chips <b>now</b>")
    assert b"Fish &amp; chips &lt;b&gt;now&lt;/b&gt;" in body
    assert trading.text(trading.parse(body), f"{Q}MemberMessage/{Q}Body") == "Fish & chips <b>now</b>"


# --- orders ----------------------------------------------------------------------------------------


def test_an_order_carries_money_buyer_lines_site_and_address() -> None:
    order = mapping.order(data_json("get_order_shipped_to_austria.json"), account="shop")
    assert isinstance(order, OrderRecord)
    assert (order.order_number, order.status, order.currency) == ("27-13905-66214", "FULFILLED", "GBP")
    assert order.total == Decimal("93.40")
    assert order.buyer.platform_id == "alpine_finds_22" and order.buyer.name == "Katrin Moser"
    assert order.buyer.email == "5c1e0a9d33b7f2e84a61@members.ebay.com" and order.buyer.country == "AT"
    assert order.site == "EBAY_AT"
    assert order.shipping_address == {"city": "Graz", "postal_code": "8010", "country": "AT"}
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        ("LAMP-BR-70", 1, Decimal("64.50")),
        ("POT-EN-BL", 3, Decimal("9.63")),
    ]
    assert order.lines[0].external_id == "10071283950012"
    assert order.placed_at == datetime(2026, 1, 2, 14, 5, 51, tzinfo=UTC)


def test_a_cancelled_order_without_personal_data_still_maps() -> None:
    order = mapping.order(data_json("get_order_cancelled_without_address.json"), account="shop")
    assert order.status == "CANCELED" and order.total == Decimal("19.95") and order.currency == "EUR"
    assert order.buyer.platform_id == "k8f2q1zx" and order.buyer.email is None and order.buyer.name is None
    assert order.shipping_address == {}
    assert order.placed_at == datetime(2026, 1, 6, 21, 30, tzinfo=UTC)
    assert order.site == "EBAY_DE" and order.lines[0].unit_price == Decimal("0.00")


def test_an_order_without_a_total_is_refused() -> None:
    payload = data_json("get_order_shipped_to_austria.json")
    del payload["pricingSummary"]
    with pytest.raises(MappingError) as caught:
        mapping.order(payload, account="shop")
    assert caught.value.field == "pricingSummary.total"


# --- cases -----------------------------------------------------------------------------------------


def test_a_return_is_a_thread_of_its_own_linked_to_its_order() -> None:
    members = data_json("return_search_page1.json")["members"]
    message = mapping.return_case(members[0], account="shop", marketplace="EBAY_GB")
    assert message.external_id == "return-5000012345" and message.external_thread_id == "return:5000012345"
    assert message.order_refs == ("27-13905-66214",) and message.sender.platform_id == "alpine_finds_22"
    assert message.meta["thread_kind"] == "return" and message.meta["reason"] == "ARRIVED_DAMAGED"
    assert message.meta["respond_by"] == "2026-01-13T10:11:12.000Z"
    assert message.body_text == "The shade is dented & the switch rattles."
    quiet = mapping.return_case(members[1], account="shop", marketplace=None)
    assert quiet.order_refs == () and quiet.body_text == "The buyer asked to return 2 × 395512341154."


def test_an_inquiry_is_an_item_not_received_thread() -> None:
    (member,) = data_json("inquiry_search_page1.json")["members"]
    message = mapping.inquiry_case(member, account="shop", marketplace="EBAY_GB", order_number="27-13905-66214")
    assert message.external_thread_id == "inquiry:5100000777" and message.meta["thread_kind"] == "item_not_received"
    assert message.order_refs == ("27-13905-66214",) and message.meta["transaction_id"] == "10071283950012"
    assert message.sent_at == datetime(2026, 1, 16, 9, tzinfo=UTC) and "64.5 GBP" in message.body_text
    assert mapping.inquiry_case(member, account="shop", marketplace=None).order_refs == ()


def test_the_order_lines_name_the_inquirys_key() -> None:
    lines = mapping.order_lines(data_json("get_order_shipped_to_austria.json"))
    assert ("395512340987", "10071283950012") in lines
