"""``/sla/policies``: admins review and edit SLA policies, leads read them; agents get 404.

Leads answer to the targets, so they see the same list without the edit
controls; the edit pages stay admin-only (404 for leads, GET and POST alike).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.accounts.models import Role
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.extensions import db
from helpdesk.sla import schemas
from helpdesk.sla.models import SlaPolicy
from helpdesk.sla.services import create_policy, update_policy

bp = Blueprint("sla", __name__, url_prefix="/sla")


def _require_admin() -> None:
    if current_user.role != Role.ADMIN:
        abort(404)


def _require_lead() -> None:
    if not current_user.sees_everything:
        abort(404)


@bp.get("/policies")
@login_required
def policies() -> str:
    _require_lead()
    rows = db.session.scalars(sa.select(SlaPolicy).order_by(SlaPolicy.platform, SlaPolicy.thread_kind, SlaPolicy.id))
    stores = {row[0]: row[1] for row in db.session.execute(sa.select(ChannelAccount.id, ChannelAccount.display_name))}
    return render_template(
        "sla/policies.html",
        policies=[schemas.dump(p) for p in rows],
        stores=stores,
        can_edit=current_user.role == Role.ADMIN,
    )


def _form_data() -> dict[str, object]:
    form = request.form
    data: dict[str, object] = {key: form.get(key, "") for key in schemas.FIELDS if key != "escalation"}
    data["enabled"] = "enabled" in form
    data["pause_when_pending"] = "pause_when_pending" in form
    return data


def _accounts() -> list[ChannelAccount]:
    return list(db.session.scalars(sa.select(ChannelAccount).order_by(ChannelAccount.display_name)))


@bp.route("/policies/new", methods=["GET", "POST"])
@login_required
def new() -> str | Response:
    _require_admin()
    if request.method == "POST":
        try:
            policy = create_policy(db.session, schemas.clean(_form_data()))
        except schemas.PolicyInvalid as exc:
            flash(_("%(field)s: %(message)s", field=exc.field, message=exc.message), "error")
        else:
            db.session.commit()
            flash(_("Policy %(name)s created.", name=policy.name), "success")
            return redirect(url_for("sla.policies"))
    return render_template("sla/edit.html", policy=None, values=request.form, accounts=_accounts())


@bp.route("/policies/<int:policy_id>", methods=["GET", "POST"])
@login_required
def edit(policy_id: int) -> str | Response:
    _require_admin()
    policy = db.session.get(SlaPolicy, policy_id) or abort(404)
    if request.method == "POST":
        try:
            update_policy(db.session, policy, schemas.clean(_form_data()))
        except schemas.PolicyInvalid as exc:
            flash(_("%(field)s: %(message)s", field=exc.field, message=exc.message), "error")
        else:
            db.session.commit()
            flash(_("Policy %(name)s saved.", name=policy.name), "success")
            return redirect(url_for("sla.policies"))
    values = schemas.dump(policy)
    values["hours"] = "; ".join(f"{k} {v}" for k, v in (policy.hours or {}).items())
    values["closures"] = " ".join(policy.closures or [])
    return render_template("sla/edit.html", policy=values, values=values, accounts=_accounts())
