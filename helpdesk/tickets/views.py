"""The ticket page and the agent actions on it; every change is a POST with CSRF."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from channels.base import AttachmentData
from helpdesk.accounts.services import visible_account_ids
from helpdesk.attachments import store
from helpdesk.attachments.names import safe_filename
from helpdesk.customers import suggestions as customer_suggestions
from helpdesk.extensions import db
from helpdesk.inbox.queries import visibility
from helpdesk.orders import freshness
from helpdesk.params import parse_id, parse_ids
from helpdesk.tickets import actions, merging, pages, services, translating
from helpdesk.tickets import attachments as files
from helpdesk.tickets.models import Attachment, Message, Priority, Ticket, TicketStatus
from helpdesk.tickets.policy_text import describe
from helpdesk.tickets.services import Collision, PolicyViolation, TicketError
from macros.locale import is_rtl

bp = Blueprint("tickets", __name__, url_prefix="/tickets")

#: Types a browser may show inline; everything else is downloaded.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
#: Words in a type that a browser would run as a page or script: those go out as plain bytes, as a download.
ACTIVE_TYPE_WORDS = ("html", "xml", "script", "svg")


def visible_ticket(ticket_id: int) -> Ticket:
    """The ticket if the current user may see it; 404 otherwise, so nothing leaks about others' tickets."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        abort(404)
    visible = visible_account_ids(current_user)
    if visible is not None and ticket.channel_account_id not in visible:
        abort(404)
    return ticket


def _render(
    ticket: Ticket,
    *,
    status: int = 200,
    draft: str = "",
    translation_draft: str = "",
    collision: tuple[Message, ...] = (),
    policy_violations: bool = False,
) -> tuple[str, int]:
    visible = visibility(current_user, visible_account_ids(current_user))
    messages = pages.conversation(db.session, ticket)
    order, refreshing = _order(ticket)
    html = render_template(
        "tickets/show.html",
        **_details(ticket, visible),
        messages=messages,
        last_message_id=max((m.id for m in messages), default=0),
        card=pages.customer_card(db.session, ticket, visible),
        order=order,
        order_refreshing=refreshing,
        offers_actions=ticket.merged_into_id is None and actions.action_account(db.session, ticket) is not None,
        macro_key=request.form.get("macro_key", ""),
        macro_locale=request.form.get("macro_locale", ""),
        draft_dir="rtl" if is_rtl(request.form.get("macro_locale") or "en") else "auto",
        policy_violations=policy_violations,
        reply_limits=files.reply_limits(db.session, ticket),
        sends_replies=files.sends_replies(db.session, ticket),
        note_limits=files.note_limits(),
        merges=merging.history(db.session, ticket),
        suggestions=customer_suggestions.for_customer(
            db.session, ticket.customer_id, visible_account_ids(current_user)
        ),
        draft=draft,
        translation_draft=translation_draft,
        reading=translating.page_state(db.session, messages, current_user),
        reply_choice=translating.reply_language(db.session, ticket),
        collision=collision,
    )
    return html, status


def _details(ticket: Ticket, visible: Any) -> dict[str, Any]:
    """What the header line and the details card need, for the page and for its live redraw."""
    return {
        "ticket": ticket,
        "account": pages.account_of(db.session, ticket),
        "assignees": pages.assignable_users(db.session, ticket),
        "merge_candidates": pages.merge_candidates(db.session, ticket, visible),
        "statuses": list(TicketStatus),
        "priorities": list(Priority),
    }


def _order(ticket: Ticket) -> tuple[Any, bool]:
    """The ticket's order, asking the platform for a fresh copy in the background when it is stale."""
    order = pages.ticket_order(db.session, ticket)
    if not freshness.request_refresh(db.session, ticket, order):
        return order, False
    db.session.refresh(ticket)  # with an immediate queue (tests, scripts) the refresh has happened already
    order = pages.ticket_order(db.session, ticket)
    return order, freshness.needs_refresh(order, ticket)


@bp.get("/<int:ticket_id>/order")
@login_required
def order_fragment(ticket_id: int) -> str:
    """The order card as HTML, for an open page to redraw when the order was refreshed."""
    ticket = visible_ticket(ticket_id)
    return render_template("tickets/_order.html", ticket=ticket, order=pages.ticket_order(db.session, ticket))


@bp.get("/<int:ticket_id>/live")
@login_required
def live_fragment(ticket_id: int) -> str:
    """The header line and details card as HTML, for an open page to redraw when a colleague changed them."""
    ticket = visible_ticket(ticket_id)
    visible = visibility(current_user, visible_account_ids(current_user))
    return render_template("tickets/_live.html", **_details(ticket, visible))


@bp.get("/<int:ticket_id>")
@login_required
def show(ticket_id: int) -> tuple[str, int]:
    return _render(visible_ticket(ticket_id))


@bp.get("/<int:ticket_id>/messages/<int:message_id>")
@login_required
def message_fragment(ticket_id: int, message_id: int) -> str:
    """One message as HTML, for the open page to append when it arrives live."""
    ticket = visible_ticket(ticket_id)
    message = db.session.get(Message, message_id)
    if message is None or message.ticket_id != ticket.id:
        abort(404)
    return render_template(
        "tickets/_message.html", m=message, reading=translating.page_state(db.session, [message], current_user)
    )


def _back(ticket: Ticket) -> Response:
    return redirect(url_for("tickets.show", ticket_id=ticket.id))


def _uploads() -> list[AttachmentData]:
    """The files of the composer's form (the file button and drops share one field)."""
    return [
        files.upload(f.filename or "", f.mimetype, f.read())
        for f in request.files.getlist("files")
        if f.filename  # a browser sends an empty part when no file was chosen
    ]


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> Response:
    """A reply whose files exceed what the server reads at all: back to the ticket, naming the limit.

    The body is refused before any view runs (the CSRF check reads the form),
    so this handler, not the reply view, answers.
    """
    limit = files.size_text(current_app.config["HELPDESK_SETTINGS"].attachment_max_bytes)
    flash(
        _(
            "The files are larger than the helpdesk accepts (%(limit)s in all). Send fewer or smaller files.",
            limit=limit,
        ),
        "error",
    )
    ticket_id = (request.view_args or {}).get("ticket_id")
    return redirect(url_for("tickets.show", ticket_id=ticket_id) if ticket_id else url_for("inbox.index"))


@bp.post("/<int:ticket_id>/reply")
@login_required
def reply(ticket_id: int) -> Response | tuple[str, int]:
    ticket = visible_ticket(ticket_id)
    form = request.form
    uploads = _uploads()
    body = form.get("body", "")
    internal = form.get("internal") == "1"
    # a translated reply: the buyer gets the (edited) translation, the ticket keeps what the agent wrote
    translation = (form.get("translation") or "").strip() if not internal else ""
    override = (form.get("override_reason") or "").strip() if current_user.sees_everything else ""
    try:
        message = services.add_reply(
            db.session,
            ticket,
            current_user,
            translation or body,
            internal=internal,
            seen_message_id=parse_id("seen", form.get("seen")),
            force=form.get("force") == "1",
            policy_override=override or None,
            attachments=uploads,
            mentions=parse_ids("mention", form.getlist("mention")) if internal else (),
        )
        if translation:
            translating.keep_written_text(
                message,
                body,
                translating.agent_language(current_user),
                translating.language_code(form.get("translation_target") or ticket.language),
            )
        if not internal:
            _after_reply(ticket, form.get("macro_key", ""), form.get("macro_locale", ""), form.get("then_status", ""))
    except Collision as exc:
        db.session.rollback()
        _files_not_kept(uploads)
        return _render(ticket, status=409, draft=body, translation_draft=translation, collision=exc.messages)
    except PolicyViolation as exc:
        db.session.rollback()
        for violation in exc.violations:
            flash(describe(violation), "error")
        _files_not_kept(uploads)
        return _render(ticket, status=422, draft=body, translation_draft=translation, policy_violations=True)
    except TicketError as exc:
        db.session.rollback()
        flash(_(str(exc)), "error")
        _files_not_kept(uploads)
        return _render(ticket, status=422, draft=body, translation_draft=translation)
    db.session.commit()
    if not internal:
        from helpdesk.tickets.tasks import send_reply

        send_reply(message.id)
    flash(_("Internal note added.") if internal else _("Reply queued for sending."), "info")
    return _back(ticket)


def _files_not_kept(uploads: list[AttachmentData]) -> None:
    """A browser cannot be handed files back: when the draft returns, say which to attach again."""
    if uploads:
        names = ", ".join(u.filename for u in uploads)
        flash(_("Nothing was sent. Attach these files again before sending: %(names)s", names=names), "warning")


def _after_reply(ticket: Ticket, macro_key: str, macro_locale: str, then_status: str) -> None:
    """The macro's actions (and use) when the reply came from one; then the status the agent chose."""
    from helpdesk.macros import services as macro_services

    macro = macro_services.library(db.session).get(macro_key) if macro_key else None
    if macro is not None:
        macro_services.record_use(db.session, macro, macro_locale or "en", current_user, ticket)
        macro_services.apply_actions(db.session, ticket, macro, current_user)
    if then_status:
        services.set_status(db.session, ticket, then_status, current_user)


@bp.get("/<int:ticket_id>/mentionable")
@login_required
def mentionable(ticket_id: int) -> Response:
    """Colleagues a note on this ticket may @mention: only those who may see it."""
    from helpdesk.notifications import services as notifications

    ticket = visible_ticket(ticket_id)
    users = notifications.mentionable(db.session, ticket, request.args.get("q", ""), exclude=current_user.id)
    return jsonify(users=[{"id": u.id, "name": u.name, "email": u.email} for u in users])


@bp.post("/<int:ticket_id>/reply/check")
@login_required
def check_reply(ticket_id: int) -> Response:
    """The composer's live check: what the ticket's marketplace would refuse in the draft."""
    ticket = visible_ticket(ticket_id)
    body = request.form.get("body", "")
    violations = services.reply_violations(ticket, body)
    return jsonify(
        violations=[
            {"code": v.code, "text": describe(v), "start": v.start, "end": v.end, "blocking": v.blocking}
            for v in violations
        ]
    )


@bp.get("/<int:ticket_id>/actions")
@login_required
def messaging_actions(ticket_id: int) -> str:
    """What the marketplace lets the seller send about this ticket's order, asked now."""
    ticket = visible_ticket(ticket_id)
    error, account, offered = None, None, []
    try:
        account, offered = actions.available(db.session, ticket)
    except actions.ActionError as exc:
        error = str(exc)
    return render_template("tickets/actions.html", ticket=ticket, account=account, offered=offered, error=error)


@bp.post("/<int:ticket_id>/actions")
@login_required
def send_messaging_action(ticket_id: int) -> Response:
    ticket = visible_ticket(ticket_id)
    if ticket.merged_into_id is not None:  # like replies: a merged ticket sends nothing
        flash(
            _("This ticket was merged into #%(id)s. Reply on that ticket instead.", id=ticket.merged_into_id), "error"
        )
        return _back(ticket)
    action = request.form.get("action", "")
    try:
        actions.send(db.session, ticket, current_user, action, request.form.get("text", ""))
    except actions.ActionError as exc:
        db.session.rollback()
        flash(_("The marketplace did not accept the message: %(reason)s", reason=str(exc)), "error")
        return redirect(url_for("tickets.messaging_actions", ticket_id=ticket.id))
    db.session.commit()
    flash(_("Message sent through the marketplace."), "info")
    return _back(ticket)


def _apply(ticket_id: int, change) -> Response:  # type: ignore[no-untyped-def]
    ticket = visible_ticket(ticket_id)
    try:
        change(ticket)
    except TicketError as exc:
        db.session.rollback()
        flash(_(str(exc)), "error")
    else:
        db.session.commit()
    return _back(ticket)


@bp.post("/<int:ticket_id>/assign")
@login_required
def assign(ticket_id: int) -> Response:
    raw = request.form.get("assignee", "")
    target = current_user.id if raw == "me" else parse_id("assignee", raw)
    return _apply(ticket_id, lambda t: services.assign(db.session, t, target, current_user))


@bp.post("/<int:ticket_id>/status")
@login_required
def status(ticket_id: int) -> Response:
    return _apply(ticket_id, lambda t: services.set_status(db.session, t, request.form.get("status", ""), current_user))


@bp.post("/<int:ticket_id>/priority")
@login_required
def priority(ticket_id: int) -> Response:
    value = request.form.get("priority", "")
    return _apply(ticket_id, lambda t: services.set_priority(db.session, t, value, current_user))


@bp.post("/<int:ticket_id>/tags")
@login_required
def tags(ticket_id: int) -> Response:
    value = request.form.get("tags", "")
    return _apply(ticket_id, lambda t: services.set_tags(db.session, t, [value], current_user))


def _merge_pair(ticket_id: int) -> tuple[Ticket, Ticket]:
    """Source and target of a merge the user asks for; 404 unless the user may see both."""
    source = visible_ticket(ticket_id)
    return source, visible_ticket(parse_id("into", request.values.get("into")) or 0)


@bp.get("/<int:ticket_id>/merge")
@login_required
def merge_confirm(ticket_id: int) -> Response | str:
    """What a merge will move and what happens to the source, before anything changes."""
    source, target = _merge_pair(ticket_id)
    try:
        plan = merging.preview(db.session, source, target)
    except TicketError as exc:
        flash(_(str(exc)), "error")
        return _back(source)
    return render_template("tickets/merge.html", plan=plan)


@bp.post("/<int:ticket_id>/merge")
@login_required
def merge(ticket_id: int) -> Response:
    source, target = _merge_pair(ticket_id)
    if request.form.get("confirmed") != "1":  # nothing merges without the confirmation page
        return redirect(url_for("tickets.merge_confirm", ticket_id=source.id, into=target.id), 303)
    try:
        merging.merge(db.session, source, target, current_user)
    except TicketError as exc:
        db.session.rollback()
        flash(_(str(exc)), "error")
        return _back(source)
    db.session.commit()
    flash(_("Ticket #%(source)s was merged into this one. A mistake? Undo it under Merges.", source=source.id), "info")
    return _back(target)


@bp.post("/<int:ticket_id>/merges/<int:event_id>/undo")
@login_required
def unmerge(ticket_id: int, event_id: int) -> Response:
    """Undo a merge from either ticket's history; the user must see both tickets."""
    ticket = visible_ticket(ticket_id)
    try:
        event = merging.merge_event(db.session, event_id)
    except merging.MergeNotFound:
        abort(404)
    source_id, target_id = merging.tickets_of(event)
    if ticket.id not in (source_id, target_id):
        abort(404)
    other = source_id if ticket.id == target_id else target_id
    if db.session.get(Ticket, other) is not None:
        visible_ticket(other)
    try:
        merging.unmerge(db.session, event.id, current_user)
    except TicketError as exc:
        db.session.rollback()
        flash(_(str(exc)), "error")
        return _back(ticket)
    db.session.commit()
    flash(_("Merge undone: ticket #%(source)s has its messages back.", source=source_id), "info")
    return redirect(url_for("tickets.show", ticket_id=source_id))


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int) -> Response:
    """Attachment bytes with a safe type: raster images inline, everything else as a download.

    The stored type is kept (a PDF downloads as a PDF) unless a browser could
    run it as a page (HTML, SVG, XML): those go out as plain bytes.
    """
    item = db.session.get(Attachment, attachment_id)
    if item is None:
        abort(404)
    message = db.session.get(Message, item.message_id)
    assert message is not None
    visible_ticket(message.ticket_id)
    try:
        data = store.load(db.session, item.sha256)
    except FileNotFoundError:
        abort(404)
    return attachment_response(item, data)


def attachment_response(item: Attachment, data: bytes) -> Response:
    """The file with headers that keep a browser from running it; the API's download sends the same."""
    inline = item.content_type in INLINE_TYPES
    active = any(word in item.content_type for word in ACTIVE_TYPE_WORDS)
    kind = "application/octet-stream" if active else item.content_type
    response = Response(data, mimetype=kind)
    disposition = "inline" if inline else "attachment"
    # cleaned again on the way out: rows stored before names were cleaned may hold line breaks
    response.headers["Content-Disposition"] = content_disposition(disposition, safe_filename(item.filename))
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def content_disposition(disposition: str, filename: str) -> str:
    """``attachment; filename=…`` that survives any name (RFC 6266).

    HTTP headers are Latin-1: a Chinese or Arabic name goes in ``filename*``
    (UTF-8, percent-encoded), which every current browser reads, with an
    ASCII stand-in in ``filename`` for the rest.
    """
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    if fallback == filename:
        return f'{disposition}; filename="{filename}"'
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@bp.app_template_filter("clean_html")
def clean_html(value: str | None) -> str:
    """Sanitise buyer HTML again at display time: ingest already did, this guards older rows."""
    import nh3

    return nh3.clean(value or "")
