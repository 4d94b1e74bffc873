"""``/admin/api-tokens``: admins issue and revoke REST API tokens.

The HTML pages live beside the JSON API (``views.py``) rather than in it, so
the API blueprint keeps answering only bearer-token requests.  A new token is
rendered once in the response to the form — never flashed, since the flash
travels in the (signed, not encrypted) session cookie.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.accounts.models import User
from helpdesk.admin.access import admins_only
from helpdesk.admin.sections import Section, add_section
from helpdesk.api.models import ApiToken, Scope
from helpdesk.api.tokens import ScopeTooWide, issue, revoke
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.params import is_id

bp = Blueprint("apitokens", __name__, url_prefix="/admin/api-tokens")

add_section(
    Section(
        "apitokens.index",
        _l("API tokens"),
        _l("Bearer tokens for scripts and integrations using the REST API."),
        order=60,
    )
)


bp.before_request(admins_only)


def _page(new_token: str | None = None, status: int = 200) -> tuple[str, int]:
    tokens = db.session.execute(
        sa.select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
    ).all()
    users = list(db.session.scalars(sa.select(User).where(User.active.is_(True)).order_by(User.name)))
    return (
        render_template(
            "admin/api_tokens.html", tokens=tokens, users=users, new_token=new_token, scopes=Scope.ALL, now=utcnow()
        ),
        status,
    )


@bp.get("/")
@login_required
def index() -> tuple[str, int]:
    return _page()


@bp.post("/")
@login_required
def create() -> tuple[str, int] | Response:
    raw_user = request.form.get("user_id", "")
    user = db.session.get(User, int(raw_user)) if is_id(raw_user) else None
    if user is None or not user.active:
        flash(_("Choose an active user for the token to act as."), "error")
        return redirect(url_for("apitokens.index"))
    name = request.form.get("name", "").strip()
    if not name:
        flash(_("Say what the token is for, e.g. BI export."), "error")
        return redirect(url_for("apitokens.index"))
    scope = request.form.get("scope", "")
    if scope not in Scope.ALL:
        flash(_("Choose what the token may do: read, write or admin."), "error")
        return redirect(url_for("apitokens.index"))
    days = request.form.get("expires_in_days", "").strip()
    expires_at = None
    if days:
        if not is_id(days) or int(days) > 3650:
            flash(_("Give the expiry as a number of days from 1 to 3650, or leave it empty."), "error")
            return redirect(url_for("apitokens.index"))
        expires_at = utcnow() + timedelta(days=int(days))
    try:
        _token, raw = issue(db.session, current_user, user, name, scope, expires_at)
    except ScopeTooWide:
        flash(_("Only an admin's token can have the admin scope; choose write or read."), "error")
        return redirect(url_for("apitokens.index"))
    db.session.commit()
    return _page(new_token=raw, status=201)


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> Response:
    token = db.session.get(ApiToken, token_id) or abort(404)
    revoke(db.session, current_user, token)
    db.session.commit()
    flash(_("Token %(prefix)s… revoked; requests with it now get 401.", prefix=token.prefix), "success")
    return redirect(url_for("apitokens.index"))
