"""A user turns on two-factor sign-in in a real browser, then signs in with password and app code."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
import pytest

from tests.browser.test_agent_flow import PASSWORD, sign_in

pytestmark = pytest.mark.browser


def test_set_up_two_factor_then_sign_in_with_a_code(browser: Any, live_server: Any) -> None:
    from helpdesk.accounts.services import create_user
    from helpdesk.extensions import db

    with live_server.app.app_context():
        create_user(db.session, "agent@example.test", "Aiko", PASSWORD)
        db.session.commit()
    base = live_server.url
    page = sign_in(browser, base, "agent@example.test")

    page.goto(f"{base}/settings")
    page.get_by_role("link", name=re.compile("Sign-in security")).click()
    page.get_by_role("link", name="Manage two-factor sign-in").click()
    assert page.locator(".qr svg").is_visible()  # the QR code renders under the page's CSP
    page.get_by_text("Cannot scan? Type this key instead").click()
    secret = page.locator("#totp-secret").inner_text().strip()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn two-factor sign-in on").click()
    assert page.locator("#recovery-codes li").count() == 10

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/login")
    page.fill("#email", "agent@example.test")
    page.fill("#password", PASSWORD)
    page.locator("form.login button[type=submit]").click()
    page.wait_for_url(f"{base}/login/code")
    # The code of the next 30 seconds: the one used to turn it on cannot be replayed, and one step ahead is allowed.
    page.fill("#code", pyotp.TOTP(secret).at(int(time.time()) + 30))
    page.locator("form.login button[type=submit]").click()
    page.wait_for_url(f"{base}/")
