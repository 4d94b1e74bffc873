"""Platform reply rules, checked before a reply leaves: what each rule catches and what it lets through."""

from __future__ import annotations

import pytest

from macros.policy import AttachmentInfo, ReplyPolicy, check_reply

STRICT = ReplyPolicy(
    platform="market",
    max_chars=200,
    forbid_links=True,
    allowed_link_hosts=("market.example", "dhl.de"),
    forbid_email_addresses=True,
    forbid_phone_numbers=True,
    plain_text_only=True,
    max_attachments=2,
    max_attachment_bytes=1000,
    order_number=r"\d{3}-\d{7}-\d{7}",
)


def codes(text: str, *attachments: AttachmentInfo) -> list[str]:
    return [v.code for v in check_reply(STRICT, text, attachments)]


def test_a_plain_polite_reply_passes() -> None:
    text = "Hallo Jonas, your order 113-4820571-3390215 left on 05.01.2026; tracking at https://www.dhl.de/track."
    assert codes(text) == []


def test_contact_details_and_outside_links_are_caught_with_their_place() -> None:
    text = "Write to help@shop.example or call +49 30 1234 5678, or see lampworks-shop.com/faq"
    found = check_reply(STRICT, text)
    assert [v.code for v in found] == ["email_address", "phone_number", "link"]
    assert text[found[0].start : found[0].end] == "help@shop.example"
    assert all(v.blocking for v in found)


def test_length_html_and_attachments() -> None:
    assert codes("x" * 201) == ["too_long"]
    html = check_reply(STRICT, "<b>Thanks</b>")
    assert [(v.code, v.blocking) for v in html] == [("html", False)]
    files = [AttachmentInfo("a.pdf", "application/pdf", 600)] * 3
    assert codes("ok", *files) == ["attachments_too_large", "too_many_attachments"]


def test_no_policy_means_no_rules() -> None:
    assert check_reply(None, "mail me at a@b.example") == []


AMAZON_LIKE = ReplyPolicy(
    platform="market",
    forbid_links=True,
    allowed_link_hosts=("dhl.com", "dhl.de"),
    forbid_email_addresses=True,
    forbid_phone_numbers=True,
    forbid_off_platform=True,
    forbid_marketing=True,
    order_number=r"\d{3}-\d{7}-\d{7}",
)


@pytest.mark.parametrize(
    ("text", "code", "found"),
    [
        ("Write to jonas at gmail dot com please", "email_address", "jonas at gmail dot com"),
        ("jonas [at] lampworks [dot] de", "email_address", "jonas [at] lampworks [dot] de"),
        ("メールはｊｏｎａｓ＠ｇｍａｉｌ．ｃｏｍまで", "email_address", "ｊｏｎａｓ＠ｇｍａｉｌ．ｃｏｍ"),
        ("Ruf an: ＋４９ ３０ １２３４ ５６７８", "phone_number", "＋４９ ３０ １２３４ ５６７８"),
        ("اتصل بنا على ٠٥٠١٢٣٤٥٦٧", "phone_number", "٠٥٠١٢٣٤٥٦٧"),
        ("Add me on WhatsApp for faster help", "off_platform", "WhatsApp"),
        ("加我微信吧", "off_platform", "微信"),
        ("Use the coupon code LAMP10 for 10% off your next order", "marketing", "coupon code"),
        ("Please leave a positive review if you are happy", "marketing", "leave a positive review"),
        ("See bit.ly/lamp-offer", "link", "bit.ly/lamp-offer"),
    ],
)
def test_obfuscated_and_foreign_forms_are_caught(text: str, code: str, found: str) -> None:
    hits = [v for v in check_reply(AMAZON_LIKE, text) if v.code == code]
    assert hits, f"{code} not found in {text!r}"
    assert text[hits[0].start : hits[0].end] == found


@pytest.mark.parametrize(
    "text",
    [
        "Your order 113-4820571-3390215 was shipped on 05.01.2026 with DHL.",
        "Tracking: https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?tracking-id=00340434161094042557",
        "The tracking number is JJD000390007813012 and the parcel weighs 1.2 kg.",
        "We will refund 64.50 EUR today; it reaches your account in 3-5 working days.",
        "Bitte haben Sie noch zwei Werktage Geduld. Wir sind Montag bis Freitag für Sie da.",
        "ご注文番号 113-4820571-3390215 の商品は本日発送いたしました。",
        "We are at your service: the item arrived at the warehouse at 10 am.",
    ],
)
def test_ordinary_replies_order_and_tracking_numbers_pass(text: str) -> None:
    assert check_reply(AMAZON_LIKE, text) == []
