"""A plain ticket list and the health check; the real inbox replaces the list."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template, request
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.accounts.services import visible_account_ids
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket

bp = Blueprint("home", __name__)
PAGE = 50


@bp.get("/")
@login_required
def index() -> str:
    stmt = sa.select(Ticket).order_by(Ticket.id.desc())
    visible = visible_account_ids(current_user)
    if visible is not None:
        stmt = stmt.where(Ticket.channel_account_id.in_(visible or [-1]))
    before = request.args.get("before", type=int)
    if before:
        stmt = stmt.where(Ticket.id < before)
    tickets = db.session.scalars(stmt.limit(PAGE)).all()
    return render_template("home.html", tickets=tickets)


@bp.get("/health")
def health() -> Response:
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503  # type: ignore[return-value]
    return jsonify(status="ok", database="ok")
