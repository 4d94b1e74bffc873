"""An open ticket page follows a colleague's changes without a reload: header line and details card."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_agent_flow import seeded, sign_in

pytestmark = pytest.mark.browser
__all__ = ["seeded"]


def test_colleagues_status_and_assignee_change_appear_live(
    browser: Any, live_server: Any, seeded: dict[str, int]
) -> None:
    base = live_server.url
    ticket = f"{base}/tickets/{seeded['parcel']}"
    emil = sign_in(browser, base, "eu@example.test")
    emil.goto(ticket)
    emil.locator("#live-state.online").wait_for()
    assert "pending" not in emil.locator("#ticket-meta").inner_text()
    emil.evaluate("window.__not_reloaded = true")
    emil.fill("#tags", "vip, half-typed")  # Emil is in the middle of editing the tags: his text must survive

    lena = sign_in(browser, base, "lead@example.test")
    lena.goto(ticket)
    lena.select_option("#status", "pending")
    lena.locator("#status + button").click()
    lena.wait_for_url(ticket)
    lena.select_option("#assignee", label="Lena")
    lena.locator("#assignee + button").click()
    lena.wait_for_url(ticket)

    # Emil never reloaded
    emil.locator("#ticket-meta", has_text="pending").wait_for(timeout=10_000)
    emil.locator("#assignee option[selected]", has_text="Lena").wait_for(state="attached", timeout=10_000)
    assert emil.evaluate("document.querySelector('#assignee').selectedOptions[0].textContent") == "Lena"
    assert emil.input_value("#status") == "pending"
    assert emil.input_value("#tags") == "vip, half-typed"
    assert emil.evaluate("window.__not_reloaded === true")
