"""``/settings``: the signed-in user picks a UI language and a time zone."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.extensions import db
from helpdesk.i18n import LOCALES, settings_choice
from helpdesk.settings.services import PreferenceError, timezones, update_preferences

bp = Blueprint("settings", __name__)


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def preferences() -> str | Response | tuple[str, int]:
    if request.method == "POST":
        try:
            update_preferences(current_user, request.form.get("locale", ""), request.form.get("timezone", ""))
        except PreferenceError as exc:
            db.session.rollback()
            flash(_(str(exc)), "error")
            return render_template("settings.html", languages=LOCALES, timezones=timezones(), current=""), 422
        db.session.commit()
        flash(_("Preferences saved."), "info")
        return redirect(url_for("settings.preferences"))
    return render_template(
        "settings.html", languages=LOCALES, timezones=timezones(), current=settings_choice(current_user.locale)
    )
