"""In a real browser: the "?" shortcuts overlay, select-all with the empty-selection hint, right-to-left text."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import InboundMessage, Party
from tests.conftest import T0

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"
ARABIC = "مرحبا، أين طلبي؟ لم يصل بعد."


@pytest.fixture
def seeded(live_server: Any) -> dict[str, int]:
    from datetime import timedelta

    from helpdesk.accounts.services import create_user
    from helpdesk.channelaccounts.models import ChannelAccount
    from helpdesk.extensions import db
    from helpdesk.ingest.pipeline import ingest
    from helpdesk.tickets.models import Ticket

    with live_server.app.app_context():
        s = db.session
        s.add(ChannelAccount(name="shop-de", kind="ebay", platform="ebay", display_name="Shop DE", site="DE"))
        s.flush()
        create_user(s, "lead@example.test", "Lena", PASSWORD, role="lead")
        messages = [
            InboundMessage(
                channel="ebay",
                account="shop-de",
                platform="ebay",
                external_id=f"m-{n}",
                external_thread_id=f"t-{n}",
                sent_at=T0 + timedelta(minutes=n),
                sender=Party(platform_id=f"buyer_{n}", name=f"Buyer {n}"),
                subject=f"Question {n}",
                body_text=ARABIC if n == 0 else f"Hello {n}",
            )
            for n in range(3)
        ]
        ingest(s, messages, source="test")
        s.commit()
        ids = {t.subject: t.id for t in s.scalars(sa.select(Ticket))}
    return {"arabic": ids["Question 0"], "count": len(ids)}


def sign_in(browser: Any, base: str) -> Any:
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.goto(f"{base}/login")
    page.fill("#email", "lead@example.test")
    page.fill("#password", PASSWORD)
    page.locator("form.login button[type=submit]").click()
    page.wait_for_url(f"{base}/")
    return page


def test_question_mark_shows_the_shortcuts_and_escape_closes_them(
    browser: Any, live_server: Any, seeded: dict[str, int]
) -> None:
    page = sign_in(browser, live_server.url)
    overlay = page.locator("#shortcuts")
    assert not overlay.is_visible()
    page.locator("body").press("?")
    overlay.wait_for(state="visible")
    assert page.get_by_role("dialog", name="Keyboard shortcuts").is_visible()
    assert overlay.locator("dd", has_text="Next / previous ticket").is_visible()
    page.keyboard.press("Escape")
    overlay.wait_for(state="hidden")
    page.fill("#q", "?")  # typing "?" in a field is text, not a shortcut
    assert not overlay.is_visible()

    page.goto(f"{live_server.url}/tickets/{seeded['arabic']}")
    page.locator("body").press("?")
    overlay.wait_for(state="visible")
    assert overlay.locator("dd", has_text="Write a reply").is_visible()
    overlay.get_by_role("button", name="Close").click()
    overlay.wait_for(state="hidden")


def test_select_all_and_the_empty_selection_hint(browser: Any, live_server: Any, seeded: dict[str, int]) -> None:
    page = sign_in(browser, live_server.url)
    boxes = page.locator("#ticket-rows input[type=checkbox]")
    assert boxes.count() == seeded["count"]

    page.locator("#bulk button[type=submit]").click()  # nothing ticked: the page says so and sends nothing
    page.locator("#bulk-hint").wait_for(state="visible")
    assert page.url == f"{live_server.url}/"

    page.get_by_label("Select all on this page").check()
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    assert page.locator("#bulk-hint").is_hidden()
    boxes.first.uncheck()
    assert page.locator("#select-all").evaluate("el => el.indeterminate && !el.checked")
    page.get_by_label("Select all on this page").check()
    page.get_by_label("Select all on this page").uncheck()
    assert not any(boxes.nth(i).is_checked() for i in range(boxes.count()))


def test_arabic_reads_right_to_left_in_the_thread_and_the_composer(
    browser: Any, live_server: Any, seeded: dict[str, int]
) -> None:
    page = sign_in(browser, live_server.url)
    page.goto(f"{live_server.url}/tickets/{seeded['arabic']}")
    body = page.locator(".message .body", has_text="مرحبا")
    assert body.evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert body.evaluate("el => el.matches(':dir(rtl)')")
    composer = page.locator("#body")
    assert composer.evaluate("el => el.matches(':dir(ltr)')")  # empty: left to right
    composer.fill("شكرا لرسالتك")
    assert composer.evaluate("el => el.matches(':dir(rtl)')")
    composer.fill("Thank you for your message")
    assert composer.evaluate("el => el.matches(':dir(ltr)')")
