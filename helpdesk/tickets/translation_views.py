"""The ticket page's translation calls: a buyer message into the agent's language, a draft or a macro into the buyer's.

Each answers JSON for ``ticket.js``; the ticket's visibility rules apply
(404 for a ticket, message or macro the agent may not see).  A service that
is missing, down, rate-limiting or over its allowance answers with a
sentence saying what to do next, and the draft stays in the browser.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.accounts.models import Role
from helpdesk.extensions import db
from helpdesk.macros.locale_text import language_name, reason_text
from helpdesk.tickets import translating
from helpdesk.tickets.models import Message
from helpdesk.tickets.views import visible_ticket
from helpdesk.translation import configuration, registry, services
from helpdesk.translation.base import NotConfigured, RateLimited, TranslationError
from macros.locale import LocaleChoice

bp = Blueprint("ticket_translation", __name__)

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "translation.md"
#: A draft longer than this is refused before it reaches a provider (replies are far shorter).
MAX_DRAFT_CHARS = 20_000
#: HTTP status per failure: the service's fault (503), the allowance (429), no service (409), the text (422).
_STATUS = {"unreachable": 503, "auth": 503, "rate_limited": 429, "quota": 429, "not_configured": 409}


def help_url() -> str:
    """Where the "no service" notice sends the reader: admins to the settings, everyone else to the guide."""
    if current_user.role == Role.ADMIN:
        return url_for("translationadmin.index")
    return url_for("ticket_translation.guide")


def _refused(exc: TranslationError) -> tuple[Response, int]:
    """The failure in the agent's language, what to do next, and the service's own words."""
    text = str(exc) if isinstance(exc, NotConfigured) else services.explain(exc.kind)
    detail = "" if isinstance(exc, NotConfigured) else str(exc)
    body: dict[str, object] = {"error": text, "detail": detail, "kind": exc.kind}
    if isinstance(exc, NotConfigured):
        body["help_url"] = help_url()
    if isinstance(exc, RateLimited) and exc.retry_after_s:
        body["retry_after_s"] = exc.retry_after_s
    return jsonify(body), _STATUS.get(exc.kind, 422)


def _message(ticket_id: int, message_id: int) -> Message:
    ticket = visible_ticket(ticket_id)
    message = db.session.get(Message, message_id)
    if message is None or message.ticket_id != ticket.id:
        abort(404)
    return message


@bp.post("/tickets/<int:ticket_id>/messages/<int:message_id>/translate")
@login_required
def translate_message(ticket_id: int, message_id: int) -> Response | tuple[Response, int]:
    """Ask for the message in the agent's language: cached, or queued (the page waits for ``message.translated``)."""
    message = _message(ticket_id, message_id)
    if message.direction != "in" or message.is_internal:
        return jsonify(error=_("Only the customer's messages are translated here.")), 422
    try:
        row = services.translate_message(message.id, translating.agent_language(current_user))
    except NotConfigured as exc:
        db.session.rollback()
        return _refused(exc)
    return jsonify(
        status=row.status,
        text=row.text,
        source=row.source_language,
        target=row.target,
        provider=row.provider,
        error=services.explain(row.error_kind) if row.error_kind else None,
    )


@bp.post("/tickets/<int:ticket_id>/draft/translate")
@login_required
def translate_draft(ticket_id: int) -> Response | tuple[Response, int]:
    """The agent's draft in the buyer's language (or ``target``), now; the draft itself is never touched."""
    ticket = visible_ticket(ticket_id)
    text = request.form.get("text", "")
    if len(text) > MAX_DRAFT_CHARS:
        return jsonify(
            error=_("The draft is longer than %(n)s characters; shorten it before translating.", n=MAX_DRAFT_CHARS)
        ), 422
    if not text.strip():
        return jsonify(error=_("Write your reply first, then translate it.")), 422
    target = translating.language_code(
        request.form.get("target") or translating.reply_language(db.session, ticket).locale
    )
    source = translating.agent_language(current_user)
    try:
        out = services.translate_draft(db.session, text, source, target, ticket.channel_account_id)
    except TranslationError as exc:
        db.session.rollback()
        return _refused(exc)
    db.session.commit()  # the month's counter
    return jsonify(
        text=out.text,
        source=out.source or source,
        target=target,
        target_name=language_name(target),
        provider=registry.PROVIDERS[out.provider].label if out.provider in registry.PROVIDERS else out.provider,
        missing=list(out.missing),
    )


@bp.post("/tickets/<int:ticket_id>/macros/<key>/translate")
@login_required
def translate_macro(ticket_id: int, key: str) -> Response | tuple[Response, int]:
    """A macro the buyer's locale is missing from, machine-translated from the variant the chooser fell back to."""
    from helpdesk.macros import services as macro_services

    ticket = visible_ticket(ticket_id)
    macro = macro_services.library(db.session).get(key) or abort(404)
    result = macro_services.preview(db.session, ticket, current_user, macro)
    wanted = translating.missing_locale(db.session, ticket, result.choice)
    if not wanted:
        return jsonify(error=_("This macro has a version in the buyer's language; nothing to translate.")), 422
    if result.error:
        return jsonify(error=result.error), 422
    source, target = translating.language_code(result.choice.locale), translating.language_code(wanted)
    try:
        out = services.translate_draft(db.session, result.text, source, target, ticket.channel_account_id)
    except TranslationError as exc:
        db.session.rollback()
        return _refused(exc)
    db.session.commit()
    label = registry.PROVIDERS[out.provider].label if out.provider in registry.PROVIDERS else out.provider
    return jsonify(
        key=macro.key,
        text=out.text,
        locale=wanted,
        from_locale=result.choice.locale,
        machine_translated=True,
        note=_(
            "Machine-translated from %(source)s by %(service)s: read it before sending.",
            source=language_name(result.choice.locale),
            service=label,
        ),
        missing=list(out.missing),
    )


@bp.get("/translation/guide")
@login_required
def guide() -> str:
    """docs/translation.md for every signed-in user (the "no service" notice links here)."""
    if not GUIDE.is_file():
        abort(404)
    return render_template(
        "tickets/translation_guide.html", text=GUIDE.read_text(encoding="utf-8"), docs=configuration.DOCS
    )


@bp.post("/teams/<int:team_id>/auto-translate")
@login_required
def auto_translate(team_id: int) -> Response:
    """Leads and admins turn a team's automatic translation on or off (the team page's form)."""
    from flask import flash, redirect

    from helpdesk.accounts.models import Team
    from helpdesk.tickets.auto_translate import AutoTranslateInvalid, set_auto_translate

    if not current_user.sees_everything:
        abort(404)
    team = db.session.get(Team, team_id) or abort(404)
    try:
        set_auto_translate(db.session, current_user, team, request.form.get("language") or None)
    except AutoTranslateInvalid as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("useradmin.team", team_id=team.id))
    db.session.commit()
    if team.auto_translate_to:
        flash(
            _(
                "New buyer messages of %(team)s are now translated into %(language)s as they arrive.",
                team=team.name,
                language=language_name(team.auto_translate_to),
            ),
            "success",
        )
    else:
        flash(_("Automatic translation is off for %(team)s.", team=team.name), "success")
    return redirect(url_for("useradmin.team", team_id=team.id))


@bp.app_template_filter("language_name")
def _language_name(code: str | None) -> str:
    """``de`` → "German" in the reader's language, for the translation notes."""
    return language_name(code) if code else ""


@bp.app_template_global("explain_translation")
def _explain(kind: str | None) -> str:
    return services.explain(kind or "")


@bp.app_template_global("reason_text")
def _reason_text(choice: LocaleChoice) -> str:
    return reason_text(choice)


@bp.app_template_global("auto_translate_choices")
def _auto_translate_choices() -> dict[str, str]:
    from helpdesk.tickets.auto_translate import choices

    return choices()
