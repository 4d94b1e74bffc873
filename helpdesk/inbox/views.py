"""The inbox: saved views, filters, sort, search, keyset pages, live rows and counts, bulk actions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from helpdesk.accounts.models import User
from helpdesk.accounts.services import visible_account_ids
from helpdesk.extensions import db
from helpdesk.inbox import queries, services
from helpdesk.inbox.queries import BadCursor, Filters
from helpdesk.inbox.rows import row_details
from helpdesk.inbox.search import MAX_TERMS, bounded, search_ticket_ids
from helpdesk.params import date_arg, id_arg, parse_choice, parse_ids
from helpdesk.tickets import merging
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.services import TicketError

bp = Blueprint("inbox", __name__)

FILTER_KEYS = ("platform", "account", "status", "priority", "language", "tag", "assignee", "team", "from", "to", "q")


def parse_filters(args: MultiDict[str, str], visible_ids: set[int] | None) -> Filters:
    """The filter bar's query string as Filters; the search box becomes a list of ranked ticket ids."""
    assignee = args.get("assignee", "").strip()
    ticket_ids = None
    if args.get("q", "").strip():
        ticket_ids = search_ticket_ids(db.session, args["q"], queries.visibility(current_user, visible_ids))
    return Filters(
        platform=args.get("platform") or None,
        account_id=id_arg(args, "account"),
        status=args.get("status") or None,
        priority=args.get("priority") or None,
        language=args.get("language") or None,
        tag=args.get("tag") or None,
        assignee_id=current_user.id if assignee == "me" else None if assignee == "none" else id_arg(args, "assignee"),
        unassigned=assignee == "none",
        team_id=id_arg(args, "team"),
        date_from=date_arg(args, "from"),
        date_to=date_arg(args, "to"),
        ticket_ids=ticket_ids,
    )


def _view_and_sort(visible_ids: set[int] | None) -> tuple[str, str]:
    """The saved view and sort asked for; a store's view the user may not see is 404, as an unknown view is."""
    view = request.args.get("view") or queries.DEFAULT_VIEW
    sort = parse_choice("sort", request.args.get("sort"), queries.SORTS) or "sla"
    try:
        queries.view_clause(view, current_user)
    except ValueError:
        abort(404)
    if not services.may_open_view(view, visible_ids):
        abort(404)
    return view, sort


@bp.get("/")
@login_required
def index() -> str:
    visible_ids = visible_account_ids(current_user)
    view, sort = _view_and_sort(visible_ids)
    filters = parse_filters(request.args, visible_ids)
    try:
        page = services.inbox_page(
            db.session,
            current_user,
            visible_ids,
            view=view,
            filters=filters,
            sort=sort,
            cursor=request.args.get("cursor") or None,
            number=_page_number(request.args.get("p")) if request.args.get("cursor") else 1,
        )
    except BadCursor:
        abort(400)
    kept = {k: v for k, v in request.args.items() if k in (*FILTER_KEYS, "view", "sort") and v}
    options = services.filter_options(db.session, visible_ids)
    return render_template(
        "inbox/index.html",
        page=page,
        view=view,
        view_label=services.view_label(view, db.session),
        sort=sort,
        args=kept,
        views=services.sidebar_views(db.session, visible_ids),
        options=options,
        names={u.id: u.name for u in options["assignees"]},
        details=row_details(db.session, page.tickets),
        filtered=any(k in FILTER_KEYS for k in kept),
        search_cut=bounded(request.args.get("q", ""))[1],
        max_terms=MAX_TERMS,
        next_url=url_for("inbox.index", **kept, cursor=page.next_cursor, p=page.number + 1)
        if page.next_cursor
        else None,
    )


def _page_number(value: str | None) -> int:
    """The page's number from the next-page link (only ever shown, never used to query)."""
    number = int(value) if value and value.isascii() and value.isdigit() and len(value) <= 7 else 1
    return max(1, min(number, 10**6))


@bp.get("/inbox/counts")
@login_required
def counts() -> Response:
    """Every saved view's count, for the sidebar to refresh after live events."""
    return jsonify(services.view_counts(db.session, current_user, visible_account_ids(current_user)))


@bp.get("/inbox/row/<int:ticket_id>")
@login_required
def row(ticket_id: int) -> str | Response:
    """One list row, if the ticket belongs in the caller's current view and filters (204 otherwise)."""
    visible_ids = visible_account_ids(current_user)
    view, _sort = _view_and_sort(visible_ids)
    ticket = services.ticket_matches(
        db.session, current_user, visible_ids, ticket_id, view, parse_filters(request.args, visible_ids)
    )
    if ticket is None:
        return Response(status=204)
    assignee = db.session.get(User, ticket.assignee_id) if ticket.assignee_id else None
    return render_template(
        "inbox/_row.html",
        t=ticket,
        names={assignee.id: assignee.name} if assignee else {},
        details=row_details(db.session, [ticket]),
    )


def _back() -> Response:
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else url_for("inbox.index"))


def _confirm_merge(rows: list[Ticket]) -> Response | str:
    """A bulk merge shows what moves into the oldest ticket first, like a merge from the ticket page."""
    if len(rows) < 2:
        flash(_("Select at least two tickets of the same customer to merge."), "error")
        return _back()
    target, *sources = sorted(rows, key=lambda t: t.id)
    try:
        plans = [merging.preview(db.session, source, target) for source in sources]
    except TicketError as exc:
        flash(_(str(exc)), "error")
        return _back()
    return render_template("tickets/merge_many.html", target=target, plans=plans, back=request.form.get("back", ""))


@bp.post("/inbox/bulk")
@login_required
def bulk() -> Response | str:
    ids = parse_ids("ticket", request.form.getlist("ticket"))
    back = request.form.get("back", "")
    back = back if back.startswith("/") and not back.startswith("//") else url_for("inbox.index")
    if not ids:  # the page's script says so before sending; this is for everyone else
        flash(
            _("No tickets were selected. Tick the tickets to change, or “Select all on this page”, then apply."),
            "error",
        )
        return redirect(back)
    rows = services.visible_tickets(db.session, current_user, visible_account_ids(current_user), ids)
    action = request.form.get("action", "")
    if action == "merge" and request.form.get("confirmed") != "1":
        return _confirm_merge(rows)
    try:
        changed = services.bulk(db.session, current_user, rows, action, request.form.get(f"value_{action}", ""))
    except TicketError as exc:
        db.session.rollback()
        flash(_(str(exc)), "error")
    else:
        db.session.commit()
        flash(_("%(n)d tickets updated.", n=changed), "info")
    return redirect(back)
