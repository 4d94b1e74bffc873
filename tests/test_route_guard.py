"""Every route refuses strangers, and every form refuses a request without its CSRF token.

The test walks ``app.url_map`` instead of a hand-kept list, so a route added
tomorrow is checked tomorrow.  URL arguments are made up from each rule's
converters (an ``int`` gets 1, a string ``x``): authentication and CSRF are
checked before a view looks anything up, so no data is needed.

* Anonymous: pages redirect to sign-in, ``/api/`` answers 401 JSON.  Forms
  are sent with a valid (anonymous) CSRF token, so what refuses them is the
  sign-in check and not the CSRF check.
* Signed in (as an admin, who may open everything): every POST, PUT, PATCH
  and DELETE without a token is refused with the CSRF page.  The API is
  exempt from CSRF by design (bearer tokens only), so there the check is the
  other way round: a signed-in browser session without a token gets 401.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from channels import registry
from tests.web import compiled_translations, csrf_token, fresh_globals_per_request, login

__all__ = ["compiled_translations", "fresh_globals_per_request"]  # fixtures used here

pytestmark = pytest.mark.usefixtures("compiled_translations")

#: Endpoints anyone may open, and why.
PUBLIC = {
    "accounts.login": "the sign-in page itself",
    "home.health": "load balancers and monitors probe it without a session",
    "static": "the app's own CSS and JavaScript, no data",
    "vendor.asset": "allow-listed browser libraries (the Socket.IO client), no data",
    # signed by the integration's secret (HMAC over timestamp + body), refused with 401 otherwise: tests/webhook_channel
    "webhook_in.receive_ticket": "ERPs POST signed tickets: the HMAC signature protects it, not a session",
    "hooks.receive": "platforms POST signed notifications: the signature protects it, not a session (checked below)",
}
#: The steps before a session exists must be reachable while signed out: asking for a password-reset link,
#: opening the link, entering the second factor after the password.  Named one by one so that nothing else of
#: their blueprints (the admin's Sign-in security page, the user's own security settings) slips through.
SIGN_IN_FLOW = {"signin.forgot", "signin.password_link", "two_factor.code"}
CSRF_EXEMPT = {"hooks.receive", "webhook_in.receive_ticket"}
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
_ARG = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")
SAMPLES = {"int": "1", "float": "1.0", "path": "x/y", "uuid": "00000000-0000-0000-0000-000000000001"}


def _sample(match: re.Match[str]) -> str:
    converter, args = match.group(1) or "default", match.group(2) or ""
    if converter == "any":  # <any(accept, reject):decision>: one of the listed values
        return args.split(",")[0].strip().strip("'\"")
    return SAMPLES.get(converter, "x")


def _url(rule: Any) -> str:
    """The rule's path with a sample value for each argument, by converter."""
    return _ARG.sub(_sample, rule.rule)


def _is_public(endpoint: str) -> bool:
    return endpoint in PUBLIC or endpoint in SIGN_IN_FLOW


def _routes(app: Any, *, methods: tuple[str, ...]) -> list[tuple[str, str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & set(methods)):
            found.append((rule.endpoint, method, _url(rule)))
    return sorted(found)


def test_the_walk_builds_urls_from_converters(app: Any) -> None:
    rules = {r.endpoint: r for r in app.url_map.iter_rules()}
    assert _url(rules["tickets.message_fragment"]) == "/tickets/1/messages/1"
    assert _url(rules["static"]) == "/static/x/y"
    assert _url(rules["channels.new"]) == "/channels/new/x"
    assert _url(rules["customers.decide"]) == "/customers/suggestions/1/accept"
    assert not _is_public("accounts.logout") and not _is_public("signin.admin") and _is_public("signin.forgot")


def test_every_route_refuses_an_anonymous_request(app: Any, client: Any) -> None:
    token = csrf_token(client, "/login")  # an anonymous session's token: the sign-in check must refuse, not CSRF
    checked = []
    for endpoint, method, url in _routes(app, methods=("GET", *STATE_CHANGING)):
        if _is_public(endpoint):
            continue
        data = {"csrf_token": token} if method in STATE_CHANGING else None
        response = client.open(url, method=method, data=data)
        if url.startswith("/api/"):
            assert response.status_code == 401, (endpoint, method, response.status_code)
            assert response.get_json()["error"]["code"] == "unauthorized"
        else:
            assert response.status_code == 302, (endpoint, method, response.status_code)
            assert response.headers["Location"].startswith("/login"), (endpoint, method)
        checked.append(endpoint)
    assert len(set(checked)) > 40  # the walk really walked


def test_every_form_refuses_a_signed_in_request_without_csrf_token(app: Any, client: Any, make_user: Any) -> None:
    admin = make_user("admin@example.test", name="Ada", role="admin")
    login(client, admin)
    checked = []
    for endpoint, method, url in _routes(app, methods=STATE_CHANGING):
        if endpoint in CSRF_EXEMPT:
            continue
        response = client.open(url, method=method, data={"anything": "1"})
        if url.startswith("/api/"):
            # exempt from CSRF because only a bearer token opens it: the browser's session cookie must not
            assert response.status_code == 401, (endpoint, method, response.status_code)
        else:
            assert response.status_code == 400, (endpoint, method, response.status_code)
            assert "This form has expired" in response.get_data(as_text=True), (endpoint, method)
        checked.append(endpoint)
    assert len(set(checked)) > 20
    assert client.get("/").status_code == 200  # still signed in: the refusals were about the token


def test_webhooks_refuse_unsigned_posts(client: Any) -> None:
    """Open to anyone, yet nothing unsigned gets in (tests/webhooks checks the signatures themselves)."""
    for kind in (*registry.kinds(), "x"):
        response = client.post(f"/hooks/{kind}", data=b'{"orders": []}', content_type="application/json")
        assert 400 <= response.status_code < 500, (kind, response.status_code)
