"""Finding customers by what someone knows of them: an exact key first, else a name with typos forgiven.

Exact identity keys (a platform's buyer id, an e-mail address, a phone
number) prove who is meant, so they win outright, as in the inbox search.
Only when none matches does RapidFuzz compare the query with customer
names — those of the newest ``FUZZY_CANDIDATES`` records only, so a search
never reads a whole table however many buyers the desk has.  The inbox
search finds tickets through these same functions, so both search boxes
agree on who "jonas weber" is.
"""

from __future__ import annotations

import sqlalchemy as sa
from rapidfuzz import fuzz, process
from sqlalchemy.orm import Session

from helpdesk.customers.models import Customer, CustomerIdentity
from helpdesk.ingest.customers import normalise_phone
from helpdesk.tickets.models import Ticket

FUZZY_CANDIDATES = 20_000
FUZZY_CUTOFF = 80
MAX_RESULTS = 50


def exact_customer_ids(query: str) -> sa.Select[tuple[int]]:
    """Customers owning ``query`` as an identity key, as the ingest pipeline normalises keys."""
    values = {query, query.lower()}
    if phone := normalise_phone(query):
        values.add(phone)
    return sa.select(CustomerIdentity.customer_id).where(CustomerIdentity.value.in_(sorted(values)))


def fuzzy_customer_ids(session: Session, query: str, limit: int = 20) -> list[int]:
    """Customers whose name looks like ``query``, best first, among the newest FUZZY_CANDIDATES names."""
    names = dict(
        session.execute(
            sa.select(Customer.id, Customer.display_name)
            .where(Customer.display_name != "", Customer.merged_into_id.is_(None))
            .order_by(Customer.id.desc())
            .limit(FUZZY_CANDIDATES)
        ).all()
    )
    return [
        key for _, _, key in process.extract(query, names, scorer=fuzz.WRatio, score_cutoff=FUZZY_CUTOFF, limit=limit)
    ]


def with_visible_tickets(session: Session, customer_ids: list[int], visible_ids: set[int] | None) -> list[int]:
    """The given customers (order kept) that have a ticket in one of ``visible_ids`` (None: every account).

    An agent knows a buyer only through the tickets of their team's stores, as on the ticket page's
    customer card; a customer of another store's tickets does not exist for them.
    """
    if visible_ids is None or not customer_ids:
        return customer_ids
    seen = set(
        session.scalars(
            sa.select(Ticket.customer_id)
            .where(Ticket.customer_id.in_(customer_ids), Ticket.channel_account_id.in_(sorted(visible_ids) or [-1]))
            .distinct()
        )
    )
    return [i for i in customer_ids if i in seen]


def search_customers(
    session: Session, query: str, visible_ids: set[int] | None, limit: int = MAX_RESULTS
) -> list[Customer]:
    """Customers matching ``query`` that the user may see: exact keys (newest first), else fuzzy names (best first).

    A merged-away record is never a result: its keys and tickets moved to the customer it was merged into.
    """
    query = query.strip()
    if not query:
        return []
    exact = list(
        session.scalars(
            sa.select(Customer.id)
            .where(
                sa.or_(Customer.id.in_(exact_customer_ids(query)), Customer.email == query.lower()),
                Customer.merged_into_id.is_(None),
            )
            .order_by(Customer.id.desc())
            .limit(MAX_RESULTS * 4)
        )
    )
    ids = with_visible_tickets(session, exact, visible_ids)
    if not ids:
        ids = with_visible_tickets(session, fuzzy_customer_ids(session, query, limit=MAX_RESULTS * 4), visible_ids)
    ids = ids[:limit]
    found = {c.id: c for c in session.scalars(sa.select(Customer).where(Customer.id.in_(ids or [-1])))}
    return [found[i] for i in ids if i in found]
