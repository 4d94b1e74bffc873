"""``/api/v1/tickets``: the inbox's list, one ticket, opening a case, changing and merging tickets.

Every route calls what the inbox and the ticket page call — the inbox's
views, filters, search and keyset cursor; the ticket services for changes;
the merge service — so the API applies the same rules and the same audit,
realtime and webhook events as an agent's click.  What the token's user may
not see is 404 (a path) or an empty list, never someone else's tickets.

Input that names something (an account, an assignee, a team, the ticket to
merge into) and does not resolve for the caller is 422 with that field, in
the same words whether it does not exist or is not theirs to see.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from typing import Annotated, Literal

from flask import g, request
from flask_babel import force_locale
from pydantic import BaseModel, Field, model_validator

from channels.base import Party
from helpdesk import MAX_ID
from helpdesk.api.access import caller, may_see_account, visible_ids, visible_ticket
from helpdesk.api.auth import api_auth
from helpdesk.api.errors import ApiError
from helpdesk.api.spec import ApiModel, api_spec, responses
from helpdesk.api.views import bp
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.extensions import db
from helpdesk.hooks import idempotency
from helpdesk.inbox import queries
from helpdesk.inbox.queries import BadCursor, Filters
from helpdesk.inbox.search import search_ticket_ids
from helpdesk.inbox.services import inbox_page
from helpdesk.ingest.pipeline import take_write_lock
from helpdesk.tickets import merging, services
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.opening import Case, CaseRefused, open_case

TAGS = ["tickets"]
StatusName = Literal["new", "open", "pending", "solved", "closed"]
PriorityName = Literal["low", "normal", "high", "urgent"]
SortName = Literal["sla", "newest", "oldest"]
TagName = Annotated[str, Field(min_length=1, max_length=64)]
#: Days a date filter may name: any time zone's midnight of them is a datetime the database can hold.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9999, 12, 30)


class TicketOut(BaseModel):
    id: int
    subject: str
    status: str = Field(description="new, open, pending, solved or closed")
    priority: str = Field(description="low, normal, high or urgent")
    platform: str | None = Field(description="the marketplace, e.g. ebay, amazon")
    site: str | None
    channel_account_id: int = Field(description="the store (channel account) the ticket came in on")
    customer_id: int
    assignee_id: int | None
    team_id: int | None
    tags: list[str]
    order_id: int | None = Field(description="the linked order (GET /orders/{id}), once known")
    order_number: str | None = Field(description="the order number the buyer wrote about")
    language: str | None
    sla_state: str | None = Field(description="ok, warning or breached; null when no clock runs")
    sla_due_at: datetime | None = Field(description="when the earliest running SLA clock falls due")
    message_count: int
    merged_into_id: int | None = Field(description="set on a ticket merged into another")
    followup_of_id: int | None
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime


class TicketList(BaseModel):
    tickets: list[TicketOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")
    total: int = Field(description="tickets in the list, counted up to 1000")
    total_capped: bool = Field(description="true when there are more than `total`")


class TicketQuery(ApiModel):
    view: str = Field(
        queries.DEFAULT_VIEW,
        max_length=64,
        description="a saved view: mine, unassigned, open, at_risk, breached, pending, solved, "
        "platform:<platform> or account:<channel account id>",
    )
    platform: str | None = Field(None, max_length=32)
    account_id: int | None = Field(None, ge=1, le=MAX_ID, description="a channel account id")
    status: StatusName | None = None
    priority: PriorityName | None = None
    language: str | None = Field(None, max_length=16)
    tag: str | None = Field(None, max_length=64)
    assignee_id: int | None = Field(None, ge=1, le=MAX_ID)
    unassigned: bool = Field(False, description="only tickets nobody is assigned to (overrides assignee_id)")
    team_id: int | None = Field(None, ge=1, le=MAX_ID)
    created_from: date | None = Field(
        None, ge=FIRST_DAY, le=LAST_DAY, description="first day, in the token user's time zone"
    )
    created_to: date | None = Field(
        None, ge=FIRST_DAY, le=LAST_DAY, description="last day (inclusive), in the token user's time zone"
    )
    q: str | None = Field(None, max_length=200, description="search as in the inbox: order, tracking, SKU, buyer, text")
    sort: SortName = Field("sla", description="sla (due first, no due date last), newest or oldest")
    cursor: str | None = Field(None, max_length=200, description="the `next_cursor` of the page before")
    limit: int = Field(50, ge=1, le=100)


class TicketCustomerIn(ApiModel):
    """The buyer: at least an e-mail address or their id on the store's platform."""

    platform_id: str | None = Field(None, min_length=1, max_length=255, description="the buyer's id on the platform")
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=40)
    country: str | None = Field(None, min_length=2, max_length=2, description="ISO 3166-1 alpha-2")

    @model_validator(mode="after")
    def _identified(self) -> TicketCustomerIn:
        if not self.platform_id and not self.email:
            raise ValueError("give the customer an email or a platform_id")
        return self


class TicketCreate(ApiModel):
    channel_account_id: int = Field(ge=1, le=MAX_ID, description="the store the case belongs to")
    customer: TicketCustomerIn
    subject: str = Field("", max_length=500)
    message: str = Field(min_length=1, max_length=100_000, description="the buyer's first message, plain text")
    order_ref: str | None = Field(None, min_length=1, max_length=64, description="the order number it is about")
    language: str | None = Field(None, max_length=16, description="BCP 47 tag, e.g. de or pt-BR")
    priority: PriorityName | None = None
    tags: list[TagName] = Field([], max_length=20, description="tags for the new ticket")
    external_id: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="your id of the case: the same external id again answers 200 with the ticket it is on",
    )


class TicketUpdate(ApiModel):
    """Only the fields sent change; `assignee_id` or `team_id` null clears it."""

    status: StatusName | None = None
    priority: PriorityName | None = None
    assignee_id: int | None = Field(None, ge=1, le=MAX_ID)
    team_id: int | None = Field(None, ge=1, le=MAX_ID)
    tags: list[TagName] | None = Field(None, max_length=50, description="the ticket's tags after the change (replaces)")


class TicketMergeIn(ApiModel):
    into: int = Field(ge=1, le=MAX_ID, description="the ticket that keeps the messages (same customer)")


class TicketMergeOut(BaseModel):
    ticket: TicketOut = Field(description="the ticket merged into, after the merge")
    merge_event_id: int = Field(description="pass to POST /merges/{id}/undo to undo it")


class TicketUnmergeOut(BaseModel):
    source: TicketOut = Field(description="the ticket merged away, with its messages, status and tags back")
    target: TicketOut
    undo_event_id: int


def ticket_out(ticket: Ticket) -> TicketOut:
    """The API's view of a ticket (other resources embed it too)."""
    return TicketOut(
        id=ticket.id,
        subject=ticket.subject,
        status=ticket.status,
        priority=ticket.priority,
        platform=ticket.platform,
        site=ticket.site,
        channel_account_id=ticket.channel_account_id,
        customer_id=ticket.customer_id,
        assignee_id=ticket.assignee_id,
        team_id=ticket.team_id,
        tags=ticket.tag_names,
        order_id=ticket.order_id,
        order_number=ticket.order_number,
        language=ticket.language,
        sla_state=ticket.sla_state,
        sla_due_at=ticket.sla_due_at,
        message_count=ticket.message_count,
        merged_into_id=ticket.merged_into_id,
        followup_of_id=ticket.followup_of_id,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        last_message_at=ticket.last_message_at,
    )


def _english(exc: Exception) -> str:
    """A service's refusal in English: API messages are not translated, whatever the client's language."""
    with force_locale("en"):
        return str(exc)


def _refuse(status: int, code: str, message: str, field: str | None = None) -> ApiError:
    """Undo what the request flushed so far; the error answers, nothing half-done is committed."""
    db.session.rollback()
    return ApiError(status, code, message, field)


# --- list and get ---------------------------------------------------------------------------------


def _filters(query: TicketQuery) -> Filters:
    user = caller()
    ticket_ids = None
    if query.q and query.q.strip():
        ticket_ids = search_ticket_ids(db.session, query.q, queries.visibility(user, visible_ids()))
    return Filters(
        platform=query.platform,
        account_id=query.account_id,
        status=query.status,
        priority=query.priority,
        language=query.language,
        tag=query.tag,
        assignee_id=query.assignee_id,
        unassigned=query.unassigned,
        team_id=query.team_id,
        date_from=query.created_from,
        date_to=query.created_to,
        ticket_ids=ticket_ids,
    )


def _wrap(cursor: str) -> str:
    """The inbox's cursor, URL-safe: it holds ``+`` and ``:``, which a client pasting it into a URL would break."""
    return base64.urlsafe_b64encode(cursor.encode()).decode().rstrip("=")


def _unwrap(token: str) -> str:
    try:
        cursor = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, ValueError):
        raise BadCursor(token) from None
    if not cursor:
        raise BadCursor(token)
    return cursor


@bp.get("/tickets")
@api_auth()
@api_spec.validate(query=TicketQuery, resp=responses(400, HTTP_200=TicketList), tags=TAGS)
def list_tickets() -> TicketList:
    """The inbox's list: a saved view, filters, search, sort and keyset pages (`cursor`, `limit`)."""
    query: TicketQuery = request.context.query  # type: ignore[attr-defined]
    user = caller()
    try:
        queries.view_clause(query.view, user)
    except ValueError:
        raise ApiError(400, "invalid", f"unknown view {query.view!r}", "view") from None
    if query.created_from and query.created_to and query.created_from > query.created_to:
        raise ApiError(400, "invalid", "created_from is after created_to", "created_from")
    try:
        cursor = _unwrap(query.cursor) if query.cursor else None
        page = inbox_page(
            db.session,
            user,
            visible_ids(),
            view=query.view,
            filters=_filters(query),
            sort=query.sort,
            cursor=cursor,
            limit=query.limit,
        )
    except BadCursor:
        raise _refuse(
            400, "invalid", "the cursor is not one this list gave out; start again without it", "cursor"
        ) from None
    body = TicketList(
        tickets=[ticket_out(t) for t in page.tickets],
        next_cursor=_wrap(page.next_cursor) if page.next_cursor else None,
        total=page.total,
        total_capped=page.capped,
    )
    db.session.commit()  # last_used_at of the token
    return body


@bp.get("/tickets/<int:ticket_id>")
@api_auth()
@api_spec.validate(resp=responses(HTTP_200=TicketOut), tags=TAGS)
def get_ticket(ticket_id: int) -> TicketOut:
    """One ticket: status, priority, store, customer, order, assignee, team, tags, SLA and times."""
    body = ticket_out(visible_ticket(ticket_id))
    db.session.commit()
    return body


# --- create ---------------------------------------------------------------------------------------

#: Message fields the pipeline may name when it refuses a case, as the request's fields.
_CASE_FIELDS = {
    "sender": "customer",
    "sender.email": "customer.email",
    "sender.platform_id": "customer.platform_id",
    "body_text": "message",
    "order_refs": "order_ref",
    "language": "language",
    "subject": "subject",
    "external_id": "external_id",
    "external_thread_id": "external_id",
}
IDEMPOTENCY_PREFIX = "api:"  # the signed webhook's keys share the table; these never meet them


@bp.post("/tickets")
@api_auth()
@api_spec.validate(json=TicketCreate, resp=responses(400, 422, HTTP_200=TicketOut, HTTP_201=TicketOut), tags=TAGS)
def create_ticket() -> tuple[TicketOut, int]:
    """Open a ticket for a buyer's case (201); the same `external_id` again answers 200 with the ticket it is on.

    A retry with the same `Idempotency-Key` header gets the first answer again (keys are the token's own).
    """
    body: TicketCreate = request.context.json  # type: ignore[attr-defined]
    account = db.session.get(ChannelAccount, body.channel_account_id)
    if account is None or not may_see_account(account.id):
        raise ApiError(
            422, "invalid", f"no channel account {body.channel_account_id} that you may see", "channel_account_id"
        )
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 200:
        raise ApiError(400, "bad_idempotency_key", "keep the Idempotency-Key under 201 characters", "Idempotency-Key")
    scoped = f"{IDEMPOTENCY_PREFIX}{g.api_token.id}:{key}"  # one integration's keys never answer another's
    if key:
        take_write_lock(db.session)  # held until commit: a copy of this request waits, then reads the answer
        stored = idempotency.lookup(db.session, [(account.id, scoped)]).get((account.id, scoped))
        if stored is not None and stored.status:
            db.session.rollback()
            return TicketOut.model_validate_json(stored.body), stored.status
    case = Case(
        customer=Party(
            platform_id=body.customer.platform_id,
            email=body.customer.email,
            name=body.customer.name,
            phone=body.customer.phone,
            country=body.customer.country,
        ),
        subject=body.subject,
        text=body.message,
        external_id=body.external_id,
        order_ref=body.order_ref,
        language=body.language,
        priority=body.priority,
        tags=body.tags,
    )
    try:
        opened = open_case(db.session, account, case, caller(), source=f"api:{g.api_token.id}")
    except CaseRefused as exc:
        field = _CASE_FIELDS.get(exc.field or "", exc.field)
        # refusals are not remembered: the corrected case may come with the same key
        db.session.commit()  # the refused case stays in the quarantine, for an admin to see
        raise ApiError(422, "invalid", _english(exc), field) from None
    except services.TicketError as exc:
        raise _refuse(422, "invalid", _english(exc)) from None
    out = ticket_out(opened.ticket)
    status = 201 if opened.created else 200
    if key:
        idempotency.record_many(db.session, [(account.id, scoped, status, out.model_dump_json())])
    db.session.commit()
    return out, status


# --- change ---------------------------------------------------------------------------------------


@bp.patch("/tickets/<int:ticket_id>")
@api_auth()
@api_spec.validate(json=TicketUpdate, resp=responses(409, 422, HTTP_200=TicketOut), tags=TAGS)
def update_ticket(ticket_id: int) -> TicketOut:
    """Change status, priority, assignee, team or tags; each change is audited and announced as in the inbox."""
    body: TicketUpdate = request.context.json  # type: ignore[attr-defined]
    ticket = visible_ticket(ticket_id, for_update=True)
    user = caller()
    sent = body.model_fields_set
    steps = [
        ("team_id", lambda: services.set_team(db.session, ticket, body.team_id, user)),
        ("assignee_id", lambda: services.assign(db.session, ticket, body.assignee_id, user)),
        ("status", lambda: services.set_status(db.session, ticket, body.status or "", user)),
        ("priority", lambda: services.set_priority(db.session, ticket, body.priority or "", user)),
        ("tags", lambda: services.set_tags(db.session, ticket, body.tags or [], user)),
    ]
    for field, change in steps:
        if field not in sent:
            continue
        if field in ("status", "priority") and getattr(body, field) is None:
            raise _refuse(422, "invalid", f"{field} cannot be null", field)
        merged = ticket.merged_into_id is not None
        try:
            change()
        except services.TicketError as exc:
            status, code = (409, "merged") if merged and field == "status" else (422, "invalid")
            raise _refuse(status, code, _english(exc), field) from None
    body_out = ticket_out(ticket)
    db.session.commit()
    return body_out


# --- merge ----------------------------------------------------------------------------------------


@bp.post("/tickets/<int:ticket_id>/merge")
@api_auth()
@api_spec.validate(json=TicketMergeIn, resp=responses(409, 422, HTTP_200=TicketMergeOut), tags=TAGS)
def merge_ticket(ticket_id: int) -> TicketMergeOut:
    """Merge this ticket into `into` (same customer): its messages and tags move, it is closed; undoable."""
    body: TicketMergeIn = request.context.json  # type: ignore[attr-defined]
    source = visible_ticket(ticket_id)
    target = db.session.get(Ticket, body.into)
    if target is None or not may_see_account(target.channel_account_id):
        raise ApiError(422, "invalid", f"no ticket {body.into} that you may see", "into")
    try:
        event = merging.merge(db.session, source, target, caller())
    except merging.MergeConflict as exc:
        raise _refuse(
            409, "merged", _english(exc) + " Undo that merge first, or merge into the surviving ticket."
        ) from None
    except services.TicketError as exc:
        raise _refuse(422, "invalid", _english(exc), "into") from None
    out = TicketMergeOut(ticket=ticket_out(target), merge_event_id=event.id)
    db.session.commit()
    return out


@bp.post("/merges/<int:event_id>/undo")
@api_auth()
@api_spec.validate(resp=responses(409, HTTP_200=TicketUnmergeOut), tags=TAGS)
def undo_merge(event_id: int) -> TicketUnmergeOut:
    """Undo a merge (the `merge_event_id` of the merge): exactly the moved messages go back."""
    try:
        event = merging.merge_event(db.session, event_id)
    except merging.MergeNotFound:
        raise ApiError(404, "not_found", f"no merge {event_id}") from None
    ids = merging.tickets_of(event)
    present = [t for t in (db.session.get(Ticket, i) for i in ids) if t is not None]
    if not present or any(not may_see_account(t.channel_account_id) for t in present):
        raise ApiError(404, "not_found", f"no merge {event_id}")
    try:
        with force_locale("en"):
            undo = merging.unmerge(db.session, event.id, caller())
    except services.TicketError as exc:
        raise _refuse(409, "cannot_undo", _english(exc)) from None
    source, target = (db.session.get(Ticket, i) for i in ids)
    assert source is not None
    assert target is not None
    out = TicketUnmergeOut(source=ticket_out(source), target=ticket_out(target), undo_event_id=undo.id)
    db.session.commit()
    return out
