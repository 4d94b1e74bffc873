"""Sign-in and sign-out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required, login_user, logout_user
from werkzeug.wrappers import Response

from helpdesk.accounts.models import User
from helpdesk.accounts.services import authenticate
from helpdesk.extensions import db, login_manager

bp = Blueprint("accounts", __name__)

login_manager.login_view = "accounts.login"
login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    # A deactivated user's open sessions end at their next request, not when their cookie expires.
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("inbox.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    if request.method == "POST":
        user, error = authenticate(db.session, request.form.get("email", ""), request.form.get("password", ""))
        db.session.commit()
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash(_(error or "Sign-in failed."), "error")
    return render_template("login.html")


@bp.post("/logout")
@login_required
def logout() -> Response:
    logout_user()
    return redirect(url_for("accounts.login"))
