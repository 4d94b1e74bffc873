"""A buyer writes, an agent answers, the answer's copies come back: one ticket, no loops."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from helpdesk.polling.services import poll_account
from helpdesk.tickets import delivery
from helpdesk.tickets.models import Message, Ticket
from helpdesk.tickets.services import add_reply
from tests.email_channel.conftest import mail


def send_queued(session: Any, message_id: int) -> str:
    claimed = delivery.start(session, message_id)
    assert not isinstance(claimed, delivery.Outcome)
    session.commit()
    outcome = delivery.send(session, *claimed)
    session.commit()
    return outcome.state


def test_reply_round_trip_through_dovecot_and_smtp(session, mailbox, email_account, smtp_server, make_user):
    controller, recorder = smtp_server
    mailbox.append(mail(1))
    mailbox.create("Sent")
    account = email_account(smtp_host="127.0.0.1", smtp_port=controller.port, smtp_security="none", sent_folder="Sent")
    assert poll_account(session, account.id).ingested == 1
    ticket = session.scalar(sa.select(Ticket))
    agent = make_user(email="agent@lampworks.example", name="Mia")

    reply = add_reply(session, ticket, agent, "Your parcel left today.")
    session.commit()
    assert send_queued(session, reply.id) == "sent"

    (sent,) = recorder.received
    assert sent["To"].addresses[0].addr_spec == "jonas@example.test"
    assert sent["Subject"] == f"Re: Question 1 about my order [#{ticket.id}]"
    assert sent["In-Reply-To"] == "<buyer-1@example.test>"
    session.refresh(reply)
    assert (reply.delivery_state, f"<{reply.external_id}>") == ("sent", sent["Message-ID"])

    # The server files a copy under Sent; the buyer answers our reply, quoting its Message-ID.
    mailbox.append(sent.as_bytes(), folder="Sent")
    mailbox.append(
        mail(
            2,
            subject=f"Re: Question 1 about my order [#{ticket.id}]",
            message_id="<buyer-2@example.test>",
            extra={"In-Reply-To": sent["Message-ID"], "References": f"<buyer-1@example.test> {sent['Message-ID']}"},
        )
    )
    report = poll_account(session, account.id)

    assert (report.error, report.ingested) == (None, 1)
    stored = list(session.scalars(sa.select(Message).order_by(Message.id)))
    assert [(m.direction, m.ticket_id) for m in stored] == [("in", ticket.id), ("out", ticket.id), ("in", ticket.id)]
    assert session.scalar(sa.select(sa.func.count(Ticket.id))) == 1
