"""``/api/v1/customers``: find buyers, read their identities and tickets, merge them, decide merge suggestions.

The rules are the UI's.  An agent knows a customer only through a ticket of
their team's stores (the ticket page's customer card), so any other
customer is 404.  Merging customers and deciding suggestions has no undo and
shows one buyer another's orders, so it is for leads and admins, as on the
suggestions page; to an agent those routes do not exist (404).  Merges are
audited with the token's user and ``via: api``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import sqlalchemy as sa
from flask import request
from flask_babel import force_locale
from pydantic import BaseModel, Field
from sqlalchemy.orm import selectinload

from helpdesk import MAX_ID
from helpdesk.accounts.models import Role
from helpdesk.api.access import caller, visible_ids
from helpdesk.api.auth import api_auth
from helpdesk.api.errors import ApiError
from helpdesk.api.spec import ApiModel, api_spec, responses
from helpdesk.api.views import bp
from helpdesk.customers import suggestions
from helpdesk.customers.models import Customer
from helpdesk.customers.notes import visible_customer
from helpdesk.customers.search import search_customers
from helpdesk.customers.services import merge_customers
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket

TAGS = ["customers"]

CustomerId = Annotated[int, Field(ge=1, le=MAX_ID)]


class CustomerIdentityOut(BaseModel):
    scheme: str = Field(
        description="`email`, `phone`, or the platform whose buyer id `value` is (`ebay`, `amazon`, `webhook`, …)"
    )
    value: str = Field(description="the key as stored: e-mail lower-cased, phone as `+4930123456`")
    display_name: str | None = Field(description="the name the buyer used with this key")
    created_at: datetime


class CustomerOut(BaseModel):
    id: int
    name: str
    email: str | None
    phone: str | None
    country: str | None = Field(description="ISO 3166-1 alpha-2")
    language: str | None
    notes: str = Field(description="the agents' notes of the customer card")
    merged_into_id: int | None = Field(description="set when this record was merged into another one")
    created_at: datetime
    updated_at: datetime
    identities: list[CustomerIdentityOut] = Field(description="every exact key that leads to this customer")


class CustomerList(BaseModel):
    customers: list[CustomerOut]
    next_after: int | None = Field(description="without `q`: pass as `after` for the next page; null on the last")


class CustomerQuery(ApiModel):
    q: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="a platform buyer id, e-mail or phone (exact), else a name (typos forgiven); "
        "best matches first, at most `limit`. Without `q`: every customer by id, paged with `after`.",
    )
    after: int | None = Field(None, ge=0, le=MAX_ID, description="the `next_after` of the page before (without `q`)")
    limit: int = Field(50, ge=1, le=100)


class CustomerTicketOut(BaseModel):
    id: int
    subject: str
    status: str
    priority: str
    channel_account_id: int
    platform: str | None
    order_number: str | None
    order_id: int | None
    assignee_id: int | None
    team_id: int | None
    merged_into_id: int | None
    created_at: datetime
    last_message_at: datetime


class CustomerTicketList(BaseModel):
    tickets: list[CustomerTicketOut] = Field(description="newest first")
    next_before: int | None = Field(description="pass as `before` for the next (older) page; null on the last")


class CustomerTicketQuery(ApiModel):
    before: int | None = Field(None, ge=1, le=MAX_ID, description="the `next_before` of the page before")
    limit: int = Field(50, ge=1, le=200)


class CustomerMergeIn(ApiModel):
    ids: list[CustomerId] = Field(
        min_length=1,
        max_length=100,
        description="customers to merge into this one; their tickets, orders and "
        "identities move to it and they keep only a pointer (`merged_into_id`)",
    )


class SuggestedCustomerOut(BaseModel):
    id: int
    name: str
    email: str | None
    phone: str | None
    country: str | None


class MergeSuggestionOut(BaseModel):
    id: int = Field(description="pass to `/customer-suggestions/{id}/accept` or `/reject`")
    customer_id: int = Field(description="the customer asked about")
    candidate: SuggestedCustomerOut = Field(description="the record that looks like the same buyer")
    score: int = Field(ge=0, le=100)
    reasons: list[str] = Field(description="why they look alike, e.g. `similar name`, `same phone number`")


class MergeSuggestionList(BaseModel):
    suggestions: list[MergeSuggestionOut] = Field(description="pending ones, best score first")


class SuggestionDecisionOut(BaseModel):
    suggestion_id: int
    status: Literal["accepted", "rejected"]
    kept_customer_id: int | None = Field(description="accepted: the customer kept (the older record); else null")


def _customer_out(customer: Customer) -> CustomerOut:
    identities = sorted(customer.identities, key=lambda i: (i.scheme, i.value))
    return CustomerOut(
        id=customer.id,
        name=customer.display_name,
        email=customer.email,
        phone=customer.phone,
        country=customer.country,
        language=customer.language,
        notes=customer.notes,
        merged_into_id=customer.merged_into_id,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
        identities=[
            CustomerIdentityOut(scheme=i.scheme, value=i.value, display_name=i.display_name, created_at=i.created_at)
            for i in identities
        ],
    )


def _visible_customer(customer_id: int) -> Customer:
    """The customer if the caller may see them (a ticket in a visible store); 404 otherwise."""
    customer = visible_customer(db.session, customer_id, visible_ids())
    if customer is None:
        raise ApiError(404, "not_found", f"no customer {customer_id}")
    return customer


def _visible_ticket_clause() -> sa.ColumnElement[bool]:
    visible = visible_ids()
    if visible is None:
        return sa.true()
    return Ticket.channel_account_id.in_(sorted(visible) or [-1])


@bp.get("/customers")
@api_auth()
@api_spec.validate(query=CustomerQuery, resp=responses(400, HTTP_200=CustomerList), tags=TAGS)
def list_customers() -> CustomerList:
    """Search customers by buyer id, e-mail, phone or name (`q`), or list them all by id; only those you may see."""
    query: CustomerQuery = request.context.query  # type: ignore[attr-defined]
    if query.q is not None:
        if query.after is not None:
            raise ApiError(400, "invalid", "`after` pages the list without `q`; a search answers in one page", "after")
        found = search_customers(db.session, query.q, visible_ids(), limit=query.limit)
        ids = [c.id for c in found]
        # the identities of every hit in one query
        db.session.scalars(
            sa.select(Customer).where(Customer.id.in_(ids or [-1])).options(selectinload(Customer.identities))
        ).all()
        body = CustomerList(customers=[_customer_out(c) for c in found], next_after=None)
        db.session.commit()
        return body
    stmt = (
        sa.select(Customer)
        .where(Customer.merged_into_id.is_(None))
        .options(selectinload(Customer.identities))
        .order_by(Customer.id)
        .limit(query.limit + 1)
    )
    if query.after is not None:
        stmt = stmt.where(Customer.id > query.after)
    if visible_ids() is not None:
        has_visible_ticket = sa.select(Ticket.id).where(Ticket.customer_id == Customer.id, _visible_ticket_clause())
        stmt = stmt.where(has_visible_ticket.exists())
    customers = list(db.session.scalars(stmt))
    more = len(customers) > query.limit
    customers = customers[: query.limit]
    body = CustomerList(customers=[_customer_out(c) for c in customers], next_after=customers[-1].id if more else None)
    db.session.commit()
    return body


@bp.get("/customers/<int:customer_id>")
@api_auth()
@api_spec.validate(resp=responses(HTTP_200=CustomerOut), tags=TAGS)
def get_customer(customer_id: int) -> CustomerOut:
    """One customer with every identity (platform buyer ids, e-mail addresses, phone numbers)."""
    body = _customer_out(_visible_customer(customer_id))
    db.session.commit()
    return body


@bp.get("/customers/<int:customer_id>/tickets")
@api_auth()
@api_spec.validate(query=CustomerTicketQuery, resp=responses(400, HTTP_200=CustomerTicketList), tags=TAGS)
def customer_tickets(customer_id: int) -> CustomerTicketList:
    """The customer's tickets you may see, newest first, 50 a page (`before`, `limit`)."""
    query: CustomerTicketQuery = request.context.query  # type: ignore[attr-defined]
    _visible_customer(customer_id)
    stmt = (
        sa.select(Ticket)
        .where(Ticket.customer_id == customer_id, _visible_ticket_clause())
        .order_by(Ticket.id.desc())
        .limit(query.limit + 1)
    )
    if query.before is not None:
        stmt = stmt.where(Ticket.id < query.before)
    tickets = list(db.session.scalars(stmt))
    more = len(tickets) > query.limit
    tickets = tickets[: query.limit]
    body = CustomerTicketList(
        tickets=[
            CustomerTicketOut(
                id=t.id,
                subject=t.subject,
                status=t.status,
                priority=t.priority,
                channel_account_id=t.channel_account_id,
                platform=t.platform,
                order_number=t.order_number,
                order_id=t.order_id,
                assignee_id=t.assignee_id,
                team_id=t.team_id,
                merged_into_id=t.merged_into_id,
                created_at=t.created_at,
                last_message_at=t.last_message_at,
            )
            for t in tickets
        ],
        next_before=tickets[-1].id if more else None,
    )
    db.session.commit()
    return body


@bp.post("/customers/<int:customer_id>/merge")
@api_auth(roles=(Role.LEAD, Role.ADMIN))
@api_spec.validate(json=CustomerMergeIn, resp=responses(409, 422, HTTP_200=CustomerOut), tags=TAGS)
def merge(customer_id: int) -> CustomerOut:
    """Merge other customers into this one (leads and admins); there is no undo, so check the ids first."""
    body: CustomerMergeIn = request.context.json  # type: ignore[attr-defined]
    keep = _visible_customer(customer_id)
    if keep.merged_into_id is not None:
        raise ApiError(
            409, "conflict", f"customer {keep.id} was merged into {keep.merged_into_id}; merge into that one instead"
        )
    drop: list[int] = []
    for index, other_id in enumerate(body.ids):
        where = f"ids.{index}"
        if other_id == keep.id:
            raise ApiError(422, "invalid", "a customer cannot be merged into itself; leave its own id out", where)
        other = db.session.get(Customer, other_id)
        if other is None:
            raise ApiError(422, "invalid", f"no customer {other_id}", where)
        if other.merged_into_id is not None:
            raise ApiError(422, "invalid", f"customer {other_id} was merged into {other.merged_into_id} already", where)
        if other_id not in drop:
            drop.append(other_id)
    merge_customers(db.session, keep.id, drop, actor=caller(), via="api")
    db.session.commit()
    db.session.expire_all()
    return _customer_out(_visible_customer(customer_id))


@bp.get("/customers/<int:customer_id>/suggestions")
@api_auth()
@api_spec.validate(resp=responses(HTTP_200=MergeSuggestionList), tags=TAGS)
def customer_suggestions(customer_id: int) -> MergeSuggestionList:
    """Pending merge suggestions about this customer (those whose other customer you may see too)."""
    _visible_customer(customer_id)
    with force_locale("en"):
        found = suggestions.for_customer(db.session, customer_id, visible_ids())
    body = MergeSuggestionList(
        suggestions=[
            MergeSuggestionOut(
                id=s.row.id,
                customer_id=s.customer.id,
                candidate=SuggestedCustomerOut(
                    id=s.other.id,
                    name=s.other.display_name,
                    email=s.other.email,
                    phone=s.other.phone,
                    country=s.other.country,
                ),
                score=max(0, min(100, s.score)),
                reasons=s.reasons,
            )
            for s in found
        ]
    )
    db.session.commit()
    return body


def _decide(suggestion_id: int, decision: Literal["accept", "reject"]) -> SuggestionDecisionOut:
    kept: int | None = None
    try:
        with force_locale("en"):  # the service's refusals are translated; the API speaks English
            if decision == "accept":
                kept = suggestions.accept(db.session, suggestion_id, caller(), via="api")
            else:
                suggestions.reject(db.session, suggestion_id, caller(), via="api")
    except suggestions.SuggestionNotFound:
        db.session.rollback()
        raise ApiError(404, "not_found", f"no merge suggestion {suggestion_id}") from None
    except suggestions.SuggestionError as exc:
        db.session.rollback()
        raise ApiError(409, "conflict", str(exc)) from None
    db.session.commit()
    status: Literal["accepted", "rejected"] = "accepted" if decision == "accept" else "rejected"
    return SuggestionDecisionOut(suggestion_id=suggestion_id, status=status, kept_customer_id=kept)


@bp.post("/customer-suggestions/<int:suggestion_id>/accept")
@api_auth(roles=(Role.LEAD, Role.ADMIN))
@api_spec.validate(resp=responses(409, HTTP_200=SuggestionDecisionOut), tags=TAGS)
def accept_suggestion(suggestion_id: int) -> SuggestionDecisionOut:
    """Accept a merge suggestion (leads and admins): the two customers become one, the older record kept."""
    return _decide(suggestion_id, "accept")


@bp.post("/customer-suggestions/<int:suggestion_id>/reject")
@api_auth(roles=(Role.LEAD, Role.ADMIN))
@api_spec.validate(resp=responses(409, HTTP_200=SuggestionDecisionOut), tags=TAGS)
def reject_suggestion(suggestion_id: int) -> SuggestionDecisionOut:
    """Reject a merge suggestion for good (leads and admins): the pair is never suggested again."""
    return _decide(suggestion_id, "reject")
