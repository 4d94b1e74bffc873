"""The fuzzy customer search reads a bounded candidate set found by word, so old buyers stay findable.

It once compared the query with the newest 20,000 names of every request: a
desk with more buyers could no longer find its older ones, and each search
read 20,000 rows.  Names now come from an index (FTS5 on SQLite, GIN on
PostgreSQL), at most FUZZY_CANDIDATES of them, before RapidFuzz ranks them.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk.customers.models import Customer
from helpdesk.customers.search import FUZZY_CANDIDATES, name_candidates, search_customers
from tests.web import login

NEWER = 20_000


def add_customers(session: Any, count: int, name: str) -> None:
    """``count`` customers called ``name`` with their number appended, made by the database (a second or so)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        numbers, at = "generate_series(1, :n) AS g(i)", "2026-01-05 09:00:00+00"
    else:
        numbers = "(WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < :n) SELECT i FROM g)"
        at = "2026-01-05 09:00:00.000000"  # as the app writes UTC instants on SQLite
    session.execute(
        sa.text(
            "INSERT INTO customer (display_name, notes, created_at, updated_at) "
            f"SELECT :name || ' ' || i, '', :at, :at FROM {numbers}"
        ),
        {"n": count, "name": name, "at": at},
    )
    session.commit()


@pytest.fixture
def old_buyer(session: Any, world: Any, make_ticket: Any) -> Any:
    """Maximilian Schneider wrote first; 20,000 buyers came after him, 400 of them also called Maximilian."""
    ticket = make_ticket(buyer="maximilian_schneider", body_text="Where is my lamp?")
    add_customers(session, NEWER - 400, "Kunde")
    add_customers(session, 400, "Maximilian Meyer")
    return ticket


def test_a_customer_older_than_the_newest_twenty_thousand_is_found_with_a_typo(
    session: Any, world: Any, old_buyer: Any
) -> None:
    newest = session.scalar(sa.select(sa.func.max(Customer.id)))
    assert newest - old_buyer.customer_id >= NEWER
    found = search_customers(session, "Maximilian Schnieder", None)
    assert found and found[0].id == old_buyer.customer_id
    assert [c.id for c in search_customers(session, "schneider", None)] == [old_buyer.customer_id]


def test_the_inbox_and_the_api_find_the_old_buyer_too(client: Any, session: Any, world: Any, old_buyer: Any) -> None:
    from helpdesk.api.tokens import create_token

    login(client, world.eu)
    page = client.get("/", query_string={"q": "Maximilian Schnieder"}).get_data(as_text=True)
    assert f'data-ticket-id="{old_buyer.id}"' in page
    _row, token = create_token(session, world.lead, "search test")
    session.commit()
    answer = client.get(
        "/api/v1/customers", query_string={"q": "Maximilan Schneider"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200
    assert answer.get_json()["customers"][0]["id"] == old_buyer.customer_id


def test_a_search_reads_at_most_the_candidate_budget(session: Any, world: Any, old_buyer: Any) -> None:
    """20,000 names share the word: the search still reads at most FUZZY_CANDIDATES of them."""
    statements: list[str] = []
    engine = session.get_bind()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        candidates = name_candidates(session, "Kunde 77")
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert 0 < len(candidates) <= FUZZY_CANDIDATES
    assert len(statements) <= 6  # three tiers, each a bounded look-up (SQLite: the index, then the rows)
    assert all("LIMIT" in s.upper() for s in statements)


def test_renamed_and_merged_customers(session: Any, world: Any, make_ticket: Any) -> None:
    from helpdesk.customers.services import merge_customers

    first = session.get(Customer, make_ticket(buyer="anna_schmidt").customer_id)
    second = session.get(Customer, make_ticket(buyer="anna_schmitt").customer_id)
    first.display_name = "Johanna Schmidt-Berger"  # the index follows a rename
    session.commit()
    assert [c.id for c in search_customers(session, "Johana Schmidt Berger", None)] == [first.id]
    assert search_customers(session, "Anna Schmidt", None)[0].id == second.id
    merge_customers(session, first.id, [second.id])
    session.commit()
    assert second.id not in [c.id for c in search_customers(session, "Anna Schmitt", None)]


@pytest.mark.parametrize(
    "query", ['"', "a:*|b", "x & !y", "'; DROP TABLE customer; --", "²", "王小明", "NEAR(a b)", "*"]
)
def test_hostile_queries_are_plain_words(session: Any, world: Any, make_ticket: Any, query: str) -> None:
    make_ticket(buyer="wang_xiaoming")
    assert isinstance(search_customers(session, query, None), list)
