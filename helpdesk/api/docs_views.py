"""``/api/v1/openapi.json`` and ``/api-docs``: the API's document and a page to browse and try it.

Both need a signed-in user or a valid token: every route but sign-in,
health and signed webhooks does.  The document is the same for everyone
(it describes routes, not data); what a caller may do is still decided per
request.  The page is Swagger UI served from ``/vendor`` so the CSP stays
``script-src 'self'``.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.api.auth import api_auth
from helpdesk.api.spec import document
from helpdesk.api.views import bp
from helpdesk.extensions import db

#: The page is for people (a session, sign-in on 302), so it lives outside ``/api/``, where everything is JSON.
page_bp = Blueprint("apidocs", __name__)


def _document() -> Response:
    response = jsonify(document())
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


@api_auth()
def _document_for_token() -> Response:
    db.session.commit()  # last_used_at of the token
    return _document()


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document, for a signed-in browser (the docs page) or a token (code generators, tests)."""
    if request.headers.get("Authorization"):
        return _document_for_token()
    if not current_user.is_authenticated:
        return _document_for_token()  # answers 401 in the API's shape
    return _document()


@page_bp.get("/api-docs")
@login_required
def docs() -> str:
    """Swagger UI over the document; "Authorize" takes a token to try requests from the page."""
    return render_template("api/docs.html")
