"""Customer merge suggestions in front of people: why two records look alike; accept (merge) or reject for good.

``services.suggest_merges`` finds look-alikes in the background; here they
are shown and decided.  Who decides: leads and admins.  A wrong merge shows
one buyer another buyer's orders and addresses, and it has no undo, so the
desk's leads own it; agents see the suggestions on the customer card (only
those whose both customers they may see) and ask a lead.  A rejected pair is
remembered and never suggested again, in either direction.

Services flush; the request or CLI command commits; events go out after.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from rapidfuzz import fuzz, utils
from sqlalchemy.orm import Session, aliased

from helpdesk.accounts.models import User
from helpdesk.audit.models import AuditEvent
from helpdesk.customers.models import Customer, MergeSuggestion
from helpdesk.customers.notes import visible_customer
from helpdesk.customers.services import SUGGEST_THRESHOLD, merge_customers
from helpdesk.events import publish

OPEN, ACCEPTED, REJECTED = "open", "accepted", "rejected"
PAGE_SIZE = 50


class SuggestionError(ValueError):
    """A decision was refused; the message says why (translated) and what to do."""


class SuggestionNotFound(SuggestionError):
    """No such suggestion: the caller answers 404."""


@dataclass(frozen=True)
class Suggestion:
    """One pending pair, from the point of view of ``customer``."""

    row: MergeSuggestion
    customer: Customer
    other: Customer
    reasons: list[str] = field(default_factory=list)

    @property
    def score(self) -> int:
        return round(self.row.score)


def _same(a: str | None, b: str | None) -> bool:
    return bool(a and b and a.strip().lower() == b.strip().lower())


def reasons(a: Customer, b: Customer, stored: str = "") -> list[str]:
    """Why two customers look like one person, in words an agent can check (translated)."""
    out: list[str] = []
    if a.display_name and b.display_name:
        score = fuzz.token_sort_ratio(a.display_name, b.display_name, processor=utils.default_process)
        if score >= 100:
            out.append(str(_l("same name")))
        elif score >= SUGGEST_THRESHOLD:
            out.append(str(_l("similar name")))
    if _same(a.email, b.email):
        out.append(str(_l("same e-mail")))
    elif a.email and b.email:
        local_a, local_b = a.email.split("@")[0], b.email.split("@")[0]
        if fuzz.ratio(local_a, local_b, processor=utils.default_process) >= 80:
            out.append(str(_l("similar e-mail")))
    if _same(a.phone, b.phone):
        out.append(str(_l("same phone number")))
    if out and _same(a.country, b.country):
        out.append(str(_l("same country")))
    if not out and stored:
        out.append(str(_l("same phone number")) if stored == "same phone number" else str(_l("similar name")))
    return out


def _pending_stmt() -> sa.Select[Any]:
    a, b = aliased(Customer), aliased(Customer)
    return (
        sa.select(MergeSuggestion, a, b)
        .join(a, a.id == MergeSuggestion.customer_id)
        .join(b, b.id == MergeSuggestion.candidate_id)
        .where(MergeSuggestion.status == OPEN, a.merged_into_id.is_(None), b.merged_into_id.is_(None))
    )


def _dedupe(rows: Iterable[Any], about: int | None = None) -> list[Suggestion]:
    """One entry per pair (the finder may have recorded A→B and B→A)."""
    seen: set[frozenset[int]] = set()
    out = []
    for row, a, b in rows:
        pair = frozenset((a.id, b.id))
        if pair in seen:
            continue
        seen.add(pair)
        customer, other = (b, a) if about == b.id else (a, b)
        out.append(Suggestion(row, customer, other, reasons(customer, other, row.reason)))
    return out


def for_customer(session: Session, customer_id: int, visible_ids: set[int] | None) -> list[Suggestion]:
    """Pending suggestions about one customer; agents (``visible_ids`` a set) only see customers of their stores."""
    stmt = (
        _pending_stmt()
        .where(sa.or_(MergeSuggestion.customer_id == customer_id, MergeSuggestion.candidate_id == customer_id))
        .order_by(MergeSuggestion.score.desc(), MergeSuggestion.id)
        .limit(20)
    )
    found = _dedupe(session.execute(stmt), about=customer_id)
    if visible_ids is None:
        return found
    return [s for s in found if visible_customer(session, s.other.id, visible_ids) is not None]


def pending(session: Session, page: int = 1) -> tuple[list[Suggestion], bool]:
    """One page of every pending suggestion, best score first; and whether there is a next page."""
    stmt = (
        _pending_stmt()
        .order_by(MergeSuggestion.score.desc(), MergeSuggestion.id)
        .offset((max(page, 1) - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    )
    rows = list(session.execute(stmt))
    return _dedupe(rows[:PAGE_SIZE]), len(rows) > PAGE_SIZE


def _load(session: Session, suggestion_id: int) -> tuple[MergeSuggestion, list[MergeSuggestion]]:
    row = session.get(MergeSuggestion, suggestion_id)
    if row is None:
        raise SuggestionNotFound(str(_l("That suggestion does not exist.")))
    if row.status != OPEN:
        raise SuggestionError(str(_l("Suggestion %(id)s was already decided.", id=suggestion_id)))
    pair = [row.customer_id, row.candidate_id]
    both = list(
        session.scalars(
            sa.select(MergeSuggestion).where(
                MergeSuggestion.customer_id.in_(pair), MergeSuggestion.candidate_id.in_(pair)
            )
        )
    )
    return row, both


def _actor(actor: User | None) -> dict[str, Any]:
    return {"actor_type": "user" if actor else "system", "actor_id": actor.id if actor else None}


def accept(session: Session, suggestion_id: int, actor: User | None, via: str | None = None) -> int:
    """Merge the pair (the older record is kept, as ingest does); returns the kept customer's id."""
    row, both = _load(session, suggestion_id)
    a, b = session.get(Customer, row.customer_id), session.get(Customer, row.candidate_id)
    if a is None or b is None or a.merged_into_id is not None or b.merged_into_id is not None:
        raise SuggestionError(str(_l("One of these customers was merged into another one already.")))
    keep, drop = (a, b) if a.id < b.id else (b, a)
    merge_customers(session, keep.id, [drop.id])
    for item in both:
        item.status = ACCEPTED
    data = {
        "suggestion_id": row.id,
        "customer_id": row.customer_id,
        "candidate_id": row.candidate_id,
        "kept_id": keep.id,
        "merged_id": drop.id,
        "score": row.score,
        **({"via": via} if via else {}),
    }
    session.add(AuditEvent(action="customer.suggestion_accepted", customer_id=keep.id, data=data, **_actor(actor)))
    publish(session, "customer.suggestion_accepted", {**data, "actor_id": actor.id if actor else None})
    session.flush()
    return keep.id


def reject(session: Session, suggestion_id: int, actor: User | None, via: str | None = None) -> None:
    """Dismiss the pair for good: the finder never suggests it again, in either direction."""
    row, both = _load(session, suggestion_id)
    for item in both:
        item.status = REJECTED
    data = {
        "suggestion_id": row.id,
        "customer_id": row.customer_id,
        "candidate_id": row.candidate_id,
        **({"via": via} if via else {}),
    }
    session.add(
        AuditEvent(action="customer.suggestion_rejected", customer_id=row.customer_id, data=data, **_actor(actor))
    )
    publish(session, "customer.suggestion_rejected", {**data, "actor_id": actor.id if actor else None})
    session.flush()


@dataclass
class BulkResult:
    done: int = 0
    refused: list[str] = field(default_factory=list)


def decide_many(
    session: Session, decision: str, suggestion_ids: Iterable[int], actor: User | None, via: str | None = None
) -> BulkResult:
    """Accept or reject several; one refused (say, decided meanwhile, or its customer merged by an earlier
    accept of the same batch) is reported and the others still go through."""
    if decision not in ("accept", "reject"):
        raise SuggestionError(str(_l("Choose accept or reject.")))
    result = BulkResult()
    for suggestion_id in dict.fromkeys(suggestion_ids):
        try:  # every refusal is raised before anything is written, so there is nothing to roll back
            if decision == "accept":
                accept(session, suggestion_id, actor, via)
            else:
                reject(session, suggestion_id, actor, via)
        except SuggestionError as exc:
            result.refused.append(str(exc))
        else:
            result.done += 1
    return result
