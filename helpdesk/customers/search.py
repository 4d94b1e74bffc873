"""Finding customers by what someone knows of them: an exact key first, else a name with typos forgiven.

Exact identity keys (a platform's buyer id, an e-mail address, a phone
number) prove who is meant, so they win outright, as in the inbox search.
Only when none matches does RapidFuzz compare the query with customer
names — not with every name (a desk of a million buyers would be read on
each search) but with at most ``FUZZY_CANDIDATES`` names the database finds
by word through an index (migration 0025: FTS5 on SQLite, a GIN index on
PostgreSQL): first names holding one of the query's words exactly, then
names with a word that starts like one of them (three letters).  So a
search costs the same however many buyers there are, and a buyer from
years ago is found as easily as yesterday's.  A typo in the first three
letters of every word typed is not forgiven.  The inbox search finds
tickets through these same functions, so both search boxes agree on who
"jonas weber" is.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from rapidfuzz import fuzz, process
from sqlalchemy.orm import Session

from helpdesk.customers.models import Customer, CustomerIdentity
from helpdesk.inbox.schema import NAME_FTS_TABLE
from helpdesk.ingest.customers import normalise_phone
from helpdesk.tickets.models import Ticket

FUZZY_CANDIDATES = 300
FUZZY_CUTOFF = 80
MAX_RESULTS = 50
#: Words of a query looked up as name words; a longer query gains nothing but cost.
MAX_NAME_WORDS = 6
PREFIX_LETTERS = 3
_NAME_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def exact_customer_ids(query: str) -> sa.Select[tuple[int]]:
    """Customers owning ``query`` as an identity key, as the ingest pipeline normalises keys."""
    values = {query, query.lower()}
    if phone := normalise_phone(query):
        values.add(phone)
    return sa.select(CustomerIdentity.customer_id).where(CustomerIdentity.value.in_(sorted(values)))


def fuzzy_customer_ids(session: Session, query: str, limit: int = 20) -> list[int]:
    """Customers whose name looks like ``query``, best first, among at most FUZZY_CANDIDATES names found by word."""
    names = name_candidates(session, query)
    return [
        key for _, _, key in process.extract(query, names, scorer=fuzz.WRatio, score_cutoff=FUZZY_CUTOFF, limit=limit)
    ]


def name_words(query: str) -> list[str]:
    """The query's distinct words (letters and digits of any script), lower-case, at most MAX_NAME_WORDS."""
    return list(dict.fromkeys(w.lower() for w in _NAME_WORD.findall(query[:500])))[:MAX_NAME_WORDS]


def name_candidates(session: Session, query: str) -> dict[int, str]:
    """Up to FUZZY_CANDIDATES ``{customer id: name}`` found by word, in three tiers, newest first within each.

    1. names with a word starting like each query word (first three letters):
       "maximilian schnieder" finds Maximilian Schneider among a thousand Maximilians;
    2. names with one of the query's words exactly;
    3. names with a word starting like one of the query's words.

    Each tier is one index-served statement with a limit, so a search costs
    the same however many customers there are.
    """
    words = name_words(query)
    prefixes = list(dict.fromkeys(w[:PREFIX_LETTERS] for w in words))
    starts = [(p, True) for p in prefixes]
    tiers = ((starts if len(starts) > 1 else [], True), ([(w, False) for w in words], False), (starts, False))
    found: dict[int, str] = {}
    for terms, every in tiers:
        if terms and len(found) < FUZZY_CANDIDATES:
            found.update(_name_matches(session, terms, every, FUZZY_CANDIDATES - len(found), found))
    return found


def _name_matches(
    session: Session, terms: list[tuple[str, bool]], every: bool, limit: int, exclude: dict[int, str]
) -> list[tuple[int, str]]:
    """Live customers whose name has one (``every``: each) of ``terms`` (a word, or a word's start); newest first."""
    if session.get_bind().dialect.name == "sqlite":
        # FTS5 syntax is never built from input: each term is a quoted string, prefixes get the * outside
        quoted = ['"' + w.replace('"', '""') + '"' + ("*" if prefix else "") for w, prefix in terms]
        match = (" AND " if every else " OR ").join(quoted)
        hits = sa.text(
            f"SELECT rowid FROM {NAME_FTS_TABLE} WHERE {NAME_FTS_TABLE} MATCH :q ORDER BY rowid DESC LIMIT :n"  # noqa: S608
        )
        condition = Customer.id.in_(list(session.scalars(hits, {"q": match, "n": limit + len(exclude)})) or [-1])
    else:
        # to_tsquery syntax from letters and digits only (name_words keeps nothing else)
        tsquery = (" & " if every else " | ").join(w + (":*" if prefix else "") for w, prefix in terms)
        document = sa.func.to_tsvector(sa.literal_column("'simple'"), Customer.display_name)
        condition = document.op("@@")(sa.func.to_tsquery(sa.literal_column("'simple'"), tsquery))
    stmt = (
        sa.select(Customer.id, Customer.display_name)
        .where(condition, Customer.display_name != "", Customer.merged_into_id.is_(None))
        .order_by(Customer.id.desc())
        .limit(limit + len(exclude))
    )
    return [(row.id, row.display_name) for row in session.execute(stmt) if row.id not in exclude][:limit]


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
