"""Error pages for people and JSON errors for programs, app-wide.

A bare Werkzeug error page is English, has no way back and looks like the
app broke; a stack trace tells an attacker how it is built.  Every HTTP
error therefore renders ``errors/error.html`` inside the app's layout, in
the user's language, with links back to the inbox (or to sign-in for
someone not signed in).  API clients — paths under ``/api/`` or requests
that prefer JSON — get the API's ``{"error": {"code", "message"}}`` shape
instead (:mod:`helpdesk.api.errors`), also for addresses no route serves.

Unexpected exceptions reach the 500 handler only outside testing: with
``PROPAGATE_EXCEPTIONS`` (tests, debug) Flask raises them, so a failing test
shows its traceback.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, Response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from helpdesk.api.errors import http_error_code, json_error
from helpdesk.params import BadParameter

log = logging.getLogger(__name__)

#: What went wrong and what to do next, by status; anything else gets the 400 or 500 text.
MESSAGES = {
    400: (
        _l("Bad request"),
        _l("The page could not understand what was sent. Go back, reload the page and try again."),
    ),
    403: (_l("Not allowed"), _l("Your account may not do this. Ask an admin if you need access.")),
    404: (
        _l("Page not found"),
        _l("This page does not exist, or you may not open it. Check the address, or start again from the inbox."),
    ),
    405: (
        _l("Not possible here"),
        _l("This address does not accept that kind of request. Go back and use the page's own buttons."),
    ),
    413: (
        _l("Too large"),
        _l("What you sent is too large. Make the attachment smaller or send fewer files, then try again."),
    ),
    429: (_l("Too many requests"), _l("You sent many requests in a short time. Wait a minute, then try again.")),
    503: (
        _l("Database busy or unreachable"),
        _l(
            "The helpdesk could not reach its database just now, so nothing was changed. "
            "Wait a few seconds, then try again; if it keeps happening, tell your admin."
        ),
    ),
    500: (
        _l("Something went wrong"),
        _l(
            "The helpdesk could not finish this request. Try again in a moment; if it keeps happening, tell your admin."
        ),
    ),
}
CSRF_MESSAGE = (
    _l("This form has expired"),
    _l("The form was open too long or came from another page. Go back, reload the page and send it again."),
)


#: Seconds a client is asked to wait after the database was busy or unreachable.
RETRY_AFTER_S = 5

#: What Flask-Login flashes when it sends someone to sign in (its default is English only).
LOGIN_MESSAGE = _l("Sign in to open that page.")


def wants_json() -> bool:
    """API paths, and clients that rank JSON above HTML (``fetch`` with ``Accept: application/json``)."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _back_url() -> str | None:
    """The page the user came from, if it is one of ours (never an open redirect to another site)."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or path == request.path:
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def render_error(status: int, title: str, message: str, code: str) -> tuple[Response | str, int]:
    if wants_json():
        return json_error(status, code, message)
    try:
        return render_template(
            "errors/error.html", status=status, title=title, message=message, back_url=_back_url()
        ), status
    except sa.exc.DBAPIError as exc:  # the layout asks for the signed-in user: the database is down or busy
        log.warning("error page rendered as text: %s", exc.__class__.__name__)
        return Response(f"{status} {title}\n{message}\n", mimetype="text/plain"), status  # type: ignore[return-value]
    except Exception:  # the layout itself failed: plain text, still no trace
        log.exception("error page could not be rendered")
        return Response(f"{status} {title}\n{message}\n", mimetype="text/plain"), status  # type: ignore[return-value]


def init_app(app: Flask) -> None:
    """Register the handlers on the app, so they also serve addresses that no blueprint matched."""
    from helpdesk.extensions import login_manager

    login_manager.login_message = LOGIN_MESSAGE  # type: ignore[assignment]
    login_manager.localize_callback = str  # the lazy string, translated at request time

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> tuple[Response | str, int]:
        title, message = CSRF_MESSAGE
        return render_error(400, str(title), str(message), "csrf_failed")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> HTTPException | tuple[Response | str, int]:
        status = exc.code or 500
        if status < 400:
            return exc
        title, message = MESSAGES.get(status) or MESSAGES[500 if status >= 500 else 400]
        if status == 404 and request.path.startswith("/api/"):
            message = _l("No such resource.")
        if isinstance(exc, BadParameter):  # it names the parameter and what it takes
            message = exc.description
        return render_error(status, str(title), str(message), http_error_code(exc))

    app.register_error_handler(sa.exc.OperationalError, database_unavailable)
    app.register_error_handler(sa.exc.InterfaceError, database_unavailable)

    @app.errorhandler(InternalServerError)
    def _internal(exc: InternalServerError) -> tuple[Response | str, int]:
        original = getattr(exc, "original_exception", None)
        if original is not None:
            log.error("request failed: %s %s", request.method, request.path, exc_info=original)
        _rollback()
        title, message = MESSAGES[500]
        return render_error(500, str(title), str(message), "internal_error")


def database_unavailable(exc: sa.exc.DBAPIError) -> tuple[Response, int]:
    """The database refused or dropped the connection, or SQLite stayed locked past its busy timeout.

    Not a bug of the page, and nothing was written (the transaction is
    rolled back), so the user is told to retry, with ``Retry-After``, as a
    page or as the API's JSON; the log gets one line, not a trace.  The
    pool's pre-ping replaces dead connections once the database is back.
    A statement stopped by the query budget is not that: it gets its own
    answer (narrow the search), see :mod:`helpdesk.querybudget`.
    """
    from helpdesk import querybudget

    if querybudget.is_budget_exceeded(exc):
        return querybudget.refusal(exc)  # type: ignore[return-value]
    log.warning("database unavailable for %s %s: %s", request.method, request.path, str(exc.orig).strip())
    _rollback()
    title, message = MESSAGES[503]
    body, status = render_error(503, str(title), str(message), "database_unavailable")
    response = body if isinstance(body, Response) else Response(body, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response, status


def _rollback() -> None:
    """A failed transaction must not break the error page's own queries (the signed-in user)."""
    from helpdesk.extensions import db

    try:
        db.session.rollback()
    except Exception:  # the page is still worth trying
        log.warning("rollback before the error page failed", exc_info=True)
