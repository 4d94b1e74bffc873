"""Every refusal is a page in the app's layout and the user's language, or JSON for programs; never a trace."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import abort

from tests.web import compiled_translations, csrf_token, fresh_globals_per_request, login, world

__all__ = ["compiled_translations", "fresh_globals_per_request", "world"]  # fixtures used here

pytestmark = pytest.mark.usefixtures("compiled_translations")


def _test_routes(app: Any) -> None:
    """Routes that fail on purpose; added before the first request, as Flask requires."""

    def forbidden() -> str:
        abort(403)

    def busy() -> str:
        abort(429)

    def broken() -> str:
        raise RuntimeError("secret detail from deep inside")

    app.add_url_rule("/_test/forbidden", "test_forbidden", forbidden)
    app.add_url_rule("/_test/busy", "test_busy", busy)
    app.add_url_rule("/_test/broken", "test_broken", broken)
    app.add_url_rule("/api/v1/_test/broken", "test_api_broken", broken)


def _in_layout(html: str) -> None:
    assert 'class="topbar"' in html and 'id="error-title"' in html
    assert "Traceback" not in html and "werkzeug" not in html.lower()


def test_not_found_for_anonymous_has_the_layout_without_nav_and_a_way_to_sign_in(client: Any) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    _in_layout(html)
    assert "Page not found" in html and "start again from the inbox" in html
    assert "Sign out" not in html and 'class="account-nav"' not in html
    assert 'href="/login"' in html


def test_signed_in_user_gets_nav_inbox_link_and_go_back_to_the_page_they_came_from(client: Any, world: Any) -> None:
    login(client, world.eu)
    html = client.get("/tickets/999999", headers={"Referer": "http://localhost/?view=mine"}).get_data(as_text=True)
    _in_layout(html)
    assert "Sign out" in html and "Go to the inbox" in html
    assert 'href="/?view=mine"' in html and "Go back" in html
    foreign = client.get("/tickets/999999", headers={"Referer": "https://evil.example/x"}).get_data(as_text=True)
    assert "evil.example" not in foreign and "Go back" not in foreign


def test_chinese_user_reads_error_pages_in_chinese(client: Any, make_user: Any, world: Any) -> None:
    user = make_user("cn@example.test", name="王芳", locale="zh_Hans", role="lead")
    login(client, user)
    html = client.get("/no/such/page").get_data(as_text=True)
    _in_layout(html)
    assert '<html lang="zh-Hans">' in html
    assert "Page not found" not in html and "找不到" in html and "前往收件箱" in html
    expired = client.post("/settings", data={"locale": "en", "timezone": "UTC"})
    assert expired.status_code == 400
    assert "表单已过期" in expired.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path", "status", "text"),
    [
        ("get", "/?sort=sideways", 400, "Bad request"),
        ("get", "/_test/forbidden", 403, "Ask an admin if you need access"),
        ("get", "/logout", 405, "does not accept that kind of request"),
        ("get", "/_test/busy", 429, "Wait a minute"),
    ],
)
def test_each_status_has_its_page(
    client: Any, app: Any, world: Any, method: str, path: str, status: int, text: str
) -> None:
    _test_routes(app)
    login(client, world.lead)
    response = getattr(client, method)(path)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    _in_layout(html)
    assert text in html and f"Error {status}" in html


def test_csrf_failure_page_says_to_reload_and_send_again(client: Any, world: Any) -> None:
    login(client, world.eu)
    response = client.post("/inbox/bulk", data={"action": "status", "value_status": "solved", "ticket": "1"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    _in_layout(html)
    assert "This form has expired" in html and "reload the page and send it again" in html


def test_too_large_upload_is_refused_with_what_to_do(client: Any, app: Any, world: Any) -> None:
    login(client, world.eu)
    app.config["MAX_CONTENT_LENGTH"] = 2048
    token = csrf_token(client, "/")
    response = client.post("/inbox/bulk", data={"csrf_token": token, "value_tag": "x" * 5000})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    _in_layout(html)
    assert "Make the attachment smaller" in html


def test_unexpected_error_shows_a_page_without_the_trace(client: Any, app: Any, world: Any) -> None:
    _test_routes(app)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: tests normally see the exception itself
    login(client, world.eu)
    response = client.get("/_test/broken")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    _in_layout(html)
    assert "Something went wrong" in html and "tell your admin" in html
    assert "secret detail" not in html and "RuntimeError" not in html
    api = client.get("/api/v1/_test/broken")
    assert api.status_code == 500 and "secret detail" not in api.get_data(as_text=True)
    assert api.get_json()["error"]["code"] == "internal_error"


def test_an_id_beyond_64_bits_is_not_found_for_a_post_too(client: Any, world: Any) -> None:
    """``/tickets/<id>/actions`` takes GET and POST; the POST of an impossible id was 405, as if it were allowed."""
    login(client, world.eu)
    token = csrf_token(client, "/")
    assert client.get(f"/tickets/{2**64}/actions").status_code == 404
    assert client.post(f"/tickets/{2**64}/actions", data={"csrf_token": token}).status_code == 404


def test_api_clients_get_json_errors(client: Any, world: Any) -> None:
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.mimetype == "application/json"
    assert missing.get_json() == {"error": {"code": "not_found", "message": "No such resource.", "field": None}}
    wrong_method = client.delete("/api/v1/sla/policies")
    assert wrong_method.status_code == 405
    assert wrong_method.get_json()["error"]["code"] == "method_not_allowed"
    anonymous = client.get("/api/v1/sla/policies")
    assert anonymous.status_code == 401 and anonymous.get_json()["error"]["code"] == "unauthorized"


def test_a_client_that_prefers_json_gets_json_outside_the_api_too(client: Any, world: Any) -> None:
    login(client, world.eu)
    response = client.get("/tickets/999999", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.mimetype == "application/json"
    body = json.loads(response.get_data(as_text=True))
    assert body["error"]["code"] == "not_found" and "inbox" in body["error"]["message"]
    browser = client.get("/tickets/999999", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.mimetype == "text/html"


def test_sign_in_redirect_explains_itself_in_the_users_language(client: Any) -> None:
    response = client.get("/", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    html = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Sign in to open that page." not in html and "请先登录" in html
