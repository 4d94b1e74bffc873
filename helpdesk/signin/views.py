"""Sign-in security pages: the user's own (password, sessions) and the admins' (throttling, resets).

The password step of signing in stays at ``/login`` (``accounts.views``); it
calls :func:`start_session` here once the password is right.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from helpdesk.accounts.models import Role, User
from helpdesk.admin.sections import Section, add_section
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.signin import throttle
from helpdesk.signin.passwords import verify_password
from helpdesk.signin.services import PasswordError, end_sessions, set_password, validate_new_password

bp = Blueprint("signin", __name__)

add_section(
    Section(
        "signin.admin",
        _l("Sign-in security"),
        _l("Throttled sign-ins, password resets, and who must use a two-factor code."),
        order=25,
    )
)


def client_address() -> str:
    """The address a request came from, as the WSGI server (or a configured proxy fix) reports it."""
    return throttle.normalise_address(request.remote_addr)


def wait_message(seconds: int) -> str:
    return ngettext(
        "Too many failed sign-ins. Try again in %(num)d second, or reset your password if you have forgotten it.",
        "Too many failed sign-ins. Try again in %(num)d seconds, or reset your password if you have forgotten it.",
        seconds,
    )


def start_session(user: User) -> None:
    """Sign ``user`` in on this browser with a session that lasts ``HELPDESK_SESSION_HOURS`` of inactivity."""
    session.permanent = True
    login_user(user)


def _require_admin() -> None:
    if current_user.role != Role.ADMIN:
        abort(404)


# --- the user's own sign-in security ---------------------------------------------------------------


@bp.get("/settings/security")
@login_required
def security() -> str:
    return render_template("signin/security.html")


@bp.post("/settings/security/password")
@login_required
def change_password() -> str | Response | tuple[str, int]:
    ok, _rehash = verify_password(current_user.password_hash, request.form.get("current", ""))
    if not ok:
        flash(_("Your current password is not right; nothing was changed."), "error")
        return render_template("signin/security.html"), 422
    try:
        new = request.form.get("password", "")
        validate_new_password(new, request.form.get("repeat", ""))
        set_password(db.session, current_user, new)
    except PasswordError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return render_template("signin/security.html"), 422
    db.session.commit()
    # This browser stays signed in under the new epoch; every other one is out.
    start_session(current_user._get_current_object())
    flash(_("Password changed. Every other session has been signed out."), "info")
    return redirect(url_for("signin.security"))


@bp.post("/settings/security/sign-out-everywhere")
@login_required
def sign_out_everywhere() -> Response:
    end_sessions(current_user)
    db.session.commit()
    logout_user()
    flash(_("You have been signed out on every device, this one too. Sign in again to go on."), "info")
    return redirect(url_for("accounts.login"))


# --- administration ---------------------------------------------------------------------------------


@bp.get("/admin/sign-in")
@login_required
def admin() -> str:
    _require_admin()
    return render_template("signin/admin.html", rows=throttle.current(db.session), now=utcnow())


@bp.post("/admin/sign-in/clear")
@login_required
def clear() -> Response:
    _require_admin()
    raw = request.form.get("row", "")
    if raw == "all":
        cleared = sum(throttle.clear(db.session, row_id=row.id) for row in throttle.current(db.session))
    elif raw.isdigit():
        cleared = throttle.clear(db.session, row_id=int(raw))
    else:
        abort(400)
    db.session.commit()
    flash(ngettext("Cleared %(num)d throttle.", "Cleared %(num)d throttles.", cleared), "info")
    return redirect(url_for("signin.admin"))
