"""``/api/v1``: the blueprint every API route joins, and what they all share.

Every endpoint needs a bearer token, so the blueprint is exempt from CSRF:
cookies are never read here, and a browser cannot add the Authorization
header to a forged request.  JSON bodies are capped at ``MAX_JSON_BYTES``
(files go up as multipart, under the attachment limit); other sites'
scripts may call the API only from origins listed in
``HELPDESK_API_CORS_ORIGINS`` — none by default.
"""

from __future__ import annotations

from flask import Blueprint, Flask, request

from helpdesk.api.errors import ApiError, register_errors
from helpdesk.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
register_errors(bp)

MAX_JSON_BYTES = 1024 * 1024


@bp.before_request
def _cap_json_body() -> None:
    """A JSON body over 1 MB is refused before it is read: no request should hold a worker parsing megabytes."""
    if request.mimetype == "application/json" and (request.content_length or 0) > MAX_JSON_BYTES:
        raise ApiError(413, "too_large", "the JSON body is over 1 MB; send files as multipart attachments")


def init_cors(app: Flask) -> None:
    """Answer cross-origin requests only for the configured origins; without any, browsers keep the API same-origin."""
    origins = app.config["HELPDESK_SETTINGS"].api_cors_origins
    if not origins:
        return
    from flask_cors import CORS

    CORS(
        app,
        resources={r"/api/v1/*": {"origins": list(origins)}},
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        expose_headers=["Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"],
        supports_credentials=False,  # tokens, never cookies, cross origin
        max_age=600,
    )
