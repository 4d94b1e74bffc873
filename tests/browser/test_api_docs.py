"""The API reference in a real browser: Swagger UI renders the served document under the app's strict CSP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_agent_flow import PASSWORD, sign_in

pytestmark = pytest.mark.browser


def test_an_admin_opens_the_api_reference_and_tries_a_request(browser: Any, live_server: Any) -> None:
    from helpdesk.accounts.services import create_user
    from helpdesk.api.tokens import create_token
    from helpdesk.extensions import db

    with live_server.app.app_context():
        admin = create_user(db.session, "admin@example.test", "Ada", PASSWORD, role="admin")
        _row, raw = create_token(db.session, admin, "docs", "read")
        db.session.commit()
    page = sign_in(browser, live_server.url, "admin@example.test")
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server.url}/admin/api-tokens")
    page.get_by_role("link", name="Open the API reference").click()
    page.locator(".opblock-summary-path", has_text="/api/v1/teams").first.wait_for()
    assert page.locator(".info .title").inner_text().startswith("Helpdesk API")
    # authorise with the token and send a real request from the page
    page.locator("button.authorize").first.click()
    page.locator(".auth-container input").first.fill(raw)
    page.locator(".auth-btn-wrapper button.authorize").click()
    page.locator("button.btn-done").click()
    operation = page.locator(".opblock", has=page.locator(".opblock-summary-path", has_text="/api/v1/teams"))
    operation.locator(".opblock-summary").first.click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    operation.locator(".live-responses-table tbody .response-col_status").first.wait_for()
    assert operation.locator(".live-responses-table tbody .response-col_status").first.inner_text().strip() == "200"
    assert not refused, refused
