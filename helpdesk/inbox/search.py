"""The inbox search box: exact order, tracking, SKU and buyer look-ups, full text, then fuzzy.

Exact keys come first because an agent pasting an order number wants that
ticket, not every mail that quotes it.  A tracking number or a SKU finds the
tickets linked to orders that carry it (partial indexes of migration 0015);
a buyer quoting only the tracking number is found by the full text.  Full text uses the database's own
index (SQLite FTS5 or PostgreSQL ``to_tsvector``, built by migration 0003), and finds a
message by the words of its finished translations as well (migration 0028).
Only when both find nothing does RapidFuzz compare the query with customer
names and order numbers, to forgive typos; its candidate list is capped so
a search never reads a whole table.  Buyers are found by the customer
search's own functions (``helpdesk.customers.search``), so the inbox and the
API's customer search agree.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from rapidfuzz import fuzz, process
from sqlalchemy.orm import Session

from helpdesk.customers.search import FUZZY_CUTOFF, exact_customer_ids, fuzzy_customer_ids
from helpdesk.inbox.schema import FTS_TABLE, TRANSLATION_FTS_TABLE
from helpdesk.orders.models import Order, OrderLine
from helpdesk.tickets.models import Message, Ticket
from helpdesk.translation.models import MessageTranslation

MAX_HITS = 200
#: Order numbers compared by RapidFuzz: the newest this many (customer names are found by word instead).
FUZZY_ORDER_CANDIDATES = 20_000
#: A search's cost must not grow with what is typed: longer queries are cut, repeated words counted once.
MAX_QUERY_CHARS = 200
MAX_TERMS = 12
_WORD = re.compile(r"\w+", re.UNICODE)


def bounded(query: str) -> tuple[str, bool]:
    """The query as searched, and whether words were left out (for the page to say so).

    All words must match, so a repeated word adds nothing but cost (3,000 of
    them kept a worker busy for seconds): each counts once.  Beyond
    ``MAX_TERMS`` different words or ``MAX_QUERY_CHARS`` characters the rest is
    left out.  A short query without repeats is searched exactly as typed, so
    an order number keeps its dashes.
    """
    query = query.strip()
    words = _WORD.findall(query[: MAX_QUERY_CHARS * 4])
    distinct = list(dict.fromkeys(w.casefold() for w in words))
    if len(query) <= MAX_QUERY_CHARS and len(distinct) == len(words) <= MAX_TERMS:
        return query, False
    kept = distinct[:MAX_TERMS]
    text = " ".join(kept)[:MAX_QUERY_CHARS]
    return text, len(kept) < len(distinct) or len(" ".join(distinct)) > MAX_QUERY_CHARS


def search_ticket_ids(session: Session, query: str, visible: sa.ColumnElement[bool]) -> list[int]:
    """Ticket ids matching ``query`` (best first), among the tickets ``visible`` allows."""
    query, _cut = bounded(query)
    if not query:
        return []
    for finder in (_exact, _full_text, _fuzzy):
        ids = finder(session, query, visible)
        if ids:
            return list(dict.fromkeys(ids))[:MAX_HITS]
    return []


def _exact(session: Session, query: str, visible: sa.ColumnElement[bool]) -> list[int]:
    by_order = sa.select(Ticket.id).where(Ticket.order_number == query, visible)
    by_buyer = sa.select(Ticket.id).where(Ticket.customer_id.in_(exact_customer_ids(query)), visible)
    # carriers print tracking numbers in groups ("1Z 999 AA1 01 2345 6784") and agents paste them lower-case
    codes = sorted({query, query.upper(), query.replace(" ", "").upper()})
    shipped = sa.select(Order.id).where(Order.tracking_number.in_(codes))
    by_tracking = sa.select(Ticket.id).where(Ticket.order_id.in_(shipped), visible)
    with_sku = sa.select(OrderLine.order_id).where(OrderLine.sku.in_(codes))
    by_sku = sa.select(Ticket.id).where(Ticket.order_id.in_(with_sku), visible)
    stmt = sa.union(by_order, by_buyer, by_tracking, by_sku).subquery()
    return list(session.scalars(sa.select(stmt.c.id).order_by(stmt.c.id.desc()).limit(MAX_HITS)))


def fts_query(query: str) -> str:
    """An FTS5 query that ANDs the words as quoted strings, so user input is never FTS syntax."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in _WORD.findall(query))


def _full_text(session: Session, query: str, visible: sa.ColumnElement[bool]) -> list[int]:
    """Messages whose own words or whose translation's words match (an agent searches in their language)."""
    if session.get_bind().dialect.name == "sqlite":
        match = fts_query(query)
        if not match:
            return []
        hits = sa.text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q ORDER BY rank LIMIT 2000")  # noqa: S608
        translated = sa.text(
            f"SELECT rowid FROM {TRANSLATION_FTS_TABLE} WHERE {TRANSLATION_FTS_TABLE} MATCH :q LIMIT 2000"  # noqa: S608
        )
        message_ids = list(session.scalars(hits, {"q": match}))
        translation_ids = list(session.scalars(translated, {"q": match}))
        condition = Message.id.in_(message_ids or [-1])
        if translation_ids:
            of_translations = sa.select(MessageTranslation.message_id).where(MessageTranslation.id.in_(translation_ids))
            condition = sa.or_(condition, Message.id.in_(of_translations))
    else:
        words = sa.func.plainto_tsquery(sa.literal_column("'simple'"), query)
        document = sa.func.to_tsvector(
            sa.literal_column("'simple'"),
            sa.func.coalesce(Message.subject, "") + " " + sa.func.coalesce(Message.body_text, ""),
        )
        # the same expression as migration 0028's GIN index, so PostgreSQL answers from the index
        translation = sa.func.to_tsvector(sa.literal_column("'simple'"), sa.func.coalesce(MessageTranslation.text, ""))
        # two index scans, one list: an OR across both tables would read every message
        matching = sa.union(
            sa.select(Message.id).where(document.op("@@")(words)),
            sa.select(MessageTranslation.message_id).where(translation.op("@@")(words)),
        )
        condition = Message.id.in_(matching)
    stmt = (
        sa.select(Message.ticket_id)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(condition, visible)
        .group_by(Message.ticket_id)
        .order_by(sa.func.max(Message.sent_at).desc())
        .limit(MAX_HITS)
    )
    return list(session.scalars(stmt))


def _fuzzy(session: Session, query: str, visible: sa.ColumnElement[bool]) -> list[int]:
    orders = dict(
        session.execute(
            sa.select(Ticket.id, Ticket.order_number)
            .where(Ticket.order_number.is_not(None), visible)
            .order_by(Ticket.id.desc())
            .limit(FUZZY_ORDER_CANDIDATES)
        ).all()
    )
    customer_hits = fuzzy_customer_ids(session, query)
    order_hits = [
        key for _, _, key in process.extract(query, orders, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=20)
    ]
    ids = list(order_hits)
    if customer_hits:
        stmt = sa.select(Ticket.id).where(Ticket.customer_id.in_(customer_hits), visible).order_by(Ticket.id.desc())
        ids.extend(session.scalars(stmt.limit(MAX_HITS)))
    return ids
