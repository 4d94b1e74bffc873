"""The buyer mail the fake makes up: fast, varied, and read by the real parser as buyer messages."""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from channels.email.fake import EmailFake, MailWriter, iter_mail, malformed_mail
from channels.email.mime import MailParseError, parse_email


@pytest.fixture(scope="module")
def parsed() -> list:
    return [parse_email(raw, account="m") for raw in iter_mail(600, seed=3)]


def test_ten_thousand_mails_are_seeded_in_well_under_a_second(fake: EmailFake) -> None:
    started = time.process_time()  # CPU time: a busy machine must not fail this
    fake.seed(messages=10_000)
    assert time.process_time() - started < 1.0
    assert len(fake.flags()) == 10_000


def test_every_seeded_mail_is_a_buyer_message(parsed: list) -> None:
    assert all(m.auto is None for m in parsed), "no seeded mail may look like an auto-reply or a notice"
    assert all(m.sender.email and (m.stripped_text or m.body_text).strip() for m in parsed)
    assert all("lampworks.example" not in (m.sender.email or "") for m in parsed), "the loop guard would drop it"
    assert len({m.external_id for m in parsed}) == len(parsed)


def test_the_mix_has_relays_contact_forms_html_replies_and_five_languages(parsed: list) -> None:
    platforms = Counter(m.platform for m in parsed)
    assert platforms["amazon"] > 100 and platforms["shopify"] > 50 and platforms[None] > 150
    languages = {m.language for m in parsed}
    assert {"en", "de", "ja", "es", "ar"} <= languages
    assert sum(1 for m in parsed if m.body_html) > 50
    assert any(m.original and b"ISO-2022-JP" in m.original for m in parsed)
    earlier = {m.external_id for m in parsed}
    replies = [m for m in parsed if m.in_reply_to]
    assert len(replies) > 30 and all(m.in_reply_to in earlier and m.references for m in replies)


def test_amazon_relay_mail_carries_its_order_alias_and_the_buyers_words(parsed: list) -> None:
    amazon = [m for m in parsed if m.platform == "amazon"]
    assert all(m.sender.email.split("@")[1].startswith("marketplace.amazon.") for m in amazon)
    assert all(len(m.order_refs) == 1 and m.order_refs[0] in m.subject for m in amazon)
    assert all(m.stripped_text and "Begin message" not in m.stripped_text for m in amazon)
    assert {m.site for m in amazon} >= {"GB", "DE", "JP", "ES", "SA"}
    by_alias: dict[str, set[str]] = {}
    for m in amazon:
        by_alias.setdefault(m.sender.email, set()).add(m.sender.name)
    assert all(len(names) == 1 for names in by_alias.values()), "one alias per buyer"


def test_shopify_contact_forms_name_the_customer_not_the_mailer(parsed: list) -> None:
    forms = [m for m in parsed if m.platform == "shopify"]
    assert forms and all(m.meta["shopify_message_kind"] == "contact_form" for m in forms)
    assert all(m.sender.email and not m.sender.email.endswith("shopify.com") for m in forms)
    assert all(m.stripped_text and m.stripped_text in m.body_text for m in forms), "the form's message field"


def test_the_malformed_mail_is_refused_by_the_parser() -> None:
    with pytest.raises(MailParseError, match="no sender address"):
        parse_email(malformed_mail(datetime.now(UTC)), account="m")


def test_repeats_put_the_same_message_id_under_a_new_uid(fake: EmailFake) -> None:
    fake.repeat_across_page_boundary()
    fake.seed(messages=8)
    ids = [parse_email(raw, account="m").external_id for raw in fake.messages()]
    assert len(ids) == 10 and len(set(ids)) == 8
    assert ids[3] == ids[5] and ids[8] == ids[9]


def test_ticks_write_mail_and_answer_replies_the_seller_sent(fake: EmailFake) -> None:
    rng = random.Random(1)
    for _ in range(10):
        fake.tick(rng)
    assert 3 <= len(fake.messages()) <= 10
    writer = MailWriter("support@lampworks.example", "Lampworks")
    wire = {
        "to_address": "lea.schaefer@example.net",
        "to_name": "Lea Schäfer",
        "subject": "Re: Frage zu Keramik-Teekanne [#12]",
        "message_id": "helpdesk.3.abc@lampworks.example",
        "references": ["q1@example.net"],
        "text": "Ja, die Teekanne gibt es auch in Weiß.",
    }
    answer = parse_email(writer.answer(rng, datetime.now(UTC), wire), account="m")
    assert answer.in_reply_to == "helpdesk.3.abc@lampworks.example"
    assert answer.references == ("q1@example.net", "helpdesk.3.abc@lampworks.example")
    assert answer.subject == "Re: Frage zu Keramik-Teekanne [#12]" and answer.sender.name == "Lea Schäfer"
    assert answer.language == "de"
