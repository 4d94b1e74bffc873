"""Customer services: merging proven duplicates, suggesting likely ones.

Exact identity keys prove two records are one buyer, so those merge at once.
Names, countries and phone numbers only *suggest* it: RapidFuzz scores look-
alikes and an agent decides, because a false merge would show one buyer
another buyer's orders.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy
import sqlalchemy as sa
from rapidfuzz import fuzz, process, utils
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.audit.models import AuditEvent
from helpdesk.customers.models import Customer, CustomerIdentity, MergeSuggestion
from helpdesk.db import utcnow
from helpdesk.events import publish

SUGGEST_THRESHOLD = 88.0
CDIST_CELLS = 2_000_000  # scores per cdist call (float32): 8 MB


def merge_customers(
    session: Session, keep_id: int, drop_ids: Iterable[int], actor: User | None = None, via: str | None = None
) -> None:
    """Move everything of ``drop_ids`` onto ``keep_id`` and mark them merged.

    ``actor`` is the person who asked for it (None: ingest proved it by an exact key), recorded in the audit
    log with ``via`` (``api``, …) so a wrong merge can be traced to whoever made it.
    """
    from helpdesk.orders.models import Order
    from helpdesk.tickets.models import Message, Ticket

    drop = [d for d in drop_ids if d != keep_id]
    if not drop:
        return
    for model in (CustomerIdentity, Ticket, Order, Message):
        session.execute(sa.update(model).where(model.customer_id.in_(drop)).values(customer_id=keep_id))
    session.execute(
        sa.update(MergeSuggestion)
        .where(sa.or_(MergeSuggestion.customer_id.in_(drop), MergeSuggestion.candidate_id.in_(drop)))
        .values(status="merged")
    )
    session.execute(sa.update(Customer).where(Customer.id.in_(drop)).values(merged_into_id=keep_id))
    now = utcnow()
    for dropped in drop:
        session.add(
            AuditEvent(
                at=now,
                actor_type="user" if actor else "system",
                actor_id=actor.id if actor else None,
                action="customer.merged",
                customer_id=keep_id,
                data={"merged_id": dropped, **({"via": via} if via else {})},
            )
        )
        publish(session, "customer.merged", {"customer_id": keep_id, "merged_id": dropped})


def suggest_merges(session: Session, customer_ids: Iterable[int], limit: int = 5) -> int:
    """Record fuzzy look-alikes of the given customers; returns how many were added.

    Candidates share the country (when known) and score at least
    SUGGEST_THRESHOLD on the name, or share a phone number.  The candidates of
    a country are read once per call, not once per new customer: an import or
    an order sync brings thousands of new customers at a time.
    """
    wanted = list(customer_ids)
    news = [
        c
        for c in session.scalars(sa.select(Customer).where(Customer.id.in_(wanted)))
        if c.display_name and c.merged_into_id is None
    ]
    if not news:
        return 0
    pools: dict[str | None, tuple[dict[int, str], dict[str, list[int]]]] = {}
    for country in {c.country for c in news}:
        stmt = sa.select(Customer.id, Customer.display_name, Customer.phone).where(Customer.merged_into_id.is_(None))
        if country:
            stmt = stmt.where(Customer.country == country)
        names: dict[int, str] = {}
        by_phone: dict[str, list[int]] = {}
        for customer_id, display_name, phone in session.execute(stmt):
            if display_name:
                names[customer_id] = _sorted_words(display_name)
            if phone:
                by_phone.setdefault(phone, []).append(customer_id)
        pools[country] = (names, by_phone)
    # Every pair ever recorded, in either direction and whatever its status: a rejected pair is never
    # suggested again, and A~B is not suggested a second time as B~A.
    ids = [c.id for c in news]
    known = {
        frozenset(row)
        for row in session.execute(
            sa.select(MergeSuggestion.customer_id, MergeSuggestion.candidate_id).where(
                sa.or_(MergeSuggestion.customer_id.in_(ids), MergeSuggestion.candidate_id.in_(ids))
            )
        )
    }
    found: list[dict[str, object]] = []
    for customer, matches in _similar_names(news, pools, limit + 1):  # the customer itself is in the pool
        _, by_phone = pools[customer.country]
        scored = {candidate_id: (score, "similar name") for candidate_id, score in matches}
        for candidate_id in by_phone.get(customer.phone or "", []):
            scored[candidate_id] = (100.0, "same phone number")
        scored.pop(customer.id, None)
        for candidate_id, (score, reason) in scored.items():
            pair = frozenset((customer.id, candidate_id))
            if pair not in known:
                known.add(pair)
                found.append(
                    {"customer_id": customer.id, "candidate_id": candidate_id, "score": score, "reason": reason}
                )
    if found:
        session.execute(sa.insert(MergeSuggestion), found)  # one statement: a batch can bring hundreds
    return len(found)


def _similar_names(
    news: list[Customer], pools: dict[str | None, tuple[dict[int, str], dict[str, list[int]]]], limit: int
) -> Iterator[tuple[Customer, list[tuple[int, float]]]]:
    """Each new customer with its best ``limit`` pool names scoring SUGGEST_THRESHOLD or more, best first.

    ``token_sort_ratio`` is ``ratio`` of the words sorted, and the pool's
    names were sorted once; ``cdist`` scores many customers against the pool
    in one call, converting the pool's strings once instead of once per
    customer (five times faster than ``extract`` per customer).  Rows are
    scored a few at a time so the score matrix stays a few megabytes.
    """
    for country in {c.country for c in news}:
        names, _ = pools[country]
        ids, choices = list(names), list(names.values())
        group = [c for c in news if c.country == country]
        step = max(1, CDIST_CELLS // max(1, len(choices)))
        for start in range(0, len(group), step):
            chunk = group[start : start + step]
            scores = process.cdist(
                [_sorted_words(c.display_name) for c in chunk],
                choices,
                scorer=fuzz.ratio,
                processor=None,
                score_cutoff=SUGGEST_THRESHOLD,
                workers=1,
            )
            for customer, row in zip(chunk, scores, strict=True):
                hits = numpy.flatnonzero(row)  # below the cutoff scores 0
                best = hits[numpy.argsort(-row[hits], kind="stable")][:limit]
                yield customer, [(ids[j], float(row[j])) for j in best]


def _sorted_words(name: str) -> str:
    """The name as ``token_sort_ratio`` compares it: lower case, punctuation off, words in order."""
    return " ".join(sorted(utils.default_process(name).split()))
