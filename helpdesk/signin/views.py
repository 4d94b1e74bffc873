"""Sign-in security pages: the user's own (password, sessions) and the admins' (throttling, resets).

The password step of signing in stays at ``/login`` (``accounts.views``); it
calls :func:`start_session` here once the password is right.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.accounts.models import Role, User
from helpdesk.admin.sections import Section, add_section
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.params import is_id
from helpdesk.signin import admin_services, cookie, records, throttle, totp
from helpdesk.signin.links import find_link, use_link
from helpdesk.signin.mail import mail_configured
from helpdesk.signin.passwords import verify_password
from helpdesk.signin.services import PasswordError, end_sessions, set_password, validate_new_password
from helpdesk.signin.tasks import mail_password_link

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


def retry_after(seconds: int) -> dict[str, str]:
    """The header that tells a client (and a script) when a throttled form may be tried again."""
    return {"Retry-After": str(max(1, seconds))}


def start_session(user: User) -> None:
    """Sign ``user`` in on this browser: a new session record, cookie and CSRF token (``cookie.begin``)."""
    cookie.begin(user)


def _require_admin() -> None:
    if current_user.role != Role.ADMIN:
        abort(404)


# --- the user's own sign-in security ---------------------------------------------------------------


def _security_page(status: int = 200) -> tuple[str, int]:
    lifetimes = cookie.lifetimes()
    return render_template(
        "signin/security.html",
        sessions=records.live_for(db.session, current_user, lifetimes),
        this=cookie.this_record(),
        idle_minutes=int(lifetimes.idle.total_seconds() // 60),
        max_hours=int(lifetimes.absolute.total_seconds() // 3600),
    ), status


@bp.get("/settings/security")
@login_required
def security() -> tuple[str, int]:
    return _security_page()


@bp.post("/settings/security/sessions/<int:record_id>/end")
@login_required
def end_session(record_id: int) -> Response:
    """End one of the user's sessions (a lost phone, a shared computer); this one signs this browser out."""
    this = cookie.this_record()
    if not records.end_one(db.session, current_user, record_id):
        abort(404)  # not theirs, or over already: nothing to end
    db.session.commit()
    if this is not None and this.id == record_id:
        cookie.finish()
        flash(_("You have been signed out on this device. Sign in again to go on."), "info")
        return redirect(url_for("accounts.login"))
    flash(_("That session has ended: whoever uses it must sign in again."), "info")
    return redirect(url_for("signin.security"))


@bp.post("/settings/security/password")
@login_required
def change_password() -> str | Response | tuple[str, int]:
    ok, _rehash = verify_password(current_user.password_hash, request.form.get("current", ""))
    if not ok:
        flash(_("Your current password is not right; nothing was changed."), "error")
        return _security_page(422)
    try:
        new = request.form.get("password", "")
        validate_new_password(new, request.form.get("repeat", ""))
        set_password(db.session, current_user, new)
    except PasswordError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _security_page(422)
    db.session.commit()
    # This browser stays signed in under the new epoch; every other one is out.
    start_session(current_user._get_current_object())
    flash(_("Password changed. Every other session has been signed out."), "info")
    return redirect(url_for("signin.security"))


@bp.post("/settings/security/sign-out-everywhere")
@login_required
def sign_out_everywhere() -> Response:
    end_sessions(db.session, current_user)
    db.session.commit()
    cookie.finish()
    flash(_("You have been signed out on every device, this one too. Sign in again to go on."), "info")
    return redirect(url_for("accounts.login"))


# --- administration ---------------------------------------------------------------------------------


def _admin_page(status: int = 200, **extra: object) -> tuple[str, int]:
    return render_template(
        "signin/admin.html",
        rows=throttle.current(db.session),
        now=utcnow(),
        can_mail=mail_configured(current_app.config["HELPDESK_SETTINGS"]),
        required=totp.required_roles(db.session),
        pending=totp.still_to_set_up(db.session),
        reset_key=throttle.RESET_KEY,
        roles=[(Role.AGENT, _("Agents")), (Role.LEAD, _("Leads")), (Role.ADMIN, _("Admins"))],
        **extra,
    ), status


@bp.get("/admin/sign-in")
@login_required
def admin() -> tuple[str, int]:
    _require_admin()
    return _admin_page()


@bp.post("/admin/sign-in/clear")
@login_required
def clear() -> Response:
    _require_admin()
    actor = current_user._get_current_object()
    raw = request.form.get("row", "")
    if raw == "all":
        cleared = sum(
            admin_services.clear_throttles(db.session, actor, row_id=row.id) for row in throttle.current(db.session)
        )
    elif is_id(raw):
        cleared = admin_services.clear_throttles(db.session, actor, row_id=int(raw))
    else:
        abort(400)
    db.session.commit()
    flash(ngettext("Cleared %(num)d throttle.", "Cleared %(num)d throttles.", cleared), "info")
    return redirect(url_for("signin.admin"))


@bp.post("/admin/sign-in/password")
@login_required
def admin_password() -> Response | tuple[str, int]:
    """Reset someone's password: a link to hand over (shown once), or a new password typed by the admin."""
    _require_admin()
    actor = current_user._get_current_object()
    email = request.form.get("email", "")
    user = db.session.scalar(sa.select(User).where(User.email == throttle.normalise_email(email)))
    if user is None:
        flash(_("There is no user with e-mail %(email)s.", email=email), "error")
        return _admin_page(422)
    if request.form.get("action") == "set":
        try:
            admin_services.set_password_for(db.session, actor, user, request.form.get("password", ""))
        except PasswordError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return _admin_page(422)
        db.session.commit()
        flash(
            _(
                "New password set for %(email)s; their sessions have ended. Tell them the password in person "
                "or over a channel you trust.",
                email=user.email,
            ),
            "info",
        )
        return redirect(url_for("signin.admin"))
    path = admin_services.hand_over_link(db.session, actor, user)
    db.session.commit()
    base = current_app.config["HELPDESK_SETTINGS"].public_url or request.host_url.rstrip("/")
    return _admin_page(link_for=user, link=base + path)


# --- forgotten passwords and set-password links -------------------------------------------------------


@bp.route("/forgot", methods=["GET", "POST"])
def forgot() -> str | Response | tuple[str, int, dict[str, str]]:
    settings = current_app.config["HELPDESK_SETTINGS"]
    if not mail_configured(settings):
        return render_template("signin/forgot.html", can_mail=False)
    if request.method == "POST":
        email = request.form.get("email", "").strip()
        wait = throttle.reset_request_wait(db.session, client_address())
        db.session.commit()
        if wait:  # counted per source address, so this says nothing about the e-mail address typed
            flash(
                ngettext(
                    "Too many password links were asked for from your address. Try again in %(num)d second.",
                    "Too many password links were asked for from your address. Try again in %(num)d seconds.",
                    wait,
                ),
                "error",
            )
            return render_template("signin/forgot.html", can_mail=True), 429, retry_after(wait)
        if "@" in email:
            mail_password_link(email)
        flash(
            _(
                "If an account uses this address, a link to set a new password is on its way. It works once, "
                "for one hour. No mail within a few minutes? Check the spam folder, or ask an admin."
            ),
            "info",
        )
        return redirect(url_for("accounts.login"))
    return render_template("signin/forgot.html", can_mail=True)


@bp.route("/password/<token>", methods=["GET", "POST"])
def password_link(token: str) -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        cookie.finish()  # the link is for whoever it was given to, not whoever is signed in on this browser
    if find_link(db.session, token) is None:
        return render_template("signin/link.html", usable=False), 404
    if request.method == "POST":
        try:
            validate_new_password(request.form.get("password", ""), request.form.get("repeat", ""))
            user = use_link(db.session, token, request.form.get("password", ""))
        except PasswordError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return render_template("signin/link.html", usable=True), 422
        db.session.commit()
        if user is None:
            return render_template("signin/link.html", usable=False), 404
        flash(_("Your password is set. Sign in with it now."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("signin/link.html", usable=True)
