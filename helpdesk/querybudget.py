"""A time budget for each database statement a web request runs, on both backends.

One expensive query (a search nobody anticipated, a report over years) must
not hold a web worker for minutes while every other agent waits.  During a
request each statement gets ``HELPDESK_QUERY_TIMEOUT_MS`` (10 s by default):

- PostgreSQL enforces it itself: the first statement a request runs in a
  transaction is preceded by ``SET LOCAL statement_timeout``, so the server
  cancels a statement past it (``57014 query_canceled``); the setting ends
  with the transaction.
- SQLite has no timeout, but calls a progress handler every few thousand
  virtual-machine steps; ours aborts the statement once it has run past its
  deadline (``sqlite3.OperationalError: interrupted``).

The web request then answers 503 with a message that says what to do
(:func:`refusal`), instead of a stuck worker or a 500 with a trace.  The
task worker, pollers and CLI commands run outside a request and keep no
budget: an import or a backfill may legitimately run long.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import sqlalchemy as sa
from flask import Flask, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

#: SQLite calls the handler after this many virtual-machine instructions: often enough to stop within
#: milliseconds of the deadline, rarely enough to cost nothing measurable (a short query never reaches it).
PROGRESS_STEPS = 10_000
_DEADLINE = "helpdesk_query_deadline"
POSTGRES_QUERY_CANCELED = "57014"

TITLE = _l("This took too long")


def install(engine: sa.Engine, budget_ms: int) -> None:
    """Give every statement run inside a web request at most ``budget_ms`` milliseconds (0: no budget)."""
    if budget_ms <= 0:
        return
    if engine.dialect.name == "sqlite":
        _install_sqlite(engine, budget_ms)
    elif engine.dialect.name == "postgresql":
        _install_postgresql(engine, budget_ms)


def _install_postgresql(engine: sa.Engine, budget_ms: int) -> None:
    statement = f"SET LOCAL statement_timeout = {int(budget_ms)}"

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _budget(connection: sa.Connection, cursor: Any, *_args: Any) -> None:
        # Checked per statement, not when the transaction begins: a transaction begun before the request
        # (or by a test around it) still gets the budget for what the request runs in it.
        if not has_request_context() or connection.info.get(_DEADLINE):
            return
        cursor.execute(statement)
        connection.info[_DEADLINE] = True  # until the transaction ends, and SET LOCAL with it

    @sa.event.listens_for(engine, "commit")
    @sa.event.listens_for(engine, "rollback")
    def _ended(connection: sa.Connection) -> None:
        connection.info.pop(_DEADLINE, None)

    @sa.event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info.pop(_DEADLINE, None)


def _install_sqlite(engine: sa.Engine, budget_ms: int) -> None:
    budget_s = budget_ms / 1000

    @sa.event.listens_for(engine, "connect")
    def _handler(dbapi_connection: sqlite3.Connection, record: Any) -> None:
        info = record.info

        def past_deadline() -> int:
            deadline = info.get(_DEADLINE)
            return int(deadline is not None and time.monotonic() > deadline)

        dbapi_connection.set_progress_handler(past_deadline, PROGRESS_STEPS)

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _start(connection: sa.Connection, *_args: Any) -> None:
        # rows are also computed while they are fetched: the deadline stands until the next statement
        connection.info[_DEADLINE] = time.monotonic() + budget_s if has_request_context() else None

    @sa.event.listens_for(engine, "checkin")
    def _clear(_dbapi_connection: Any, record: Any) -> None:
        record.info.pop(_DEADLINE, None)


def is_budget_exceeded(exc: BaseException) -> bool:
    """Whether a database error is the budget stopping a statement (not any other failure)."""
    if not isinstance(exc, sa.exc.OperationalError):
        return False
    orig = exc.orig
    if isinstance(orig, sqlite3.OperationalError):
        return str(orig) == "interrupted"
    return getattr(orig, "sqlstate", None) == POSTGRES_QUERY_CANCELED


def init_app(app: Flask) -> None:
    """Install the budget on the app's engine (the error pages answer a stopped statement: :func:`refusal`)."""
    from helpdesk.extensions import db

    with app.app_context():
        install(db.engine, app.config["HELPDESK_SETTINGS"].query_timeout_ms)


def refusal(exc: sa.exc.DBAPIError) -> tuple[Any, int]:
    """503 and what to do, as a page or the API's JSON: not "retry later" (the same search would stop again).

    Called by the app's and the API's database error handler
    (``helpdesk.errors.views.database_unavailable``) for the errors
    :func:`is_budget_exceeded` recognises.
    """
    from flask import current_app, request

    from helpdesk.errors.views import render_error
    from helpdesk.extensions import db

    db.session.rollback()
    current_app.logger.warning("statement stopped by the query budget: %s %s", request.method, request.path)
    budget_ms = current_app.config["HELPDESK_SETTINGS"].query_timeout_ms
    message = _(
        "The database needed more than %(seconds)s seconds for this page, so it was stopped. If you were "
        "searching, narrow the search (fewer or more specific words, a store or status filter) and try again.",
        seconds=f"{budget_ms / 1000:g}",
    )
    return render_error(503, str(TITLE), message, "query_timeout")
