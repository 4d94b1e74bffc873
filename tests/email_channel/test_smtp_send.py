"""Sending replies through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

from typing import Any

import pytest
from aiosmtpd.controller import Controller

from channels.base import (
    AccountConfig,
    AttachmentData,
    AuthError,
    ChannelError,
    OutboundReply,
    Party,
    TransientChannelError,
)
from channels.email import parse_email
from channels.email.connector import EmailConnector
from tests.email_channel.conftest import SMTP_PASSWORD
from tests.services.dovecot import free_port


def connector(controller: Controller, **overrides: Any) -> EmailConnector:
    secrets = {"password": "imap-secret", "smtp_password": overrides.pop("smtp_password", SMTP_PASSWORD)}
    settings = {
        "imap_host": "127.0.0.1",
        "user": "support@lampworks.example",
        "smtp_host": "127.0.0.1",
        "smtp_port": controller.port,
        "smtp_security": "none",
        "from_address": "support@lampworks.example",
        "from_name": "Lampworks Support",
        "timeout_s": 5,
    }
    settings.update(overrides)
    return EmailConnector(AccountConfig(name="support", kind="email", settings=settings, secrets=secrets))


def reply(**overrides: Any) -> OutboundReply:
    fields: dict[str, Any] = {
        "message_id": 501,
        "ticket_id": 123,
        "account": "support",
        "to": Party(email="jonas@example.test", name="Jonas Weber"),
        "subject": "Where is my lamp?",
        "body_text": "Hello Jonas,\n\nyour lamp left our warehouse today.\n\nKind regards",
        "in_reply_to": "buyer-2@example.test",
        "references": ("buyer-1@example.test",),
    }
    fields.update(overrides)
    return OutboundReply(**fields)


def test_a_reply_carries_sender_threading_headers_token_and_both_parts(smtp_server):
    controller, recorder = smtp_server
    attachment = AttachmentData("invoice-1042.pdf", "application/pdf", b"%PDF-1.4 fake")

    result = connector(controller).send_reply(reply(attachments=(attachment,)))

    (msg,) = recorder.received
    assert msg["From"] == "Lampworks Support <support@lampworks.example>"
    assert msg["To"] == "Jonas Weber <jonas@example.test>"
    assert msg["Reply-To"] == "support@lampworks.example"
    assert msg["Subject"] == "Re: Where is my lamp? [#123]"
    assert msg["In-Reply-To"] == "<buyer-2@example.test>"
    assert msg["References"] == "<buyer-1@example.test> <buyer-2@example.test>"
    assert msg["Message-ID"] == f"<{result.external_id}>"
    assert result.external_id.startswith("helpdesk.501.") and result.external_id.endswith("@lampworks.example")
    assert recorder.envelopes == [("support@lampworks.example", ["jonas@example.test"])]
    body = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert body is not None and "your lamp left our warehouse today." in body.get_content()
    assert html is not None and '<p dir="auto">Hello Jonas,</p>' in html.get_content()
    (part,) = list(msg.iter_attachments())
    assert (part.get_filename(), part.get_content_type(), part.get_content()) == (
        "invoice-1042.pdf",
        "application/pdf",
        b"%PDF-1.4 fake",
    )


def test_an_arabic_reply_reads_right_to_left_in_its_html_part(smtp_server):
    controller, recorder = smtp_server
    body = "مرحباً سارة،\n\nتم شحن طلبك اليوم.\n\nOrder 305-1234567-7654321"

    connector(controller).send_reply(reply(body_text=body))

    (msg,) = recorder.received
    html = msg.get_body(("html",)).get_content()
    assert '<p dir="auto">مرحباً سارة،</p>' in html
    assert '<p dir="auto">Order 305-1234567-7654321</p>' in html  # an English line keeps its own direction


def test_sending_again_gives_the_same_message_id_and_its_copy_dedupes_on_it(smtp_server):
    controller, recorder = smtp_server
    conn = connector(controller)

    first = conn.send_reply(reply(body_html="<p>Your lamp <b>left</b> today.</p>"))
    second = conn.send_reply(reply(body_html="<p>Your lamp <b>left</b> today.</p>"))

    assert first.external_id == second.external_id
    assert recorder.received[0]["Message-ID"] == recorder.received[1]["Message-ID"]
    copy = parse_email(recorder.received[0].as_bytes(), account="support")
    assert copy.external_id == first.external_id  # the id the pipeline dedupes a Sent/bounced copy on


def test_a_relay_reply_goes_to_the_alias_from_the_authorised_sender_keeping_the_subject(smtp_server):
    controller, recorder = smtp_server
    alias = Party(email="8xk2m4q7r9tz1bc@marketplace.amazon.de", name="Jonas Weber")
    subject = "Lieferung Anfrage von Amazon-Kunde Jonas Weber (Bestellung: 302-1234567-7654321)"

    connector(controller, from_address="orders@lampworks.example").send_reply(reply(to=alias, subject=f"RE: {subject}"))

    (msg,) = recorder.received
    assert msg["To"] == "Jonas Weber <8xk2m4q7r9tz1bc@marketplace.amazon.de>"
    assert msg["From"] == "Lampworks Support <orders@lampworks.example>"
    assert msg["Subject"] == f"RE: {subject} [#123]"
    assert recorder.envelopes[0][0] == "orders@lampworks.example"


def test_a_subject_with_the_token_already_is_not_stacked(smtp_server):
    controller, recorder = smtp_server
    connector(controller).send_reply(reply(subject="Re: Where is my lamp? [#123]", in_reply_to=None, references=()))
    (msg,) = recorder.received
    assert msg["Subject"] == "Re: Where is my lamp? [#123]"
    assert msg["In-Reply-To"] is None and msg["References"] is None


def test_a_temporary_refusal_is_transient(smtp_server):
    controller, recorder = smtp_server
    with pytest.raises(TransientChannelError, match="451"):
        connector(controller).send_reply(reply(to=Party(email="busy@example.test")))
    assert recorder.received == []


def test_a_permanent_refusal_carries_the_server_text(smtp_server):
    controller, _ = smtp_server
    with pytest.raises(ChannelError, match=r"550 5\.1\.1 no such user here") as raised:
        connector(controller).send_reply(reply(to=Party(email="gone@example.test")))
    assert not isinstance(raised.value, TransientChannelError)


def test_refused_credentials_are_an_auth_error(smtp_server):
    controller, _ = smtp_server
    with pytest.raises(AuthError, match="SMTP login refused: 535"):
        connector(controller, smtp_password="wrong").send_reply(reply())


def test_no_server_listening_is_transient():
    closed_port = free_port()
    conn = EmailConnector(
        AccountConfig(
            name="support",
            kind="email",
            settings={"imap_host": "127.0.0.1", "user": "s@x.test", "smtp_host": "127.0.0.1"}
            | {"smtp_port": closed_port, "smtp_security": "none", "timeout_s": 2},
            secrets={"password": "p"},
        )
    )
    with pytest.raises(TransientChannelError, match="SMTP connection failed"):
        conn.send_reply(reply())
