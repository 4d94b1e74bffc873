"""Customer services: merging proven duplicates, suggesting likely ones.

Exact identity keys prove two records are one buyer, so those merge at once.
Names, countries and phone numbers only *suggest* it: RapidFuzz scores look-
alikes and an agent decides, because a false merge would show one buyer
another buyer's orders.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from rapidfuzz import fuzz, process, utils
from sqlalchemy.orm import Session

from helpdesk.audit.models import AuditEvent
from helpdesk.customers.models import Customer, CustomerIdentity, MergeSuggestion
from helpdesk.db import utcnow
from helpdesk.events import publish

SUGGEST_THRESHOLD = 88.0


def merge_customers(session: Session, keep_id: int, drop_ids: Iterable[int]) -> None:
    """Move everything of ``drop_ids`` onto ``keep_id`` and mark them merged."""
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
                at=now, actor_type="system", action="customer.merged", customer_id=keep_id, data={"merged_id": dropped}
            )
        )
        publish(session, "customer.merged", {"customer_id": keep_id, "merged_id": dropped})


def suggest_merges(session: Session, customer_ids: Iterable[int], limit: int = 5) -> int:
    """Record fuzzy look-alikes of the given customers; returns how many were added.

    Candidates share the country (when known) and score at least
    SUGGEST_THRESHOLD on the name, or share a phone number.
    """
    added = 0
    for customer in session.scalars(sa.select(Customer).where(Customer.id.in_(list(customer_ids)))):
        if not customer.display_name or customer.merged_into_id is not None:
            continue
        stmt = sa.select(Customer.id, Customer.display_name, Customer.phone).where(
            Customer.id != customer.id, Customer.merged_into_id.is_(None)
        )
        if customer.country:
            stmt = stmt.where(Customer.country == customer.country)
        rows = session.execute(stmt).all()
        names = {row.id: row.display_name for row in rows}
        phones = {row.id: row.phone for row in rows}
        matches = process.extract(
            customer.display_name,
            names,
            scorer=fuzz.token_sort_ratio,
            processor=utils.default_process,
            score_cutoff=SUGGEST_THRESHOLD,
            limit=limit,
        )
        scored = {candidate_id: (score, "similar name") for _, score, candidate_id in matches}
        if customer.phone:
            for candidate_id, phone in phones.items():
                if phone and phone == customer.phone:
                    scored[candidate_id] = (100.0, "same phone number")
        for candidate_id, (score, reason) in scored.items():
            exists = session.scalar(
                sa.select(MergeSuggestion.id).where(
                    MergeSuggestion.customer_id == customer.id, MergeSuggestion.candidate_id == candidate_id
                )
            )
            if exists is None:
                session.add(
                    MergeSuggestion(customer_id=customer.id, candidate_id=candidate_id, score=score, reason=reason)
                )
                added += 1
    session.flush()
    return added
