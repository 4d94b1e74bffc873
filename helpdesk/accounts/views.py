"""Sign-in and sign-out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from helpdesk.accounts.models import User
from helpdesk.extensions import db, login_manager
from helpdesk.signin import cookie
from helpdesk.signin.services import Outcome, check_password
from helpdesk.signin.two_factor_views import after_password
from helpdesk.signin.views import client_address, retry_after, wait_message

bp = Blueprint("accounts", __name__)

login_manager.login_view = "accounts.login"
login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """The session's user, unless deactivated, or the session ended, expired or was signed out everywhere.

    Sessions carry ``"<user id>:<session epoch>"`` (``User.get_id``); one from
    before the epoch last moved (sign out everywhere, a new password) or
    without an epoch at all (made before epochs existed) loads nobody.  The
    cookie's session record must be live too (``helpdesk.signin.cookie``):
    that is what signing out of this one browser ends.
    """
    user_id, _sep, epoch = session_id.partition(":")
    if not (user_id.isdigit() and epoch.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_epoch != int(epoch):
        return None
    return user if cookie.record_for(user) is not None else None


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("inbox.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    if request.method == "POST":
        email = request.form.get("email", "")
        attempt = check_password(db.session, email, request.form.get("password", ""), client_address())
        db.session.commit()
        if attempt.user is not None:
            return after_password(attempt.user, _safe_next(request.args.get("next")))
        if attempt.outcome is Outcome.WAIT:
            flash(wait_message(attempt.wait_s), "error")
            return render_template("login.html", email=email), 429, retry_after(attempt.wait_s)
        flash(_("Wrong e-mail address or password."), "error")
        if attempt.wait_s:
            flash(wait_message(attempt.wait_s), "error")
        return render_template("login.html", email=email), 200
    return render_template("login.html", email="")


@bp.post("/logout")
@login_required
def logout() -> Response:
    cookie.finish()
    return redirect(url_for("accounts.login"))
