"""Two-factor sign-in pages: the code step after the password, the user's set-up, the admins' controls.

A user with two-factor sign-in is not signed in after the password: the
session only remembers who is half-way (for five minutes) until a code from
the app, or a recovery code, completes it.  A user whose role requires it
but who has not set it up is signed in, but every page sends them to the
set-up page until it is done.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.accounts.models import Role, User
from helpdesk.crypto import SealError
from helpdesk.extensions import db
from helpdesk.params import parse_choice
from helpdesk.signin import admin_services, throttle, totp
from helpdesk.signin.passwords import verify_password
from helpdesk.signin.views import client_address, retry_after, start_session, wait_message

bp = Blueprint("two_factor", __name__)

PENDING = "signin_pending"  # session key: who passed the password step, when, and where they were going
SETUP = "totp_setup"  # session key: the sealed secret being set up, until a code confirms it
PENDING_FOR_S = 300
# Pages a user who must set up two-factor sign-in may still open.
GATE_OPEN = {"two_factor.settings", "two_factor.enable", "accounts.logout", "accounts.login", "static", "vendor.asset"}


def after_password(user: User, next_url: str) -> Response:
    """The password was right: sign in now, or ask for the second factor first."""
    if not user.has_two_factor:
        start_session(user)
        return redirect(next_url)
    session[PENDING] = {"user": user.id, "epoch": user.session_epoch, "at": int(time.time()), "next": next_url}
    return redirect(url_for("two_factor.code"))


def _pending_user() -> User | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_FOR_S:
        return None
    user = db.session.get(User, pending.get("user"))
    if user is None or not user.active or user.session_epoch != pending.get("epoch") or not user.has_two_factor:
        return None
    return user


@bp.route("/login/code", methods=["GET", "POST"])
def code() -> str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    user = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash(_("Please sign in again: the code step took longer than five minutes."), "error")
        return redirect(url_for("accounts.login"))
    if request.method == "GET":
        return render_template("signin/code.html")
    address = client_address()
    wait = throttle.wait_seconds(db.session, user.email, address)
    if wait:
        flash(wait_message(wait), "error")
        return render_template("signin/code.html"), 429, retry_after(wait)
    if totp.check_code(db.session, user, request.form.get("code", "")):
        throttle.record_success(db.session, user.email, address)
        db.session.commit()
        next_url = session.pop(PENDING)["next"]
        start_session(user)
        return redirect(next_url)
    wait = throttle.record_failure(db.session, user.email, address)
    db.session.commit()
    flash(_("That code is not right. Type the current code from your app, or one of your recovery codes."), "error")
    if wait:
        flash(wait_message(wait), "error")
    return render_template("signin/code.html"), 200


@bp.before_app_request
def _require_set_up() -> Response | None:
    """Keep a user whose role requires two-factor sign-in on the set-up page until they have it."""
    if request.endpoint in GATE_OPEN or request.blueprint == "api" or not current_user.is_authenticated:
        return None
    if not totp.must_set_up(db.session, current_user):
        return None
    if request.method == "GET":
        flash(_("Your role requires two-factor sign-in. Set it up to go on."), "warning")
    return redirect(url_for("two_factor.settings"))


# --- the user's own set-up ----------------------------------------------------------------------------


def _setup_secret() -> str:
    sealed = session.get(SETUP)
    if sealed:
        try:
            return totp.open_secret(sealed)
        except SealError:
            pass
    secret = totp.new_secret()
    session[SETUP] = totp.seal_secret(secret)
    return secret


def _settings_page(status: int = 200, codes: list[str] | None = None) -> tuple[str, int]:
    user = current_user._get_current_object()
    context: dict[str, object] = {
        "codes": codes,
        "required": totp.is_required(db.session, user),
        "codes_left": totp.recovery_codes_left(db.session, user),
    }
    if not user.has_two_factor:
        secret = _setup_secret()
        uri = totp.provisioning_uri(user, secret)
        context.update(secret=secret, uri=uri, qr=totp.qr_svg(uri))
    return render_template("signin/two_factor.html", **context), status


@bp.get("/settings/two-factor")
@login_required
def settings() -> tuple[str, int]:
    return _settings_page()


@bp.post("/settings/two-factor/enable")
@login_required
def enable() -> Response | tuple[str, int]:
    user = current_user._get_current_object()
    if user.has_two_factor:
        return redirect(url_for("two_factor.settings"))
    codes = totp.enable(db.session, user, _setup_secret(), request.form.get("code", ""))
    if codes is None:
        db.session.rollback()
        flash(_("That code is not right. Check the time on your phone, then type the code the app shows now."), "error")
        return _settings_page(422)
    db.session.commit()
    session.pop(SETUP, None)
    flash(_("Two-factor sign-in is on."), "info")
    return _settings_page(codes=codes)


def _password_confirmed() -> bool:
    ok, _rehash = verify_password(current_user.password_hash, request.form.get("password", ""))
    if not ok:
        flash(_("Your password is not right; nothing was changed."), "error")
    return ok


@bp.post("/settings/two-factor/recovery-codes")
@login_required
def recovery_codes() -> Response | tuple[str, int]:
    user = current_user._get_current_object()
    if not user.has_two_factor:
        return redirect(url_for("two_factor.settings"))
    if not _password_confirmed():
        return _settings_page(422)
    codes = totp.new_recovery_codes(db.session, user)
    db.session.commit()
    flash(_("New recovery codes made; the old ones no longer work."), "info")
    return _settings_page(codes=codes)


@bp.post("/settings/two-factor/disable")
@login_required
def disable() -> Response | tuple[str, int]:
    user = current_user._get_current_object()
    if totp.is_required(db.session, user):
        flash(_("Your role requires two-factor sign-in, so it cannot be turned off."), "error")
        return _settings_page(422)
    if not _password_confirmed():
        return _settings_page(422)
    totp.disable(db.session, user)
    db.session.commit()
    flash(_("Two-factor sign-in is off."), "info")
    return redirect(url_for("two_factor.settings"))


# --- administration -----------------------------------------------------------------------------------


def _require_admin() -> None:
    if current_user.role != Role.ADMIN:
        abort(404)


@bp.post("/admin/sign-in/two-factor-roles")
@login_required
def required_roles() -> Response:
    _require_admin()
    roles = {parse_choice("role", role, set(Role)) for role in request.form.getlist("role")}
    admin_services.require_two_factor(db.session, current_user._get_current_object(), roles - {None})
    db.session.commit()
    flash(_("Saved which roles must use two-factor sign-in."), "info")
    return redirect(url_for("signin.admin"))


@bp.post("/admin/sign-in/two-factor-reset")
@login_required
def reset() -> Response:
    _require_admin()
    email = request.form.get("email", "")
    user = db.session.scalar(sa.select(User).where(User.email == throttle.normalise_email(email)))
    if user is None:
        flash(_("There is no user with e-mail %(email)s.", email=email), "error")
        return redirect(url_for("signin.admin"))
    admin_services.reset_two_factor(db.session, current_user._get_current_object(), user)
    db.session.commit()
    flash(
        _("Two-factor sign-in is off for %(email)s; they can set it up again under Settings.", email=user.email), "info"
    )
    return redirect(url_for("signin.admin"))
