"""Every route of the URL map, fuzzed as each role: no 5xx, nothing of a store the role may not see.

The routes come from ``app.url_map`` (a new route is fuzzed without touching
this file); the parameters each view reads are found by a first request (see
``urlmap``).  Each route then gets a sweep — every hostile id in every path
argument, every hostile value (huge and non-ASCII numbers, days at the ends
of the calendar, NUL, unicode, 60 KB) and every known value (each store's
saved view, tampered cursors) in every parameter the view reads, one at a
time — and a bounded number of Hypothesis examples mixing several at once
with random names and values: derandomized, no example database, no
shrinking, so a run is repeatable and the report names the request.  GET
routes get them in the query string, POST routes in the form (with a valid
CSRF token, the other fields holding good values).

Roles: an admin and a lead (who may open everything), an agent of one store
and an agent of none (whose answers must never name the other store, its
tickets or its buyers), the Alpha agent's API token on ``/api/`` (the
Schemathesis test covers the documented bodies; here the hostile query
values), and an anonymous visitor on the pages open before sign-in.

Both backends: PostgreSQL refuses numbers SQLite compares, so it runs too,
with fewer examples per route.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from channels import registry
from helpdesk.accounts.models import Role, Team, User
from helpdesk.api.models import ApiToken
from helpdesk.audit.models import AuditEvent
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.customers.models import Customer, MergeSuggestion
from helpdesk.extensions import db
from helpdesk.inbox.queries import FIXED_VIEWS, SORTS
from helpdesk.macros.services import library
from helpdesk.notifications.models import Notification
from helpdesk.orders.models import Order
from helpdesk.reports.services import GROUPS
from helpdesk.signin import totp
from helpdesk.sla.models import SlaPolicy
from helpdesk.tickets.models import Attachment, Message, Ticket
from helpdesk.vendor.views import FILES
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.conftest import T0
from tests.security.desk import Desk
from tests.security.urlmap import (
    HOSTILE_DATES,
    SWEEP,
    SWEEP_FORM,
    SWEEP_IDS,
    Failures,
    RecordingRequest,
    Route,
    Vocabulary,
    call,
    check_response,
    reading,
    routes,
    short,
    tampered_cursors,
)
from tests.web import PASSWORD, fresh_request_globals

pytestmark = pytest.mark.usefixtures("compiled_translations")


@pytest.fixture(
    params=[
        # one group per backend: under ``--dist loadgroup`` the two halves (a minute or two each) run side by side
        # on two workers, each worker running its roles one after another instead of all the fuzzing piling up on one
        pytest.param("sqlite", marks=pytest.mark.xdist_group("url-map-fuzz-sqlite")),
        pytest.param("postgresql", marks=pytest.mark.xdist_group("url-map-fuzz-postgresql")),
    ]
)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


#: Roles whose runs also sweep each hostile value through each parameter; a lead's pages parse as an admin's do,
#: so the lead gets the random mixes only.
SWEEPING = ("admin", "agent_one", "agent_none", "api_agent_one", "api_lead", "anonymous")
#: Hypothesis examples per route and method; PostgreSQL's requests cost more, and most refusals are shared.
EXAMPLES = {"sqlite": 6, "postgresql": 3}

#: Pages open before sign-in; the anonymous visitor fuzzes them, signed-in roles leave them alone
#: (a stream of failed sign-ins would throttle the fuzzer's own address).
PUBLIC = {
    "accounts.login",
    "signin.forgot",
    "signin.password_link",
    "two_factor.code",
    "home.health",
    "hooks.receive",
    "webhook_in.receive_ticket",
    "static",
    "vendor.asset",
}
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
#: The app's layout (``base.html``): a refusal is a page of the app, with its navigation, not a bare error.
LAYOUT = '<main id="main"'

#: Path arguments that take a row's id, and the rows they take.
ID_COLUMNS = {
    "ticket_id": Ticket.id,
    "message_id": Message.id,
    "attachment_id": Attachment.id,
    "account_id": ChannelAccount.id,
    "team_id": Team.id,
    "user_id": User.id,
    "customer_id": Customer.id,
    "suggestion_id": MergeSuggestion.id,
    "policy_id": SlaPolicy.id,
    "sub_id": WebhookSubscription.id,
    "endpoint_id": WebhookSubscription.id,
    "delivery_id": WebhookDelivery.id,
    "token_id": ApiToken.id,
    "notification_id": Notification.id,
    "event_id": AuditEvent.id,
    "order_id": Order.id,
}


def vocabulary(session: Any, desk: Desk, caller: User | None) -> Vocabulary:
    """The desk's ids and good values; the caller's own user id is left out, so no POST demotes the fuzzer."""
    ids = {name: list(session.scalars(sa.select(column).order_by(column))) for name, column in ID_COLUMNS.items()}
    if caller is not None:
        ids["user_id"] = [i for i in ids["user_id"] if i != caller.id]
    accounts = [str(i) for i in ids["account_id"]]
    ticket = ids["ticket_id"][0]
    cursor = f"d~{T0.isoformat()}~{ticket}"
    values = {
        "view": (*FIXED_VIEWS, *(f"account:{a}" for a in accounts), "platform:ebay", "account:", "account:²"),
        "sort": SORTS,
        "group": tuple(GROUPS),
        "cursor": (cursor, *tampered_cursors(cursor)),
        "from": ("2026-01-01", *HOSTILE_DATES),
        "to": ("2026-01-31", *HOSTILE_DATES),
        "assignee": ("me", "none", *(str(i) for i in ids["user_id"])),
        "account": tuple(accounts),
        "store": tuple(accounts),
        "status": ("open", "pending", "solved", "closed", "new"),
        "q": ("parcel", "zq41", "lamp"),
        "key": tuple(sorted(library(session))[:5]),
        "kind": tuple(registry.kinds()),
        "name": ("breached", "agents", "days", "backlog", *FILES),
        "filename": ("app.css", "app.js"),
        "order_ref": ("27-00000-1", "27-10000-1"),
        "scope": ("write", "read", "admin"),
        "role": ("agent", "lead", "admin"),
        "decision": ("accept", "reject"),
        "user_id": tuple(str(i) for i in ids["user_id"]),
        "ids": tuple(str(i) for i in ids["suggestion_id"]),
        "ticket": tuple(str(i) for i in ids["ticket_id"]),
    }
    return Vocabulary(ids=ids, values=values)


def _sign_in(client: Any, user: User) -> str:
    """Sign ``user`` in and return the session's CSRF token."""
    fresh_request_globals()
    response = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert token
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token.group(1)})
    assert response.status_code == 302, response.status_code
    fresh_request_globals()
    page = client.get("/settings").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on the settings page"
    return token.group(1)


@dataclasses.dataclass
class Caller:
    """Who sends the requests: a browser session (with its CSRF token), a bearer token, or nobody."""

    role: str
    client: Any
    user: User | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    csrf: str | None = None
    sign_ins: int = 0

    def sign_in(self) -> None:
        if self.user is not None and not self.headers:
            self.csrf = _sign_in(self.client, self.user)
            self.sign_ins += 1

    def signed_out(self, response: Any) -> bool:
        """A signed-in page sent to sign-in: a route ended the session (sign-out is one), so sign in again."""
        location = response.headers.get("Location", "") if response is not None else ""
        return self.user is not None and not self.headers and response.status_code == 302 and "/login" in location


def _routes_for(app: Any, role: str) -> list[Route]:
    every = routes(app, ("GET", *STATE_CHANGING))
    if role.startswith("api_"):
        return [r for r in every if r.is_api and r.endpoint not in PUBLIC]
    if role == "anonymous":
        return [r for r in every if r.endpoint in PUBLIC]
    return [r for r in every if not r.is_api and r.endpoint not in PUBLIC]


def _request(caller: Caller, route: Route, path: dict[str, str], params: dict[str, str]) -> tuple[Any, str, str | None]:
    fresh_request_globals()
    if route.method == "GET":
        url = route.url(path, params)
        response, error = call(caller.client, "GET", url, headers=caller.headers)
    elif route.is_api:
        url = route.url(path, params)
        response, error = call(caller.client, route.method, url, headers=caller.headers, json={})
    else:
        url = route.url(path)
        form = {**params, "csrf_token": caller.csrf or ""}
        response, error = call(caller.client, route.method, url, data=form)
        url = f"{url} form={sorted(params)}"
    db.session.rollback()  # as a server's end of request does: a failed statement spoils no later request
    if response is not None and caller.signed_out(response) and not route.is_api:
        caller.sign_in()
    return response, url, error


def _valid_path(route: Route, words: Vocabulary) -> dict[str, str]:
    """An existing row's id for each id, the first good value for each other argument."""
    path = {}
    for name, converter, args in route.args:
        if converter == "int":
            path[name] = str((words.ids.get(name) or [1])[0])
        elif converter == "any":
            path[name] = args.split(",")[0].strip().strip("'\"")
        else:
            path[name] = (words.values.get(name) or ("x",))[0]
    return path


class Fuzz:
    """One caller's run over routes: each request made, checked and counted."""

    def __init__(self, caller: Caller, words: Vocabulary, forbidden: tuple[str, ...]) -> None:
        self.caller, self.words, self.forbidden = caller, words, forbidden
        self.failures = Failures()

    def send(self, route: Route, path: dict[str, str], params: dict[str, str], where: str = "") -> Any:
        """One request; ``where`` names the parameter under test, so each failing one is reported."""
        response, url, error = _request(self.caller, route, path, params)
        self.failures.requests += 1
        if error:
            self.failures.add(route, error.split(":")[0], f"{short(url)} → {error}", where)
            return None
        check_response(route, url, response, self.forbidden, self.failures, page_marker=LAYOUT, where=where)
        response.close()  # a file's answer holds the file open until closed
        return response

    def discover(self, route: Route) -> tuple[list[str], bool]:
        """The query or form names the view reads when it gets valid path values, and whether it answered."""
        with reading() as names:
            response = self.send(route, _valid_path(route, self.words), {})
        # a form that refuses a missing field (400, 422) did run its view: it is swept too
        opened = response is not None and (response.status_code < 400 or response.status_code in (400, 422))
        return [n for n in names if n != "csrf_token"], opened

    def sweep(self, route: Route, names: list[str]) -> None:
        """Each hostile id in each path argument, each hostile value in each name the view reads, one at a time."""
        valid = _valid_path(route, self.words)
        for name, converter, _args in route.args:
            for value in SWEEP_IDS if converter == "int" else ():
                self.send(route, {**valid, name: value}, {}, name)
        # a form's other fields hold good values, so that the view gets as far as the field under test
        base = {} if route.method == "GET" else {n: self.words.plausible(n) for n in names}
        values = SWEEP if route.method == "GET" else SWEEP_FORM
        for name in names:
            for value in (*values, *self.words.values.get(name, ())):
                self.send(route, valid, {**base, name: value}, name)

    def hypothesis(self, route: Route, names: list[str], examples: int) -> None:
        """Random mixes: several arguments and parameters at once, random names and values."""
        words = self.words
        path_values = st.fixed_dictionaries({n: words.path_value(n, c, a) for n, c, a in route.args})

        @settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(path=path_values, params=words.parameters(names))
        def run(path: dict[str, str], params: dict[str, str]) -> None:
            self.send(route, path, params)

        run()

    def route(self, route: Route, examples: int) -> None:
        names, opened = self.discover(route)
        if opened and self.caller.role in SWEEPING:  # a route the role may not open refuses before reading
            self.sweep(route, names)
        self.hypothesis(route, names, examples)
        if route.endpoint in UNDO:
            UNDO[route.endpoint]()


def _no_two_factor_required() -> None:
    for role in Role:
        totp.set_required(db.session, role, False)
    db.session.commit()


#: What a route's fuzzing may have done that would lock the fuzzer out of the rest of its run, undone after it.
UNDO = {"two_factor.required_roles": _no_two_factor_required}


def _caller(app: Any, desk: Desk, role: str) -> Caller:
    client = app.test_client()
    if role == "anonymous":
        return Caller(role, client)
    if role.startswith("api_"):
        user = desk.users[role.removeprefix("api_")]
        return Caller(role, client, user, headers={"Authorization": f"Bearer {desk.tokens[user.email]}"})
    caller = Caller(role, client, desk.users[role])
    caller.sign_in()
    return caller


@pytest.mark.parametrize("role", ["admin", "lead", "agent_one", "agent_none", "api_agent_one", "api_lead", "anonymous"])
def test_every_route_answers_hostile_input_without_error_or_leak(
    role: str, app: Any, backend: str, session: Any, desk: Desk, unlimited_api: None
) -> None:
    app.request_class = RecordingRequest
    caller = _caller(app, desk, role)
    words = vocabulary(session, desk, caller.user)
    fuzz = Fuzz(caller, words, desk.forbidden(role))
    selected = _routes_for(app, role)
    for route in selected:
        fuzz.route(route, EXAMPLES[backend])
    failures = fuzz.failures
    assert not failures.lines, f"{len(failures.lines)} failures in {failures.requests} requests:\n{failures.report()}"
    assert len({r.endpoint for r in selected}) >= {"anonymous": 5, "api_agent_one": 30, "api_lead": 30}.get(role, 60)
    assert failures.requests >= len(selected) * EXAMPLES[backend]  # every route got its examples
