"""In a real browser: the security page lists where one is signed in, ends another device, and a
cookie copied before signing out opens nothing afterwards."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.test_agent_flow import PASSWORD, sign_in

pytestmark = pytest.mark.browser


def test_end_another_device_then_a_copied_cookie_is_useless(browser: Any, live_server: Any) -> None:
    from helpdesk.accounts.services import create_user
    from helpdesk.extensions import db

    with live_server.app.app_context():
        create_user(db.session, "agent@example.test", "Aiko", PASSWORD)
        db.session.commit()
    base = live_server.url
    laptop = sign_in(browser, base, "agent@example.test")
    phone = sign_in(browser, base, "agent@example.test")

    laptop.goto(f"{base}/settings")
    laptop.get_by_role("link", name=re.compile("Sign-in security")).click()
    rows = laptop.locator("#sessions tbody tr")
    assert rows.count() == 2
    here = laptop.locator("#sessions tr.this-device")
    assert "this device" in here.inner_text() and "HeadlessChrome" not in here.inner_text()
    laptop.locator("#sessions tbody tr:not(.this-device)").get_by_role("button", name="End").click()
    assert "That session has ended" in laptop.content()
    assert rows.count() == 1

    phone.reload()
    phone.wait_for_url(re.compile(r"/login"))

    copied = laptop.context.cookies()
    laptop.get_by_role("button", name="Sign out", exact=True).click()
    laptop.wait_for_url(f"{base}/login")
    thief = browser.new_context()
    thief.add_cookies(copied)
    page = thief.new_page()
    page.goto(f"{base}/settings/security")
    page.wait_for_url(re.compile(r"/login"))
    thief.close()
