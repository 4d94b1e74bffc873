"""The ingestion pipeline: threading, customers, orders, reopening, events."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import AttachmentData, AutoKind, Direction, OrderRecord, Party
from helpdesk import events
from helpdesk.customers.models import Customer, CustomerIdentity
from helpdesk.ingest.pipeline import ingest
from helpdesk.orders.services import upsert_orders
from helpdesk.tickets.models import Attachment, AttachmentBlob, Message, Ticket, TicketStatus


def tickets(session: Any) -> list[Ticket]:
    return list(session.scalars(sa.select(Ticket).order_by(Ticket.id)))


@pytest.fixture(autouse=True)
def _account(make_account: Any) -> None:
    make_account()


def test_platform_thread_id_groups_messages_into_one_ticket(session: Any, make_message: Any) -> None:
    batch = [
        make_message(external_thread_id="conv-1"),
        make_message(external_thread_id="conv-1"),
        make_message(external_thread_id="conv-2"),
    ]
    result = ingest(session, batch, source="test")
    session.commit()
    assert result.ingested == 3
    assert result.tickets_created == 2
    rows = tickets(session)
    assert [t.message_count for t in rows] == [2, 1]
    assert rows[0].external_thread_id == "conv-1"
    assert rows[0].status == TicketStatus.NEW
    # the next batch continues the existing thread instead of opening a new ticket
    ingest(session, [make_message(external_thread_id="conv-1")], source="test")
    session.commit()
    assert [t.message_count for t in tickets(session)] == [3, 1]


def test_email_references_thread_across_batches(session: Any, make_message: Any, make_account: Any) -> None:
    make_account(name="mailbox", kind="email", platform=None)
    buyer = Party(email="Buyer@Example.test", name="Mia")
    first = make_message(account="mailbox", channel="email", external_id="a@mail", sender=buyer)
    ingest(session, [first], source="test")
    session.commit()
    reply = make_message(account="mailbox", channel="email", external_id="b@mail", sender=buyer, in_reply_to="a@mail")
    deep = make_message(
        account="mailbox", channel="email", external_id="c@mail", sender=buyer, references=("unknown@else", "b@mail")
    )
    ingest(session, [reply, deep], source="test")
    session.commit()
    rows = tickets(session)
    assert len(rows) == 1
    assert rows[0].message_count == 3


def test_subject_ticket_token_threads_when_headers_are_missing(session: Any, make_message: Any) -> None:
    ingest(session, [make_message()], source="test")
    session.commit()
    ticket_id = tickets(session)[0].id
    ingest(
        session,
        [make_message(subject=f"Re: [#{ticket_id}] Where is my parcel?", sender=Party(email="other@example.test"))],
        source="test",
    )
    session.commit()
    assert len(tickets(session)) == 1


def test_ticket_token_of_another_account_is_ignored(session: Any, make_message: Any, make_account: Any) -> None:
    make_account(name="shop-uk", site="GB")
    ingest(session, [make_message()], source="test")
    session.commit()
    ticket_id = tickets(session)[0].id
    ingest(session, [make_message(account="shop-uk", subject=f"[#{ticket_id}] hijack")], source="test")
    session.commit()
    assert len(tickets(session)) == 2


def test_same_customer_and_order_joins_the_open_ticket(session: Any, make_message: Any) -> None:
    ingest(session, [make_message(order_refs=("27-13905-66214",), external_thread_id="q-1")], source="test")
    session.commit()
    ingest(
        session,
        [
            make_message(order_refs=("27-13905-66214",), external_thread_id="q-2"),
            make_message(order_refs=("11-11111-11111",), external_thread_id="q-3"),
        ],
        source="test",
    )
    session.commit()
    rows = tickets(session)
    assert [(t.order_number, t.message_count) for t in rows] == [("27-13905-66214", 2), ("11-11111-11111", 1)]


def test_solved_ticket_reopens_when_buyer_writes_again(session: Any, make_message: Any) -> None:
    seen: list[tuple[str, dict]] = []

    @events.listen("ticket.reopened", "ticket.created")
    def record(name: str, payload: Any) -> None:
        seen.append((name, dict(payload)))

    try:
        ingest(session, [make_message(external_thread_id="c")], source="test")
        session.commit()
        ticket = tickets(session)[0]
        ticket.status = TicketStatus.SOLVED
        session.commit()
        result = ingest(session, [make_message(external_thread_id="c")], source="test")
        assert [n for n, _ in seen] == ["ticket.created"]  # nothing is delivered before the commit
        session.commit()
    finally:
        events.unlisten(record)
    session.refresh(ticket)
    assert ticket.status == TicketStatus.OPEN
    assert result.tickets_reopened == 1
    assert [n for n, _ in seen] == ["ticket.created", "ticket.reopened"]
    assert seen[1][1]["ticket_id"] == ticket.id


def test_closed_ticket_gets_a_followup_instead(session: Any, make_message: Any) -> None:
    ingest(session, [make_message(external_thread_id="c")], source="test")
    session.commit()
    closed = tickets(session)[0]
    closed.status = TicketStatus.CLOSED
    session.commit()
    ingest(session, [make_message(external_thread_id="c"), make_message(external_thread_id="c")], source="test")
    session.commit()
    rows = tickets(session)
    assert len(rows) == 2
    assert rows[1].followup_of_id == closed.id
    assert rows[1].message_count == 2
    assert rows[0].status == TicketStatus.CLOSED


def test_auto_reply_is_kept_but_does_not_reopen(session: Any, make_message: Any) -> None:
    ingest(session, [make_message(external_thread_id="c")], source="test")
    session.commit()
    ticket = tickets(session)[0]
    ticket.status = TicketStatus.SOLVED
    session.commit()
    ingest(
        session, [make_message(external_thread_id="c", auto=AutoKind.AUTO_REPLY, body_text="I am away")], source="test"
    )
    session.commit()
    session.refresh(ticket)
    assert ticket.status == TicketStatus.SOLVED
    assert ticket.message_count == 2
    # an unthreaded bounce is stored on a ticket of its own, out of the queue
    ingest(session, [make_message(auto=AutoKind.BOUNCE, sender=Party(email="mailer-daemon@x.test"))], source="test")
    session.commit()
    bounce = tickets(session)[-1]
    assert bounce.status == TicketStatus.SOLVED
    assert bounce.tag_names == ["auto-bounce"]


def test_customer_resolved_by_exact_keys_and_merged_when_keys_meet(session: Any, make_message: Any) -> None:
    ingest(
        session,
        [
            make_message(sender=Party(platform_id="jonas_w", name="Jonas")),
            make_message(sender=Party(email="jonas@example.test", name="Jonas W")),
        ],
        source="test",
    )
    session.commit()
    assert session.scalar(sa.select(sa.func.count(Customer.id))) == 2
    # a message carrying both keys proves they are one buyer: the older record absorbs the newer
    ingest(session, [make_message(sender=Party(platform_id="jonas_w", email="JONAS@example.test"))], source="test")
    session.commit()
    live = session.scalars(sa.select(Customer).where(Customer.merged_into_id.is_(None))).all()
    assert len(live) == 1
    keys = {(i.scheme, i.value) for i in session.scalars(sa.select(CustomerIdentity))}
    assert keys == {("ebay", "jonas_w"), ("email", "jonas@example.test")}
    assert {t.customer_id for t in tickets(session)} == {live[0].id}


def test_new_customers_in_one_batch_share_a_record(session: Any, make_message: Any) -> None:
    ingest(
        session,
        [
            make_message(sender=Party(platform_id="a1")),
            make_message(sender=Party(email="a@x.test")),
            make_message(sender=Party(platform_id="a1", email="a@x.test")),
        ],
        source="test",
    )
    session.commit()
    assert session.scalar(sa.select(sa.func.count(Customer.id)).where(Customer.merged_into_id.is_(None))) == 1


def test_order_linked_now_or_when_it_arrives_later(session: Any, make_message: Any) -> None:
    record = OrderRecord(
        platform="ebay",
        account="shop-de",
        order_number="27-13905-66214",
        status="PAID",
        currency="EUR",
        total=Decimal("34.90"),
    )
    upsert_orders(session, [record])
    session.commit()
    ingest(
        session,
        [
            make_message(order_refs=("27-13905-66214",)),
            make_message(order_refs=("99-99999-99999",), external_thread_id="x"),
        ],
        source="test",
    )
    session.commit()
    linked, waiting = tickets(session)
    assert linked.order_id is not None
    assert waiting.order_id is None and waiting.order_number == "99-99999-99999"
    upsert_orders(
        session,
        [
            OrderRecord(
                platform="ebay",
                account="shop-de",
                order_number="99-99999-99999",
                status="PAID",
                currency="EUR",
                total=Decimal("5"),
            )
        ],
    )
    session.commit()
    session.refresh(waiting)
    assert waiting.order_id is not None


def test_outbound_message_from_elsewhere_counts_as_response(session: Any, make_message: Any) -> None:
    first = make_message(external_thread_id="c")
    ingest(session, [first], source="test")
    session.commit()
    sent = make_message(
        external_thread_id="c",
        direction=Direction.OUT,
        sender=Party(email="seller@shop.test"),
        recipient=first.sender,
        sent_at=first.sent_at + timedelta(hours=2),
    )
    ingest(session, [sent], source="test")
    session.commit()
    ticket = tickets(session)[0]
    assert ticket.first_response_at == sent.sent_at
    assert ticket.last_inbound_at == first.sent_at
    out = session.scalars(sa.select(Message).where(Message.direction == "out")).one()
    assert out.delivery_state == "sent"


def test_attachments_are_stored_once_per_content(session: Any, make_message: Any, app: Any) -> None:
    from helpdesk.attachments import store

    pdf = AttachmentData("invoice.pdf", "application/pdf", b"%PDF-1.4 fake")
    photo = AttachmentData("photo.jpg", "image/jpeg", b"\xff\xd8" + bytes(range(256)) * 400)  # over 64 KB
    ingest(
        session,
        [make_message(attachments=(pdf, photo)), make_message(attachments=(pdf,), external_thread_id="x")],
        source="test",
    )
    session.commit()
    assert session.scalar(sa.select(sa.func.count(Attachment.id))) == 3
    blobs = {blob.size: blob for blob in session.scalars(sa.select(AttachmentBlob))}
    assert sorted(blobs) == [len(pdf.content), len(photo.content)]
    small, large = blobs[len(pdf.content)], blobs[len(photo.content)]
    # small blobs live in their row, large ones in a file; both read back the same way
    assert small.data == pdf.content and large.data is None
    root = app.config["HELPDESK_SETTINGS"].instance_path / "attachments"
    assert [p.name for p in root.rglob("*") if p.is_file()] == [large.sha256]
    assert store.load(session, small.sha256) == pdf.content
    assert store.load(session, large.sha256) == photo.content


def test_buyer_html_is_kept_as_received_and_sanitised_where_shown(app: Any, session: Any, make_message: Any) -> None:
    raw = '<p onclick="x()">Hi<script>alert(1)</script></p>'
    ingest(session, [make_message(body_html=raw)], source="test")
    session.commit()
    stored = session.scalars(sa.select(Message.body_html)).one()
    assert stored == raw  # the record of what the buyer sent; never rendered as is
    shown = app.jinja_env.filters["clean_html"](stored)
    assert "script" not in shown and "onclick" not in shown and "Hi" in shown


def test_events_are_dropped_on_rollback(session: Any, make_message: Any) -> None:
    seen: list[str] = []
    listener = events.listen("message.received")(lambda name, payload: seen.append(name))
    try:
        ingest(session, [make_message()], source="test")
        session.rollback()
        session.commit()
    finally:
        events.unlisten(listener)
    assert seen == []
    assert session.scalar(sa.select(sa.func.count(Message.id))) == 0


def test_message_without_any_sender_key_gets_its_own_customer(session: Any, make_message: Any) -> None:
    anonymous = [make_message(sender=Party(), external_thread_id="a"), make_message(sender=Party(name="Mia"))]
    result = ingest(session, anonymous, source="test")
    session.commit()
    assert result.ingested == 2
    names = sorted(session.scalars(sa.select(Customer.display_name)))
    assert names == ["Mia", "Unknown sender"]
    assert session.scalar(sa.select(sa.func.count(CustomerIdentity.id))) == 0
