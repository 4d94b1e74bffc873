"""The signed-in browser's side: the session cookie carries a record's token, each request checks it.

``begin`` and ``finish`` are called where sign-in and sign-out happen;
``record_for`` is asked by the user loader on every request, so a cookie
whose record has ended or expired signs nobody in, wherever it was copied to.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request, session
from flask_login import current_user, login_user, logout_user

from helpdesk.accounts.models import User
from helpdesk.extensions import db
from helpdesk.signin import records, throttle
from helpdesk.signin.devices import describe_device
from helpdesk.signin.models import UserSession

SID = "sid"  # the Flask session key that holds the session record's token
CSRF_KEY = "csrf_token"  # Flask-WTF keeps its raw token under this key, in the session and on ``g``
RECORD = "session_record"  # ``g``: this request's live record, once the user loader found it
UNTRACKED = {"static", "vendor.asset"}  # endpoints that neither need the user nor count as use


def lifetimes() -> records.Lifetimes:
    return records.Lifetimes.of(current_app.config["HELPDESK_SETTINGS"])


def begin(user: User) -> None:
    """Sign ``user`` in on this browser with a new record, a new cookie and a new CSRF token.

    Whatever the cookie held before (a session this browser had, a token an
    attacker planted before the victim signed in) is dropped, so nothing
    issued before signing in is any use afterwards.
    """
    records.end_token(db.session, session.get(SID))
    session.clear()
    g.pop(CSRF_KEY, None)
    token = records.open_record(
        db.session,
        user,
        device=describe_device(request.user_agent.string),
        address=throttle.normalise_address(request.remote_addr),
    )
    db.session.commit()
    session[SID] = token
    session.permanent = True  # the cookie lives as long as the idle lifetime, renewed by each request
    login_user(user)


def finish() -> None:
    """Sign this browser out and end its record: a copy of the cookie opens nothing afterwards."""
    records.end_token(db.session, session.get(SID))
    db.session.commit()
    logout_user()
    session.clear()
    g.pop(CSRF_KEY, None)


def record_for(user: User) -> UserSession | None:
    """This request's live record for ``user`` (remembered on ``g``), or None: then nobody is signed in."""
    record = records.find_live(db.session, session.get(SID), user.id, lifetimes())
    if record is None:
        g.pop(RECORD, None)
    else:
        setattr(g, RECORD, record)
    return record


def this_record() -> UserSession | None:
    """The record of the request's own session, if signed in through the cookie."""
    if not current_user.is_authenticated:
        return None
    return g.get(RECORD)


def init_app(app: Flask) -> None:
    """Each signed-in request counts as use: ``last_seen_at`` moves, at most once a minute.

    This runs before any view, when the request has written nothing yet, so
    its short commit holds the bookkeeping alone.
    """

    @app.before_request
    def _seen() -> None:
        if request.endpoint in UNTRACKED or SID not in session:
            return
        record = this_record()
        if record is not None and records.touch(db.session, record):
            db.session.commit()
