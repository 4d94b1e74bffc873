"""Mail damaged in transit still becomes a ticket with the right subject, sender and body."""

from __future__ import annotations

import pytest

from channels.email import parse_email

# fixture, subject, sender address, display name, body text
DAMAGED = [
    (
        # ">From anna.berg" before the header
        "damaged-stray-line-before-headers.eml",
        "Parcel 7731 has not arrived",
        "anna.berg@example.se",
        "Anna Berg",
        "Hej! Mitt paket 7731 har inte kommit fram än.\nKan ni kolla spårningen?",
    ),
    (
        # subject and encoded name folded without white space; "size guide says:" is no field name
        "damaged-unfolded-subject.eml",
        "Wrong size delivered for order 1042, please exchange size guide says: 38 is M",
        "anna-maria.bjork@example.se",
        "Anna-Maria Björk",
        "Hello, I ordered size M but got an S. Can I swap it?",
    ),
    (
        # an open quoted name takes the next line, though "(Returns:" looks like a field
        "damaged-unfolded-quoted-name.eml",
        "Return label",
        "karin.lindqvist@example.se",
        "Lindqvist, Karin (Returns: Stockholm)",
        "Please send me a return label for order 2210.",
    ),
]


@pytest.mark.parametrize(("name", "subject", "address", "display_name", "body"), DAMAGED)
def test_damaged_mail_keeps_subject_sender_and_body(fixture_mail, name, subject, address, display_name, body):
    message = fixture_mail(name)

    assert message.subject == subject
    assert message.sender.email == address
    assert message.sender.name == display_name
    assert message.body_text == body


def test_fields_below_the_damage_are_read(fixture_mail):
    message = fixture_mail("damaged-unfolded-subject.eml")

    assert message.external_id == "unfolded-0002@example.se"
    assert message.meta["to"] == "support@seller.example"


@pytest.mark.parametrize("stray", [">From someone", "From", "garbage", "X", "\u00a0"])
def test_any_short_stray_line_before_the_header_is_passed_over(make_mail, stray):
    raw = stray.encode() + b"\r\n" + make_mail("From: Anna Berg <anna@example.se>", "Subject: Parcel")
    message = parse_email(raw, account="support")

    assert (message.subject, message.sender.email) == ("Parcel", "anna@example.se")
    assert message.body_text == "Hello, where is my parcel?"


def test_mail_without_the_blank_line_keeps_its_first_body_line():
    raw = b"From: anna@example.se\r\nSubject: Parcel\r\nHello,\r\nwhere is my parcel?\r\n"
    message = parse_email(raw, account="support")

    assert message.subject == "Parcel"
    assert message.body_text == "Hello,\nwhere is my parcel?"
