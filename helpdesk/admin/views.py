"""The administration index: admins see every section, leads the ones they may read."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user, login_required

from helpdesk.accounts.models import Role
from helpdesk.admin.sections import SECTIONS, Section

bp = Blueprint("admin", __name__, url_prefix="/admin")


def visible_sections() -> list[Section]:
    """The sections the signed-in user may open whose pages exist in this app."""
    admin = current_user.role == Role.ADMIN
    readable = [s for s in SECTIONS if admin or (s.leads_read_only and current_user.sees_everything)]
    return sorted(
        (s for s in readable if s.endpoint in current_app.view_functions), key=lambda s: (s.order, str(s.title))
    )


@bp.get("/")
@login_required
def index() -> str:
    if not current_user.sees_everything:
        abort(404)
    return render_template("admin/index.html", sections=visible_sections())
