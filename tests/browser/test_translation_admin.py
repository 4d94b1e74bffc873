"""An admin sets up translation in a real browser: told plainly there is none, configures it, tests it, adds a brand."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from helpdesk.translation.fake import FakeLibreTranslate
from tests.browser.test_agent_flow import PASSWORD, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def libre() -> Iterator[FakeLibreTranslate]:
    with FakeLibreTranslate(api_keys=("lt-secret-key",)) as fake:
        yield fake  # type: ignore[misc]


def test_an_admin_configures_libretranslate_and_a_glossary(
    browser: Any, live_server: Any, libre: FakeLibreTranslate, tmp_path: Any
) -> None:
    from helpdesk.accounts.services import create_user
    from helpdesk.channelaccounts.models import ChannelAccount
    from helpdesk.extensions import db
    from helpdesk.outbound import allow_loopback

    allow_loopback(live_server.app)  # the fake runs on this machine, as a LibreTranslate beside the helpdesk would
    with live_server.app.app_context():
        create_user(db.session, "admin@example.test", "Ada", PASSWORD, role="admin")
        db.session.add(ChannelAccount(name="shop-de", kind="ebay", platform="ebay", display_name="Lampen DE"))
        db.session.commit()
    page = sign_in(browser, live_server.url, "admin@example.test")
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Translation").click()
    page.get_by_text("No translation service is configured.").wait_for()
    page.get_by_role("link", name="docs/translation.md").click()
    page.get_by_text("docker run").first.wait_for()
    page.go_back()

    page.fill("input[name=base_url]", libre.url)
    page.fill("input[name=api_key]", "lt-secret-key")
    page.fill("input[name=cap]", "200000")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("LibreTranslate saved.").wait_for()
    assert "lt-secret-key" not in page.content(), "the key was sent back to the browser"
    page.get_by_role("button", name="Test connection").click()
    page.locator(".state-ok", has_text="Connected: LibreTranslate translated a test sentence.").first.wait_for()
    usage_row = page.locator("tr", has_text="LibreTranslate")
    assert usage_row.locator("td.num").first.inner_text() == "18"

    page.fill("textarea[name=terms]", "LampWorks Aurora\nNordlicht")
    page.get_by_role("button", name="Add", exact=True).click()
    page.get_by_text("Added to the glossary of Lampen DE: LampWorks Aurora, Nordlicht").wait_for()
    page.get_by_role("button", name="Remove Nordlicht").click()
    page.get_by_text("Removed Nordlicht from the glossary of Lampen DE.").wait_for()
    page.screenshot(path=str(tmp_path / "translation-admin.png"), full_page=True)
    assert page.locator("ul.glossary li").all_inner_texts()[0].startswith("LampWorks Aurora")
