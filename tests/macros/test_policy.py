"""Platform reply rules, checked before a reply leaves: what each rule catches and what it lets through."""

from __future__ import annotations

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
