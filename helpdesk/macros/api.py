"""``/api/v1/macros``: the library and a rendering for a ticket, for integrations.

The same rules as the composer: a token acts for its user, who sees only the
tickets of their stores (404 for the others).
"""

from __future__ import annotations

from flask import g, jsonify, request
from werkzeug.wrappers import Response

from helpdesk.accounts.services import visible_account_ids
from helpdesk.api.auth import api_auth
from helpdesk.api.errors import ApiError
from helpdesk.api.views import bp
from helpdesk.extensions import db
from helpdesk.macros import services
from helpdesk.tickets.models import Ticket
from macros.model import Macro


def _macro_json(macro: Macro, locale: str) -> dict[str, object]:
    return {
        "key": macro.key,
        "title": macro.title(locale),
        "description": macro.description(locale),
        "tags": list(macro.tags),
        "platforms": list(macro.platforms),
        "locales": list(macro.locales),
        "source": macro.source,
        "actions": services.actions_data(macro),
    }


@bp.get("/macros")
@api_auth()
def list_macros() -> Response:
    """Every usable macro; ``q`` searches titles, tags and texts; ``locale`` picks the titles' language."""
    locale = request.args.get("locale") or "en"
    macros = services.library(db.session).values()
    query = request.args.get("q", "")
    found = services.search(macros, query, [locale], platform=request.args.get("platform"), limit=500)
    db.session.commit()  # last_used_at of the token
    return jsonify(macros=[_macro_json(f.macro, locale) for f in found])


@bp.get("/tickets/<int:ticket_id>/macros/<key>")
@api_auth()
def render_macro(ticket_id: int, key: str) -> Response:
    """The macro rendered for the ticket, in ``locale`` or the buyer's, with what the marketplace would refuse."""
    ticket = db.session.get(Ticket, ticket_id)
    visible = visible_account_ids(g.api_user)
    if ticket is None or (visible is not None and ticket.channel_account_id not in visible):
        raise ApiError(404, "not_found", "no such ticket")
    macro = services.library(db.session).get(key)
    if macro is None:
        raise ApiError(404, "not_found", "no such macro")
    result = services.preview(db.session, ticket, g.api_user, macro, request.args.get("locale") or None)
    db.session.commit()
    return jsonify(
        key=macro.key,
        locale=result.choice.locale,
        reason=result.choice.reason,
        rtl=result.choice.rtl,
        text=result.text,
        error=result.error,
        violations=[{"code": v.code, "detail": v.detail, "blocking": v.blocking} for v in result.violations],
    )
