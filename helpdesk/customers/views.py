"""Customer actions: notes from the ticket page's customer card, and deciding merge suggestions."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.accounts.services import visible_account_ids
from helpdesk.admin.sections import Section, add_section
from helpdesk.customers import suggestions
from helpdesk.customers.notes import update_notes, visible_customer
from helpdesk.extensions import db
from helpdesk.params import parse_ids, parse_int

#: Far past any desk's pending suggestions; a larger page number is a typo, not a page.
MAX_PAGE = 100_000

bp = Blueprint("customers", __name__, url_prefix="/customers")

add_section(
    Section(
        "customers.suggestions_page",
        _l("Customer merge suggestions"),
        _l("Records that look like the same buyer: merge them or dismiss the pair for good."),
        leads_read_only=True,  # leads open it, and decide here: merging customers is a lead's call
        order=60,
    )
)


def _back(default: str = "/") -> Response:
    back = request.form.get("back", default)
    return redirect(back if back.startswith("/") and not urlsplit(back).netloc and not back.startswith("//") else "/")


def _require_lead() -> None:
    """Deciding suggestions is for leads and admins; to anyone else the pages do not exist."""
    if not current_user.sees_everything:
        abort(404)


@bp.post("/<int:customer_id>/notes")
@login_required
def notes(customer_id: int) -> Response:
    customer = visible_customer(db.session, customer_id, visible_account_ids(current_user))
    if customer is None:
        abort(404)
    update_notes(db.session, customer, request.form.get("notes", ""), current_user)
    db.session.commit()
    flash(_("Customer notes saved."), "info")
    return _back()


@bp.get("/suggestions")
@login_required
def suggestions_page() -> str:
    _require_lead()
    page = parse_int("page", request.args.get("page"), lo=1, hi=MAX_PAGE) or 1
    items, more = suggestions.pending(db.session, page)
    return render_template("customers/suggestions.html", items=items, page=page, more=more)


@bp.post("/suggestions")
@login_required
def decide_many() -> Response:
    _require_lead()
    decision = request.form.get("decision", "")
    ids = parse_ids("ids", request.form.getlist("ids"))
    if not ids:
        flash(_("Tick at least one suggestion first."), "error")
        return redirect(url_for("customers.suggestions_page"))
    try:
        result = suggestions.decide_many(db.session, decision, ids, current_user)
    except suggestions.SuggestionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("customers.suggestions_page"))
    db.session.commit()
    if decision == "accept":
        flash(_("%(n)s suggestions accepted: those customers are merged.", n=result.done), "info")
    else:
        flash(_("%(n)s suggestions rejected: those pairs will not be suggested again.", n=result.done), "info")
    for reason in result.refused:
        flash(reason, "error")
    return redirect(url_for("customers.suggestions_page"))


@bp.post("/suggestions/<int:suggestion_id>/<any(accept, reject):decision>")
@login_required
def decide(suggestion_id: int, decision: str) -> Response:
    """Accept or reject one suggestion, from the customer card or the leads' page."""
    _require_lead()
    try:
        if decision == "accept":
            suggestions.accept(db.session, suggestion_id, current_user)
        else:
            suggestions.reject(db.session, suggestion_id, current_user)
    except suggestions.SuggestionNotFound:
        abort(404)
    except suggestions.SuggestionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back(url_for("customers.suggestions_page"))
    db.session.commit()
    if decision == "accept":
        flash(_("Customers merged: their tickets, orders and identities are one record now."), "info")
    else:
        flash(_("Suggestion rejected: this pair will not be suggested again."), "info")
    return _back(url_for("customers.suggestions_page"))
