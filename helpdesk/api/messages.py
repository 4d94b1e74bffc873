"""``/api/v1/tickets/{id}/messages``, ``…/notes`` and ``/api/v1/attachments/{id}``: a ticket's conversation.

A reply posted here is the inbox composer's reply: the same service checks
the platform's rules, the channel's attachment limits and collisions, the
same audit event and ``message.created`` event follow, and the same task
sends it through the ticket's own channel.  So the answer is 202: the reply
is queued, and its ``delivery_state`` (GET the message) moves on to
``sending`` and ``sent`` or ``failed`` with the reason.

Bodies are JSON, or ``multipart/form-data`` with the same fields plus
``files`` when files go along (the composer's limits apply to both).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from flask import request, url_for
from flask_babel import force_locale
from pydantic import BaseModel, Field, field_validator
from spectree.model_adapter.pydantic_adapter import BaseFile
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from channels.base import AttachmentData
from helpdesk import MAX_ID
from helpdesk.api.access import caller, visible_ticket
from helpdesk.api.auth import api_auth
from helpdesk.api.errors import ApiError
from helpdesk.api.spec import ApiModel, api_spec, responses
from helpdesk.api.views import bp
from helpdesk.attachments import store
from helpdesk.extensions import db
from helpdesk.tickets import attachments as files
from helpdesk.tickets import services
from helpdesk.tickets.models import Attachment, Message, Ticket
from helpdesk.tickets.policy_text import describe
from helpdesk.tickets.services import MAX_BODY, Collision, PolicyViolation, TicketError
from helpdesk.tickets.views import attachment_response, clean_html

TAGS = ["messages"]


# --- response models ----------------------------------------------------------------------------------


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int = Field(description="bytes")
    inline: bool = Field(description="shown inside the message (an e-mail's embedded image)")
    url: str = Field(description="GET it with the same token for the file's bytes")


class MessageAuthor(BaseModel):
    kind: Literal["customer", "user", "system"] = Field(
        description="the customer (incoming), a user of the helpdesk, or the system (automatic messages)"
    )
    user_id: int | None
    customer_id: int | None
    name: str


class MessageOut(BaseModel):
    id: int
    ticket_id: int
    direction: Literal["in", "out"]
    internal: bool = Field(description="an internal note: never sent to the customer")
    auto: str | None = Field(description="machine-written mail: `auto_reply`, `bounce` or `notification`")
    author: MessageAuthor
    subject: str
    text: str = Field(description="the new text, without the quoted history below it")
    body_text: str = Field(description="the whole text as received or sent")
    body_html: str | None = Field(description="the customer's HTML, sanitised; null for plain-text messages")
    language: str | None
    external_id: str | None = Field(description="the platform's id of the message, once it has one")
    sent_at: datetime = Field(description="when it was written (for a sent reply: when the platform took it)")
    received_at: datetime = Field(description="when the helpdesk recorded it")
    delivery_state: Literal["received", "queued", "sending", "sent", "failed"] = Field(
        description="incoming messages and notes: `received`; replies: `queued` → `sending` → `sent` or `failed`"
    )
    delivery_error: str | None = Field(description="why the last attempt failed (while retrying, or for good)")
    delivery_attempts: int
    attachments: list[AttachmentOut]


class MessageList(BaseModel):
    messages: list[MessageOut]
    next_after: int | None = Field(description="pass as `after` for the next page; null on the last")


class PolicyViolationOut(BaseModel):
    code: str = Field(description="the rule, e.g. `email_address`, `link`, `phone_number`")
    detail: str = Field(description="the offending part of the text")
    message: str
    start: int | None = Field(description="offset of the offending part in `body`")
    end: int | None


class PolicyRefusalDetail(BaseModel):
    code: str = Field(description="`policy_violation`, or `invalid` for any other refusal")
    message: str
    field: str | None
    violations: list[PolicyViolationOut] = Field(
        default_factory=list, description="the platform's rules the reply breaks (for `policy_violation`)"
    )


class PolicyRefusal(BaseModel):
    """422: the body broke its model, or the reply breaks rules the ticket's platform sets."""

    error: PolicyRefusalDetail


# --- request models -------------------------------------------------------------------------------------


class MessageQuery(ApiModel):
    after: int | None = Field(None, ge=0, le=MAX_ID, description="the `next_after` of the page before")
    limit: int = Field(100, ge=1, le=500)


class ReplyIn(ApiModel):
    body: str = Field("", max_length=MAX_BODY, description="plain text; may be empty when files go along")
    status: Literal["pending", "solved"] | None = Field(
        None, description="set the ticket to this status after replying (the composer's 'then set solved')"
    )
    seen_message_id: int | None = Field(
        None,
        ge=0,
        le=MAX_ID,
        description="the newest message the writer had read: if someone else wrote since, 409 `collision`",
    )
    force: bool = Field(False, description="send even though someone else wrote since `seen_message_id`")
    policy_override: str | None = Field(
        None,
        max_length=2000,
        description="leads and admins: send despite the platform's rules, saying why (kept for the leads' list)",
    )


class NoteIn(ApiModel):
    body: str = Field("", max_length=MAX_BODY, description="plain text; `@Name` or `@e-mail` mentions a colleague")
    mentions: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list,
        max_length=50,
        description="ids of colleagues mentioned by `@Name` in the body; they are notified if they may see the ticket",
    )


def _as_list(value: Any) -> Any:
    """A form field sent once arrives as one value, not a list of one."""
    return value if isinstance(value, list) else [value]


class ReplyForm(ReplyIn):
    files: list[BaseFile] = Field(
        default_factory=list, description="files for the customer, within the channel's limits"
    )

    @field_validator("files", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return _as_list(value)


class NoteForm(NoteIn):
    files: list[BaseFile] = Field(default_factory=list, description="files for the team (up to 20)")

    @field_validator("files", "mentions", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return _as_list(value)


# --- rendering ------------------------------------------------------------------------------------------


def _author(message: Message) -> MessageAuthor:
    if message.direction == "in":
        return MessageAuthor(kind="customer", user_id=None, customer_id=message.customer_id, name=message.author_name)
    kind: Literal["user", "system"] = "user" if message.author_user_id is not None else "system"
    return MessageAuthor(kind=kind, user_id=message.author_user_id, customer_id=None, name=message.author_name)


def message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.id,
        ticket_id=message.ticket_id,
        direction=message.direction,  # type: ignore[arg-type]
        internal=message.is_internal,
        auto=message.auto,
        author=_author(message),
        subject=message.subject,
        text=message.display_text,
        body_text=message.body_text,
        body_html=clean_html(message.body_html) if message.body_html else None,
        language=message.language,
        external_id=message.external_id,
        sent_at=message.sent_at,
        received_at=message.received_at,
        delivery_state=message.delivery_state,  # type: ignore[arg-type]
        delivery_error=message.delivery_error,
        delivery_attempts=message.delivery_attempts,
        attachments=[
            AttachmentOut(
                id=a.id,
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                inline=a.inline,
                url=url_for("api.download_attachment", attachment_id=a.id, _external=True),
            )
            for a in sorted(message.attachments, key=lambda a: a.id)
        ],
    )


# --- reading --------------------------------------------------------------------------------------------


@bp.get("/tickets/<int:ticket_id>/messages")
@api_auth()
@api_spec.validate(query=MessageQuery, resp=responses(400, HTTP_200=MessageList), tags=TAGS)
def list_messages(ticket_id: int) -> MessageList:
    """The conversation oldest first, notes included, 100 a page (`after`, `limit`)."""
    query: MessageQuery = request.context.query  # type: ignore[attr-defined]
    ticket = visible_ticket(ticket_id)
    # Ordered by id, the order the helpdesk recorded them: a message that arrives later lands on a
    # later page, so a script polling with `after` sees each new one (messages a merge moves in
    # keep their older ids).
    stmt = (
        sa.select(Message)
        .where(Message.ticket_id == ticket.id)
        .options(selectinload(Message.attachments))
        .order_by(Message.id)
        .limit(query.limit + 1)
    )
    if query.after is not None:
        stmt = stmt.where(Message.id > query.after)
    found = list(db.session.scalars(stmt))
    more = len(found) > query.limit
    found = found[: query.limit]
    body = MessageList(messages=[message_out(m) for m in found], next_after=found[-1].id if more else None)
    db.session.commit()  # last_used_at of the token
    return body


@bp.get("/tickets/<int:ticket_id>/messages/<int:message_id>")
@api_auth()
@api_spec.validate(resp=responses(HTTP_200=MessageOut), tags=TAGS)
def get_message(ticket_id: int, message_id: int) -> MessageOut:
    """One message of the ticket: poll a reply's `delivery_state` here."""
    ticket = visible_ticket(ticket_id)
    message = db.session.get(Message, message_id)
    if message is None or message.ticket_id != ticket.id:
        raise ApiError(404, "not_found", f"ticket {ticket_id} has no message {message_id}")
    body = message_out(message)
    db.session.commit()
    return body


@bp.get("/attachments/<int:attachment_id>")
@api_auth()
@api_spec.validate(
    resp=responses(
        HTTP_200=(
            None,
            "the file's bytes. `Content-Type` is its stored type, except that types a browser would run "
            "(HTML, SVG, XML) come as `application/octet-stream`; `Content-Disposition` carries the name.",
        )
    ),
    tags=TAGS,
)
def download_attachment(attachment_id: int) -> Response:
    """A file of a message, for those who may see its ticket."""
    item = db.session.get(Attachment, attachment_id)
    message = db.session.get(Message, item.message_id) if item is not None else None
    if item is None or message is None:
        raise ApiError(404, "not_found", f"no attachment {attachment_id}")
    try:
        visible_ticket(message.ticket_id)
    except ApiError:
        raise ApiError(404, "not_found", f"no attachment {attachment_id}") from None
    try:
        data = store.load(db.session, item.sha256)
    except FileNotFoundError:
        raise ApiError(404, "not_found", f"the file of attachment {attachment_id} is missing from storage") from None
    db.session.commit()
    return attachment_response(item, data)


# --- writing --------------------------------------------------------------------------------------------


def _request_body(json_model: type[ApiModel]) -> tuple[Any, list[AttachmentData]]:
    """The validated fields (JSON or form) and the uploaded files, named and typed as the composer does."""
    context = request.context  # type: ignore[attr-defined]
    fields = context.form if context.form is not None else context.json
    if fields is None:  # no body at all
        fields = json_model()
    uploads = [
        files.upload(f.filename or "", f.mimetype, f.read())
        for f in request.files.getlist("files")
        if f.filename  # an empty part when no file was chosen
    ]
    return fields, uploads


def _refused(exc: files.AttachmentRefused, uploads: list[AttachmentData]) -> ApiError:
    if exc.limit == "size":
        largest = max(uploads, key=lambda u: len(u.content))
        text = f"{exc} The largest is {largest.filename} ({files.size_text(len(largest.content))})."
        return ApiError(413, "too_large", text, "files")
    field = f"files.{exc.index}" if exc.index is not None else "files"
    return ApiError(422, "files_refused", str(exc), field)


@contextmanager
def _rolled_back_on_error() -> Iterator[None]:
    """A refused change leaves nothing behind in the session for a later commit to pick up."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise


def _post(ticket: Ticket, fields: Any, uploads: list[AttachmentData], *, internal: bool) -> Message:
    """Add the reply or note through the composer's service; refusals become API errors, in English."""
    user = caller()
    with force_locale("en"), _rolled_back_on_error():
        try:
            return services.add_reply(
                db.session,
                ticket,
                user,
                fields.body,
                internal=internal,
                seen_message_id=None if internal else fields.seen_message_id,
                force=internal or fields.force,
                policy_override=None if internal else fields.policy_override,
                attachments=uploads,
                mentions=fields.mentions if internal else (),
            )
        except Collision as exc:
            ids = ", ".join(str(m.id) for m in exc.messages)
            raise ApiError(
                409,
                "collision",
                f"{len(exc.messages)} message(s) arrived since message {fields.seen_message_id} (ids {ids}): "
                "read them, then send again with force=true or a newer seen_message_id",
                "seen_message_id",
            ) from None
        except files.AttachmentRefused as exc:
            raise _refused(exc, uploads) from None
        except PolicyViolation:
            raise  # answered by the route, which lists the rules
        except TicketError as exc:
            raise ApiError(422, "invalid", str(exc), "body") from None


def _policy_refusal(exc: PolicyViolation) -> tuple[PolicyRefusal, int]:
    with force_locale("en"):
        violations = [
            PolicyViolationOut(code=v.code, detail=v.detail, message=describe(v), start=v.start, end=v.end)
            for v in exc.violations
        ]
    message = (
        f"the reply breaks {exc.platform or 'the platform'}'s rules for messages to buyers: "
        + " ".join(v.message for v in violations)
        + " Change the text and send again (a lead or admin may send it anyway with policy_override and a reason)."
    )
    detail = PolicyRefusalDetail(code="policy_violation", message=message, field="body", violations=violations)
    return PolicyRefusal(error=detail), 422


@bp.post("/tickets/<int:ticket_id>/messages")
@api_auth()
@api_spec.validate(
    json=ReplyIn,
    form=ReplyForm,
    resp=responses(409, HTTP_202=MessageOut, HTTP_422=PolicyRefusal),
    tags=TAGS,
)
def post_reply(ticket_id: int) -> tuple[MessageOut | PolicyRefusal, int]:
    """Reply to the customer through the ticket's channel; 202 with the message, `queued` for sending."""
    ticket = visible_ticket(ticket_id, for_update=True)
    fields, uploads = _request_body(ReplyIn)
    if not files.sends_replies(db.session, ticket):
        raise ApiError(
            409,
            "cannot_reply",
            "this ticket's channel cannot send replies to the customer: post an internal note "
            f"(POST /api/v1/tickets/{ticket.id}/notes) and answer the customer by e-mail",
        )
    try:
        message = _post(ticket, fields, uploads, internal=False)
    except PolicyViolation as exc:
        return _policy_refusal(exc)
    if fields.status:
        with force_locale("en"), _rolled_back_on_error():
            try:
                services.set_status(db.session, ticket, fields.status, caller())
            except TicketError as exc:
                raise ApiError(422, "invalid", str(exc), "status") from None
    db.session.commit()
    # What was accepted: queued.  The task may run at once (an in-process queue), so the body is taken first.
    body = message_out(message)
    from helpdesk.tickets.tasks import send_reply

    send_reply(message.id)
    return body, 202


@bp.post("/tickets/<int:ticket_id>/notes")
@api_auth()
@api_spec.validate(json=NoteIn, form=NoteForm, resp=responses(422, HTTP_201=MessageOut), tags=TAGS)
def post_note(ticket_id: int) -> tuple[MessageOut, int]:
    """Add an internal note for the team (never sent); `@mentions` notify colleagues who may see the ticket."""
    ticket = visible_ticket(ticket_id, for_update=True)
    fields, uploads = _request_body(NoteIn)
    message = _post(ticket, fields, uploads, internal=True)
    db.session.commit()
    return message_out(message), 201
