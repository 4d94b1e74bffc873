"""``/templates``: the reply templates of the composer's picker; leads and admins only (others get 404)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.extensions import db
from helpdesk.replytemplates.services import TemplateInvalid, create_template, delete_template
from helpdesk.tickets.models import ReplyTemplate

bp = Blueprint("replytemplates", __name__, url_prefix="/templates")


def _require_lead() -> None:
    if not current_user.sees_everything:
        abort(404)


@bp.route("/", methods=["GET", "POST"])
@login_required
def index() -> str | Response:
    _require_lead()
    if request.method == "POST":
        form = request.form
        try:
            template = create_template(db.session, form.get("name", ""), form.get("body", ""), form.get("language"))
        except TemplateInvalid as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Template %(name)s saved.", name=template.name), "success")
            return redirect(url_for("replytemplates.index"))
    templates = db.session.scalars(sa.select(ReplyTemplate).order_by(ReplyTemplate.name)).all()
    return render_template("replytemplates/index.html", templates=templates, values=request.form)


@bp.post("/<int:template_id>/delete")
@login_required
def delete(template_id: int) -> Response:
    _require_lead()
    if not delete_template(db.session, template_id):
        abort(404)
    db.session.commit()
    flash(_("Template deleted."), "success")
    return redirect(url_for("replytemplates.index"))
