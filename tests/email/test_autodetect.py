"""Recognising bounces, auto-replies and notifications."""

from __future__ import annotations

import pytest

from channels.base import AutoKind
from channels.email import parse_email


def _auto(make_mail, *headers: str, body: str = "Hello\n") -> AutoKind | None:
    return parse_email(make_mail(*headers, body=body), account="a").auto


def test_ordinary_mail_is_not_automatic(make_mail):
    assert _auto(make_mail, "From: dana@example.com", "Subject: Where is my parcel?") is None


def test_delivery_status_report_is_a_bounce(make_mail):
    auto = _auto(
        make_mail,
        "From: postmaster-bot@mx.example.com",
        "Subject: Notice",
        'Content-Type: multipart/report; report-type="delivery-status"; boundary="r"',
        body="--r\nContent-Type: text/plain\n\nFailed.\n--r--\n",
    )

    assert auto is AutoKind.BOUNCE


def test_delivery_status_part_without_report_wrapper_is_a_bounce(make_mail):
    auto = _auto(
        make_mail,
        "From: relay@mx.example.com",
        "Subject: Notice",
        'Content-Type: multipart/mixed; boundary="r"',
        body=(
            "--r\nContent-Type: text/plain\n\nFailed.\n"
            "--r\nContent-Type: message/delivery-status\n\nStatus: 5.0.0\n--r--\n"
        ),
    )

    assert auto is AutoKind.BOUNCE


@pytest.mark.parametrize(
    "sender",
    [
        "MAILER-DAEMON@mx.example.com",
        "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        "postmaster@example.jp",
        "System Administrator <Postmaster@example.net>",
    ],
)
def test_mailer_daemon_and_postmaster_send_bounces(make_mail, sender):
    assert _auto(make_mail, f"From: {sender}", "Subject: Hello") is AutoKind.BOUNCE


@pytest.mark.parametrize(
    "subject",
    [
        "Undelivered Mail Returned to Sender",
        "Delivery Status Notification (Failure)",
        "Mail delivery failed: returning message to sender",
        "failure notice",
        "Returned mail: see transcript for details",
        "Undeliverable: Your order",
        "Unzustellbar: Ihre Bestellung",
        "Non remis : Votre commande",
        "No se puede entregar: Pedido",
        "Ваше сообщение не доставлено",
        "メッセージを配信できませんでした",
        "系统退信",
    ],
)
def test_bounce_subjects(make_mail, subject):
    assert _auto(make_mail, "From: relay@mx.example.com", f"Subject: {subject}") is AutoKind.BOUNCE


@pytest.mark.parametrize(
    "subject",
    ["Delivery failure of my parcel", "Undeliverable parcel came back", "Returned mail order items", "Out of stock?"],
)
def test_customer_subjects_about_deliveries_are_not_bounces(make_mail, subject):
    assert _auto(make_mail, "From: dana@example.com", f"Subject: {subject}") is None


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated",
        "Auto-Submitted: auto-replied; owner-email=dana@example.com",
        "X-Autoreply: yes",
        "X-Autorespond: vacation",
        "Precedence: bulk",
        "Precedence: junk",
        "Precedence: auto_reply",
        "X-Auto-Response-Suppress: All",
    ],
)
def test_auto_reply_headers(make_mail, header):
    assert _auto(make_mail, "From: dana@example.com", "Subject: Re: order", header) is AutoKind.AUTO_REPLY


@pytest.mark.parametrize("header", ["Auto-Submitted: no", "Auto-Submitted: No", "Precedence: list"])
def test_headers_that_do_not_mean_automatic(make_mail, header):
    assert _auto(make_mail, "From: dana@example.com", "Subject: Re: order", header) is None


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Re: Order 1042",
        "Automatic reply: Order 1042",
        "Auto-Reply: Order 1042",
        "Abwesenheitsnotiz: Ihre Bestellung",
        "Automatische Antwort: Ihre Bestellung",
        "Réponse automatique : Votre commande",
        "Respuesta automática: Su pedido",
        "Risposta automatica: Ordine",
        "自動返信: ご注文について",
        "自动回复：订单",
    ],
)
def test_vacation_subjects(make_mail, subject):
    assert _auto(make_mail, "From: dana@example.com", f"Subject: {subject}") is AutoKind.AUTO_REPLY


def test_null_return_path_means_a_machine_wrote_it(make_mail):
    assert _auto(make_mail, "Return-Path: <>", "From: dana@example.com", "Subject: Hi") is AutoKind.AUTO_REPLY


def test_read_receipt_is_a_notification(make_mail):
    auto = _auto(
        make_mail,
        "From: dana@example.com",
        "Subject: Read: Order 1042",
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="m"',
        body=(
            "--m\nContent-Type: text/plain\n\nYour message was displayed.\n"
            "--m\nContent-Type: message/disposition-notification\n\n"
            "Disposition: manual-action/MDN-sent-manually; displayed\n--m--\n"
        ),
    )

    assert auto is AutoKind.NOTIFICATION


def test_abuse_feedback_report_is_a_notification(make_mail):
    auto = _auto(
        make_mail,
        "From: feedback@arf.example.net",
        "Subject: FW: Some subject",
        'Content-Type: multipart/report; report-type=feedback-report; boundary="f"',
        body="--f\nContent-Type: text/plain\n\nAbuse report.\n--f--\n",
    )

    assert auto is AutoKind.NOTIFICATION


def test_bounce_beats_auto_submitted(make_mail):
    auto = _auto(
        make_mail,
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>",
        "Auto-Submitted: auto-replied",
        "Subject: Mail delivery failed",
    )

    assert auto is AutoKind.BOUNCE


def test_automatic_mail_gets_no_language_guess(make_mail):
    message = parse_email(
        make_mail("From: dana@example.com", "Auto-Submitted: auto-replied", body="Ich bin nicht im Büro bis Montag.\n"),
        account="a",
    )

    assert message.auto is AutoKind.AUTO_REPLY
    assert message.language is None
