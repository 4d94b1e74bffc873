"""At-least-once in, exactly-once effect: re-ingesting a stream changes nothing."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from channels.base import InboundMessage
from helpdesk.demo.synthetic import add_store_accounts, stream
from helpdesk.ingest.pipeline import ingest
from helpdesk.tickets.models import Message, Ticket


def _accounts(session: Any) -> None:
    add_store_accounts(session)
    session.commit()


def _ingest_all(session: Any, messages: list[InboundMessage], batch_size: int) -> list[str]:
    statuses = []
    for start in range(0, len(messages), batch_size):
        result = ingest(session, messages[start : start + batch_size], source="test")
        session.commit()
        statuses += [o.status for o in result.outcomes]
    return statuses


def _snapshot(session: Any) -> tuple[list[tuple], list[tuple]]:
    tickets = session.execute(
        sa.select(
            Ticket.id,
            Ticket.subject,
            Ticket.status,
            Ticket.customer_id,
            Ticket.order_number,
            Ticket.message_count,
            Ticket.external_thread_id,
        ).order_by(Ticket.id)
    ).all()
    messages = session.execute(
        sa.select(Message.channel_account_id, Message.external_id, Message.ticket_id, Message.customer_id).order_by(
            Message.channel_account_id, Message.external_id
        )
    ).all()
    return [tuple(t) for t in tickets], [tuple(m) for m in messages]


def test_ten_thousand_messages_three_times_equal_once(session: Any) -> None:
    _accounts(session)
    messages = list(stream(10_000, seed=11, reply_share=0.3))
    first = _ingest_all(session, messages, batch_size=500)
    assert first.count("ingested") == 10_000
    once = _snapshot(session)
    assert len(once[1]) == 10_000
    assert 5_000 < len(once[0]) < 9_000  # replies joined earlier threads
    # redelivery with other batch boundaries, as a crashed poller would replay pages
    for batch_size in (777, 10_000):
        again = _ingest_all(session, messages, batch_size=batch_size)
        assert again.count("duplicate") == 10_000
        assert _snapshot(session) == once


def test_batch_boundaries_do_not_change_threading(session: Any) -> None:
    _accounts(session)
    messages = list(stream(1_500, seed=5, reply_share=0.4))
    _ingest_all(session, messages, batch_size=1_500)
    whole = _snapshot(session)
    grouping = {(m[0], m[1]): m[2] for m in whole[1]}
    # the same stream in tiny batches into fresh accounts must group messages identically
    session.execute(sa.delete(Message))
    session.execute(sa.delete(Ticket))
    session.commit()
    _ingest_all(session, messages, batch_size=7)
    split = _snapshot(session)
    regrouped = {(m[0], m[1]): m[2] for m in split[1]}

    def partition(mapping: dict) -> set[frozenset]:
        groups: dict[int, set] = {}
        for key, ticket_id in mapping.items():
            groups.setdefault(ticket_id, set()).add(key)
        return {frozenset(g) for g in groups.values()}

    assert partition(grouping) == partition(regrouped)


def test_duplicates_inside_one_batch_are_ingested_once(session: Any) -> None:
    _accounts(session)
    messages = list(stream(50, seed=3))
    result = ingest(session, messages + messages[:10], source="test")
    session.commit()
    assert result.ingested == 50
    assert result.duplicates == 10
    # a repeat names the ticket and message its first occurrence was stored as
    for first, repeat in zip(result.outcomes[:10], result.outcomes[50:], strict=True):
        assert repeat.status == "duplicate"
        assert (repeat.ticket_id, repeat.message_id) == (first.ticket_id, first.message_id)
        assert repeat.ticket_id is not None
    assert session.scalar(sa.select(sa.func.count(Message.id))) == 50
