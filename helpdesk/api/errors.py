"""JSON errors for the API: a code and a message, never a stack trace."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, field: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.headers = headers or {}
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def json_error(status: int, code: str, message: str, field: str | None = None) -> tuple[Response, int]:
    """Every API error has the same shape, ``field`` naming the input at fault (null when none is)."""
    return jsonify(error={"code": code, "message": message, "field": field}), status


def http_error_code(exc: HTTPException) -> str:
    """A machine-readable code from an HTTP error's name: ``Not Found`` → ``not_found``."""
    return (exc.name or "error").lower().replace(" ", "_")


def register_errors(bp: Blueprint) -> None:
    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> tuple[Response, int]:
        response, status = json_error(exc.status, exc.code, exc.message, exc.field)
        response.headers.update(exc.headers)
        return response, status

    @bp.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        field = getattr(exc, "parameter", None)  # a BadParameter names the input at fault
        return json_error(exc.code or 500, http_error_code(exc), exc.description or exc.name, field)

    from helpdesk.errors.views import database_unavailable

    # before the catch-all below: a database that is down or busy is a 503 to retry, not a 500
    bp.register_error_handler(sa.exc.OperationalError, database_unavailable)
    bp.register_error_handler(sa.exc.InterfaceError, database_unavailable)

    @bp.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("API request failed")
        return json_error(500, "internal_error", "the server could not handle the request")
