"""``/api/v1``: the blueprint every API route joins, and the SLA reports and policies.

Every endpoint needs a bearer token, so the blueprint is exempt from CSRF:
cookies are never read here, and a browser cannot add the Authorization
header to a forged request.  JSON bodies are capped at ``MAX_JSON_BYTES``
(files go up as multipart, under the attachment limit); other sites'
scripts may call the API only from origins listed in
``HELPDESK_API_CORS_ORIGINS`` — none by default.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, g, jsonify, request
from werkzeug.wrappers import Response

from helpdesk.accounts.models import Role
from helpdesk.api.auth import api_auth
from helpdesk.api.errors import ApiError, register_errors
from helpdesk.api.models import Scope
from helpdesk.extensions import csrf, db
from helpdesk.reports.productivity import productivity
from helpdesk.reports.services import ReportQuery, sla_report
from helpdesk.reports.views import parse_query
from helpdesk.sla import schemas
from helpdesk.sla.models import SlaPolicy
from helpdesk.sla.services import create_policy, update_policy

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


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "send a JSON object")
    return data


def _report_query() -> ReportQuery:
    try:
        return parse_query(request.args, request.args.get("timezone") or g.api_user.timezone or "UTC")
    except (ValueError, KeyError) as exc:
        raise ApiError(400, "bad_request", str(exc)) from None


@bp.get("/reports/sla")
@api_auth(roles=(Role.LEAD, Role.ADMIN))
def report_sla() -> Response:
    """The figures of ``/reports``: ``from``, ``to`` (dates), ``group``, ``platform``, ``timezone``."""
    query = _report_query()
    db.session.commit()  # last_used_at of the token
    return jsonify(sla_report(db.session, query).as_dict())


@bp.get("/reports/agents")
@api_auth(roles=(Role.LEAD, Role.ADMIN))
def report_agents() -> Response:
    """Per-agent productivity of ``/reports``: same ``from``, ``to``, ``platform``, ``timezone``; times in seconds."""
    query = _report_query()
    db.session.commit()  # last_used_at of the token
    result = productivity(db.session, query)
    return jsonify(
        {"from": query.start.isoformat(), "to": query.end.isoformat(), "timezone": query.timezone, **result.as_dict()}
    )


@bp.get("/sla/policies")
@api_auth(roles=(Role.LEAD, Role.ADMIN))
def list_policies() -> Response:
    """Every policy; leads read them (the targets they answer to), only admins change them."""
    policies = db.session.scalars(sa.select(SlaPolicy).order_by(SlaPolicy.platform, SlaPolicy.id))
    db.session.commit()
    return jsonify(policies=[schemas.dump(p) for p in policies])


@bp.post("/sla/policies")
@api_auth(roles=(Role.ADMIN,), scope=Scope.ADMIN)
def create() -> tuple[Response, int]:
    try:
        values = schemas.clean(_body())
    except schemas.PolicyInvalid as exc:
        raise ApiError(422, "invalid", str(exc)) from None
    policy = create_policy(db.session, values)
    db.session.commit()
    return jsonify(schemas.dump(policy)), 201


@bp.patch("/sla/policies/<int:policy_id>")
@api_auth(roles=(Role.ADMIN,), scope=Scope.ADMIN)
def patch(policy_id: int) -> Response:
    policy = db.session.get(SlaPolicy, policy_id)
    if policy is None:
        raise ApiError(404, "not_found", "no such policy")
    try:
        values = schemas.clean(_body(), partial=True)
    except schemas.PolicyInvalid as exc:
        raise ApiError(422, "invalid", str(exc)) from None
    update_policy(db.session, policy, values)
    db.session.commit()
    return jsonify(schemas.dump(policy))
