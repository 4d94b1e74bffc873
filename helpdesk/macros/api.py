"""``/api/v1/macros``: the library and a rendering for a ticket, for integrations.

The same rules as the composer: a token acts for its user, who sees only the
tickets of their stores (404 for the others).
"""

from __future__ import annotations

from typing import Any

from flask import g, request
from pydantic import BaseModel, Field

from helpdesk.api.access import visible_ticket
from helpdesk.api.auth import api_auth
from helpdesk.api.errors import ApiError
from helpdesk.api.spec import ApiModel, api_spec, responses
from helpdesk.api.views import bp
from helpdesk.extensions import db
from helpdesk.macros import services
from macros.model import Macro

TAGS = ["macros"]


class MacroQuery(ApiModel):
    q: str = Field("", max_length=200, description="searches titles, tags and texts")
    locale: str | None = Field(None, max_length=35, description="the titles' language; default `en`")
    platform: str | None = Field(None, max_length=32, description="only macros usable on this platform")


class MacroOut(BaseModel):
    key: str
    title: str
    description: str
    tags: list[str]
    platforms: list[str] = Field(description="empty: every platform")
    locales: list[str]
    source: str = Field(description="shipped with the desk, or written by the team")
    actions: dict[str, Any] = Field(
        description="what applying it does besides the text: `add_tags`, `remove_tags`, `status`, `priority`, "
        "`assign_to_me`"
    )


class MacroList(BaseModel):
    macros: list[MacroOut]


class RenderQuery(ApiModel):
    locale: str | None = Field(None, max_length=35, description="default: the buyer's language, as the composer picks")


class MacroViolation(BaseModel):
    code: str = Field(description="the marketplace rule broken, stable")
    detail: str = Field(description="the offending part of the text")
    blocking: bool = Field(description="true: the marketplace would refuse the reply")


class MacroRendering(BaseModel):
    key: str
    locale: str
    reason: str = Field(description="which evidence chose the locale")
    rtl: bool
    text: str
    error: str | None = Field(description="why the template could not be rendered, or null")
    violations: list[MacroViolation]


def _macro_out(macro: Macro, locale: str) -> MacroOut:
    return MacroOut(
        key=macro.key,
        title=macro.title(locale),
        description=macro.description(locale),
        tags=list(macro.tags),
        platforms=list(macro.platforms),
        locales=list(macro.locales),
        source=macro.source,
        actions=services.actions_data(macro),
    )


@bp.get("/macros")
@api_auth()
@api_spec.validate(query=MacroQuery, resp=responses(400, HTTP_200=MacroList), tags=TAGS)
def list_macros() -> MacroList:
    """Every usable macro, up to 500; `q` searches titles, tags and texts; `locale` picks the titles' language."""
    query: MacroQuery = request.context.query  # type: ignore[attr-defined]
    locale = query.locale or "en"
    macros = services.library(db.session).values()
    found = services.search(macros, query.q, [locale], platform=query.platform, limit=500)
    body = MacroList(macros=[_macro_out(f.macro, locale) for f in found])
    db.session.commit()  # last_used_at of the token
    return body


@bp.get("/tickets/<int:ticket_id>/macros/<key>")
@api_auth()
@api_spec.validate(query=RenderQuery, resp=responses(400, HTTP_200=MacroRendering), tags=TAGS)
def render_macro(ticket_id: int, key: str) -> MacroRendering:
    """The macro rendered for the ticket, in `locale` or the buyer's, with what the marketplace would refuse."""
    query: RenderQuery = request.context.query  # type: ignore[attr-defined]
    ticket = visible_ticket(ticket_id)
    macro = services.library(db.session).get(key)
    if macro is None:
        raise ApiError(404, "not_found", f"no macro {key!r}")
    result = services.preview(db.session, ticket, g.api_user, macro, query.locale or None)
    body = MacroRendering(
        key=macro.key,
        locale=result.choice.locale,
        reason=result.choice.reason,
        rtl=result.choice.rtl,
        text=result.text,
        error=result.error,
        violations=[MacroViolation(code=v.code, detail=v.detail, blocking=v.blocking) for v in result.violations],
    )
    db.session.commit()
    return body
