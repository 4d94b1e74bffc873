"""Macros in the web app: search and preview in the composer (agents), the library screens (leads).

Agents search and preview through two small JSON endpoints the composer
calls; the ticket's visibility rules apply (404 for a ticket they may not
see).  Leads and admins create, edit, duplicate, retire and override macros
and read the library's reports; others get 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.extensions import db
from helpdesk.macros import reports, services
from helpdesk.macros.locale_text import language_name, reason_text
from helpdesk.tickets.policy_text import describe
from helpdesk.tickets.translating import missing_locale
from helpdesk.tickets.views import visible_ticket
from macros.library import shipped
from macros.locale import is_rtl, match
from macros.model import PRIORITIES, STATUSES, Macro, MacroError

bp = Blueprint("macros", __name__)

LOCALES = ("en", "de", "fr", "es", "it", "ja", "zh_Hans", "pt_BR", "pl", "nl", "ar", "th", "id", "vi")


def _require_lead() -> None:
    if not current_user.sees_everything:
        abort(404)


def _ui_locale() -> str:
    """The agent's language among the library's locales (``zh_Hans_CN`` → ``zh_Hans``)."""
    return match(str(current_user.locale or "en"), LOCALES) or "en"


# --- the composer -------------------------------------------------------------------------------------------


@bp.get("/tickets/<int:ticket_id>/macros")
@login_required
def search(ticket_id: int) -> Response:
    ticket = visible_ticket(ticket_id)
    macros = services.library(db.session).values()
    buyer = services.detected_language(db.session, ticket) or ticket.language or "en"
    locales = [_ui_locale(), buyer]
    found = services.search(
        macros,
        request.args.get("q", ""),
        locales,
        platform=ticket.platform,
        favourites=services.favourites_of(db.session, current_user),
        uses=services.uses_by(db.session, current_user),
    )
    return jsonify(
        macros=[
            {
                "key": f.macro.key,
                "title": f.macro.title(locales[0]),
                "description": f.macro.description(locales[0]),
                "tags": list(f.macro.tags),
                "favourite": f.favourite,
                "uses": f.uses,
            }
            for f in found
        ]
    )


def _actions_text(macro: Macro) -> list[str]:
    a = macro.actions
    out = []
    if a.status:
        out.append(_("status → %(status)s", status=_(a.status)))
    if a.priority:
        out.append(_("priority → %(priority)s", priority=_(a.priority)))
    if a.add_tags:
        out.append(_("adds tags %(tags)s", tags=", ".join(a.add_tags)))
    if a.remove_tags:
        out.append(_("removes tags %(tags)s", tags=", ".join(a.remove_tags)))
    if a.assign_to_me:
        out.append(_("assigns the ticket to you"))
    return out


@bp.get("/tickets/<int:ticket_id>/macros/<key>")
@login_required
def preview(ticket_id: int, key: str) -> Response:
    """The macro rendered for this ticket in the buyer's locale (or ``?locale=``), with why and what breaks rules."""
    ticket = visible_ticket(ticket_id)
    macro = services.library(db.session).get(key) or abort(404)
    result = services.preview(db.session, ticket, current_user, macro, request.args.get("locale") or None)
    choice = result.choice
    missing = missing_locale(db.session, ticket, choice)
    return jsonify(
        key=macro.key,
        title=macro.title(_ui_locale()),
        text=result.text,
        error=result.error,
        locale=choice.locale,
        locales=list(macro.locales),
        reason=choice.reason,
        reason_text=reason_text(choice),
        rtl=choice.rtl,
        # the buyer's locale this macro lacks: the composer offers a machine translation from this variant
        wanted=missing,
        translate_url=url_for("ticket_translation.translate_macro", ticket_id=ticket.id, key=macro.key)
        if missing
        else None,
        translate_label=_("Machine-translate into %(language)s", language=language_name(missing)) if missing else None,
        actions=_actions_text(macro),
        violations=[{"code": v.code, "text": describe(v), "blocking": v.blocking} for v in result.violations],
    )


@bp.post("/macros/<key>/favourite")
@login_required
def favourite(key: str) -> Response:
    if key not in services.library(db.session):
        abort(404)
    now = services.toggle_favourite(db.session, current_user, key)
    db.session.commit()
    return jsonify(favourite=now)


# --- the library screens (leads and admins) -------------------------------------------------------------------


@bp.get("/macros/")
@login_required
def index() -> str:
    _require_lead()
    macros = sorted(
        services.library(db.session, include_retired=True).values(), key=lambda m: m.title(_ui_locale()).lower()
    )
    return render_template(
        "macros/index.html",
        macros=macros,
        uses=services.uses_by(db.session),
        locales=LOCALES,
        ui=_ui_locale(),
        shipped=set(shipped()),
    )


def _form_input(key: str) -> services.MacroInput:
    form = request.form
    texts: dict[str, dict[str, str]] = {"titles": {}, "descriptions": {}, "bodies": {}}
    for locale in LOCALES:
        for field, prefix in (("titles", "title"), ("descriptions", "description"), ("bodies", "body")):
            value = form.get(f"{prefix}__{locale}", "")
            if value.strip():
                texts[field][locale] = value.replace("\r\n", "\n")
    actions: dict[str, Any] = {
        "status": form.get("status") or None,
        "priority": form.get("priority") or None,
        "add_tags": [t.strip() for t in form.get("add_tags", "").split(",") if t.strip()],
        "remove_tags": [t.strip() for t in form.get("remove_tags", "").split(",") if t.strip()],
        "assign_to_me": form.get("assign_to_me") == "on",
    }
    return services.MacroInput(
        key=key,
        titles=texts["titles"],
        bodies=texts["bodies"],
        descriptions=texts["descriptions"],
        tags=[t.strip() for t in form.get("tags", "").split(",")],
        platforms=[p.strip() for p in form.get("platforms", "").split(",")],
        actions=actions,
    )


def _edit_page(given: services.MacroInput, *, new: bool, original: Macro | None = None) -> str:
    return render_template(
        "macros/edit.html",
        given=given,
        new=new,
        original=original,
        locales=LOCALES,
        statuses=STATUSES,
        priorities=PRIORITIES,
        shipped=set(shipped()),
        rtl={locale: is_rtl(locale) for locale in LOCALES},
    )


@bp.route("/macros/new", methods=["GET", "POST"])
@login_required
def new() -> str | Response:
    _require_lead()
    if request.method == "POST":
        given = _form_input(request.form.get("key", "").strip())
        try:
            services.save(db.session, given, current_user, new=True)
        except MacroError as exc:
            db.session.rollback()
            flash(_("%(field)s: %(message)s", field=exc.where, message=exc.reason), "error")
            return _edit_page(given, new=True)
        db.session.commit()
        flash(_("Macro %(key)s saved.", key=given.key), "success")
        return redirect(url_for("macros.index"))
    return _edit_page(services.MacroInput(key="", titles={}, bodies={}), new=True)


@bp.route("/macros/<key>/edit", methods=["GET", "POST"])
@login_required
def edit(key: str) -> str | Response:
    _require_lead()
    macro = services.get_macro(db.session, key) or abort(404)
    if request.method == "POST":
        given = _form_input(key)
        try:
            services.save(db.session, given, current_user, new=False)
        except MacroError as exc:
            db.session.rollback()
            flash(_("%(field)s: %(message)s", field=exc.where, message=exc.reason), "error")
            return _edit_page(given, new=False, original=macro)
        db.session.commit()
        if key in shipped():
            flash(_("Your version of %(key)s is used from now on; the shipped one stays available.", key=key), "info")
        else:
            flash(_("Macro %(key)s saved.", key=key), "success")
        return redirect(url_for("macros.index"))
    return _edit_page(services.as_input(macro), new=False, original=macro)


@bp.post("/macros/<key>/duplicate")
@login_required
def duplicate(key: str) -> Response:
    _require_lead()
    macro = services.get_macro(db.session, key) or abort(404)
    copy_key = services.suggest_key(db.session, f"{key}-copy")
    services.save(db.session, services.as_input(macro, copy_key), current_user, new=True)
    db.session.commit()
    flash(_("Copied as %(key)s.", key=copy_key), "success")
    return redirect(url_for("macros.edit", key=copy_key))


@bp.post("/macros/<key>/retired")
@login_required
def retire(key: str) -> Response:
    _require_lead()
    retired = request.form.get("retired") == "1"
    try:
        services.set_retired(db.session, key, retired, current_user)
    except MacroError:
        abort(404)
    db.session.commit()
    flash(_("%(key)s retired.", key=key) if retired else _("%(key)s is back.", key=key), "info")
    return redirect(url_for("macros.index"))


@bp.post("/macros/<key>/revert")
@login_required
def revert(key: str) -> Response:
    _require_lead()
    services.revert(db.session, key)
    db.session.commit()
    flash(_("The shipped version of %(key)s is used again.", key=key), "info")
    return redirect(url_for("macros.index"))


@bp.get("/macros/report")
@login_required
def report() -> str:
    _require_lead()
    return render_template(
        "macros/report.html",
        gaps=reports.missing_translations(db.session, LOCALES),
        broken=reports.broken_placeholders(db.session),
        usage=reports.usage(db.session),
        overrides=reports.policy_overrides(db.session),
        ui=_ui_locale(),
    )
