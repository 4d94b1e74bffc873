"""Customer actions reachable from the ticket page's customer card."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.accounts.services import visible_account_ids
from helpdesk.customers.notes import update_notes, visible_customer
from helpdesk.extensions import db

bp = Blueprint("customers", __name__, url_prefix="/customers")


@bp.post("/<int:customer_id>/notes")
@login_required
def notes(customer_id: int) -> Response:
    customer = visible_customer(db.session, customer_id, visible_account_ids(current_user))
    if customer is None:
        abort(404)
    update_notes(db.session, customer, request.form.get("notes", ""), current_user)
    db.session.commit()
    flash(_("Customer notes saved."), "info")
    back = request.form.get("back", "/")
    return redirect(back if back.startswith("/") and not urlsplit(back).netloc and not back.startswith("//") else "/")
