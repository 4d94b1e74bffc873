"""Fixtures for request tests of the web inbox: two stores, two teams, agents and a lead.

``shop-de`` belongs to team Europe, ``shop-jp`` to team Asia; ``eu`` is an
agent of Europe only, ``lead`` sees everything.  Tickets come in through the
real ingest pipeline, as they do in production.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import Party
from helpdesk.accounts.models import Team, User
from helpdesk.ingest.pipeline import ingest
from helpdesk.tickets.models import Ticket
from tests.conftest import T0

PASSWORD = "correct horse battery"


@dataclass
class World:
    de: Any
    jp: Any
    europe: Team
    asia: Team
    eu: User
    asia_agent: User
    lead: User


def csrf_token(client: Any, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"{path} has no CSRF token"
    return match.group(1)


def fresh_request_globals() -> None:
    """Forget what ``g`` cached for the previous client.

    The ``app`` fixture keeps one application context open for the whole
    test, and requests of the same app reuse it, so ``g`` (Flask-Login's
    user, Flask-WTF's token) would leak from one simulated client to the next.
    """
    from flask import g

    for key in REQUEST_CACHES:
        g.pop(key, None)


#: What requests cache on ``g``: the signed-in user and their session record, the CSRF token, the locale, and the
#: API caller's token, user and visible stores (without the last, a second token in one test would see what the
#: first one saw).
REQUEST_CACHES = (
    "_login_user",
    "session_record",
    "csrf_token",
    "_flask_babel",
    "api_user",
    "api_token",
    "api_visible_ids",
)


@pytest.fixture(autouse=True)
def fresh_globals_per_request(app: Any) -> None:
    """Give every test request a clean ``g``, as a server's own app context per request would."""
    app.before_request_funcs.setdefault(None, []).insert(0, fresh_request_globals)


def login(client: Any, user: User) -> None:
    fresh_request_globals()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)


def post(client: Any, path: str, data: dict[str, Any], token_from: str = "/") -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)})


@pytest.fixture
def world(session: Any, make_account: Any, make_user: Any) -> World:
    de = make_account(name="shop-de")
    jp = make_account(name="shop-jp", site="JP", default_language="ja", platform="amazon", kind="amazon")
    europe, asia = Team(name="Europe"), Team(name="Asia")
    session.add_all([europe, asia])
    session.flush()
    session.execute(
        sa.insert(sa.table("team_channel_account", sa.column("team_id"), sa.column("channel_account_id"))),
        [{"team_id": europe.id, "channel_account_id": de.id}, {"team_id": asia.id, "channel_account_id": jp.id}],
    )
    session.commit()
    eu = make_user("eu@example.test", name="Emil", teams=[europe])
    asia_agent = make_user("asia@example.test", name="Aiko", teams=[asia])
    lead = make_user("lead@example.test", name="Lena", role="lead")
    return World(de, jp, europe, asia, eu, asia_agent, lead)


@pytest.fixture
def make_ticket(session: Any, make_message: Any) -> Callable[..., Ticket]:
    """A ticket made by ingesting one buyer message; keyword overrides set ticket fields afterwards."""
    counter = iter(range(1, 10**6))

    def make(account: str = "shop-de", buyer: str = "buyer_1", **fields: Any) -> Ticket:
        n = next(counter)
        channel = "amazon" if account == "shop-jp" else "ebay"
        message_fields = {
            k: fields.pop(k) for k in ("body_text", "subject", "body_html", "order_refs", "language") if k in fields
        }
        msg = make_message(
            account=account,
            channel=channel,
            platform=channel,
            external_id=f"{account}-{n}",
            external_thread_id=f"thread-{account}-{n}",
            sender=Party(platform_id=buyer, name=buyer.replace("_", " ").title()),
            sent_at=T0 + timedelta(minutes=n),
            **message_fields,
        )
        ingest(session, [msg], source="test")
        session.commit()
        ticket = session.scalars(sa.select(Ticket).order_by(Ticket.id.desc())).first()
        # the SLA step may have started clocks at ingest; tests state the SLA they need
        for key, value in {"sla_state": None, "sla_due_at": None, **fields}.items():
            setattr(ticket, key, value)
        session.commit()
        return ticket

    return make


@pytest.fixture(scope="session")
def compiled_translations() -> None:
    """Compile the .po catalogs to .mo (as ``make translations`` does) when they are missing or stale."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from tests.conftest import REPO

    for po in (REPO / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f)
        with mo.open("wb") as f:
            write_mo(f, catalog)
