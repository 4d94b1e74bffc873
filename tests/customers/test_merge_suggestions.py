"""Fuzzy look-alikes are suggested, never merged; exact keys already merged them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from channels.base import Party
from helpdesk.customers.models import Customer, MergeSuggestion
from helpdesk.customers.services import suggest_merges
from helpdesk.ingest.pipeline import ingest


def customer_id(session: Any, name: str) -> int:
    return session.scalar(sa.select(Customer.id).where(Customer.display_name == name))


def test_similar_name_in_same_country_is_suggested(session: Any, make_account: Any, make_message: Any) -> None:
    make_account()
    ingest(
        session,
        [
            make_message(sender=Party(platform_id="jw1", name="Jonas Weber", country="DE")),
            make_message(sender=Party(email="j.weber@example.test", name="Weber, Jonas", country="DE")),
            make_message(sender=Party(platform_id="jw2", name="Jonas Weber", country="AT")),
            make_message(sender=Party(platform_id="mm", name="Maria Müller", country="DE")),
        ],
        source="test",
    )
    session.commit()
    # ingest queued the suggestion job; in tests the queue runs jobs at once
    rows = session.scalars(sa.select(MergeSuggestion)).all()
    pairs = {(r.customer_id, r.candidate_id) for r in rows}
    first, second = customer_id(session, "Jonas Weber"), customer_id(session, "Weber, Jonas")
    assert (first, second) in pairs or (second, first) in pairs
    austrian = session.scalar(sa.select(Customer.id).where(Customer.country == "AT"))
    assert all(austrian not in pair for pair in pairs)
    maria = customer_id(session, "Maria Müller")
    assert all(maria not in pair for pair in pairs)
    assert session.scalar(sa.select(sa.func.count(Customer.id)).where(Customer.merged_into_id.is_not(None))) == 0


def test_same_phone_is_suggested_whatever_the_name(session: Any) -> None:
    a = Customer(display_name="山田 太郎", country="JP", phone="+81 90 1234 5678")
    b = Customer(display_name="Taro Yamada", country="JP", phone="+81 90 1234 5678")
    session.add_all([a, b])
    session.commit()
    assert suggest_merges(session, [a.id]) == 1
    row = session.scalars(sa.select(MergeSuggestion)).one()
    assert (row.customer_id, row.candidate_id, row.reason) == (a.id, b.id, "same phone number")
    assert suggest_merges(session, [a.id]) == 0  # recorded once
