"""``/admin/audit``: the audit log for admins and leads, newest first, filtered by ticket, user, action and dates."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from helpdesk.accounts.models import User
from helpdesk.admin.sections import Section, add_section
from helpdesk.audit import services
from helpdesk.extensions import db
from helpdesk.params import date_arg, id_arg, parse_id
from helpdesk.tickets import merging

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

add_section(
    Section(
        "audit.index",
        _l("Audit log"),
        _l("Who changed what and when: tickets, users, teams, tokens and webhooks."),
        leads_read_only=True,
        order=90,
    )
)


def _ticket(raw: str | None) -> int | None:
    """The ticket filter, typed as shown in the log (``#12``) or bare."""
    return parse_id("ticket", (raw or "").strip().lstrip("#"))


@bp.get("/")
@login_required
def index() -> str:
    if not current_user.sees_everything:
        abort(404)
    args = request.args
    action = args.get("action") or None
    filters = services.AuditFilters(
        ticket_id=_ticket(args.get("ticket")),
        actor_id=id_arg(args, "actor"),
        action=action if action in services.ACTIONS else None,
        date_from=date_arg(args, "from"),
        date_to=date_arg(args, "to"),
        timezone=current_user.timezone or "UTC",
    )
    page = services.audit_page(db.session, filters, before=id_arg(args, "before"))
    names = services.user_names(db.session, page.events)
    rows = [
        (e, services.actor_label(e, names), services.describe(e, names), services.kind_label(e.action))
        for e in page.events
    ]
    # a merge can be undone from here too (the route belongs to tickets); say why when it cannot
    undo = {e.id: merging.undo_refusal(db.session, e) for e in page.events if e.action == merging.MERGED}
    kept = {k: v for k, v in args.items() if k in ("ticket", "actor", "action", "from", "to") and v}
    return render_template(
        "admin/audit.html",
        rows=rows,
        undo=undo,
        page=page,
        args=kept,
        first_page="before" in args,
        users=list(db.session.execute(sa.select(User.id, User.name).order_by(User.name))),
        actions=sorted(((k, str(v[0])) for k, v in services.ACTIONS.items()), key=lambda kv: kv[1]),
    )
