"""An admin connects a store in a real browser: the form from the schema, a sealed secret, a passing test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from channels.shopify.fake import ShopifyFake
from tests.browser.test_agent_flow import PASSWORD, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def shopify() -> Iterator[ShopifyFake]:
    with ShopifyFake() as fake:
        fake.seed(orders=3)
        yield fake


def test_an_admin_connects_a_shopify_store_and_polls_it(browser: Any, live_server: Any, shopify: ShopifyFake) -> None:
    from helpdesk.accounts.services import create_user
    from helpdesk.extensions import db

    with live_server.app.app_context():
        create_user(db.session, "admin@example.test", "Ada", PASSWORD, role="admin")
        db.session.commit()
    settings, secrets = shopify.account_settings()
    page = sign_in(browser, live_server.url, "admin@example.test")
    page.get_by_role("link", name="Channels").click()
    page.get_by_role("link", name="Shopify").click()
    page.fill("input[name=name]", "lampworks")
    page.fill("input[name=setting__shop]", str(settings["shop"]))
    for role, value in secrets.items():
        page.fill(f"input[name=secret__{role}]", value)
    for key, value in settings.items():
        if key not in {"shop"} and page.locator(f"input[name=setting__{key}]").count():
            if not page.locator(f"input[name=setting__{key}]").is_visible():
                page.get_by_text("Advanced").click()
            page.fill(f"input[name=setting__{key}]", str(value))
    page.get_by_role("button", name="Add account").click()
    page.get_by_text("Account lampworks added").wait_for()
    html = page.content()
    assert all(value not in html for value in secrets.values()), "a secret was sent back to the browser"
    page.get_by_role("button", name="Test connection").click()
    page.locator("h2", has_text="Connected").wait_for()
    page.get_by_role("link", name="lampworks").click()
    page.get_by_role("button", name="Poll now").click()
    page.get_by_text("A poll of lampworks is queued").wait_for()
    page.goto(f"{live_server.url}/channels/")
    row = page.locator("tr", has_text="lampworks")
    row.locator(".state-ok").wait_for()
    assert row.locator("td.num").nth(1).inner_text() == "3"
