"""The health check; the ticket list lives in the inbox feature (``/``)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from helpdesk.extensions import db

bp = Blueprint("home", __name__)


@bp.get("/health")
def health() -> Response:
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503  # type: ignore[return-value]
    return jsonify(status="ok", database="ok")
