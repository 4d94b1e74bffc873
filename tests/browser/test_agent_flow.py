"""The agent's day in a real browser: sign in, inbox, ticket, template reply seen live by a colleague."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import Party
from helpdesk.accounts.models import Team
from helpdesk.macros.models import StoredMacro
from helpdesk.tickets.models import Ticket
from tests.conftest import T0
from tests.tickets.test_reply import OutboxConnector

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"
XSS_HTML = '<p>Broken lamp</p><img src="x" onerror="window.__xss=1"><script>window.__xss=2</script>'


@pytest.fixture
def seeded(live_server: Any) -> dict[str, int]:
    from channels.base import InboundMessage
    from helpdesk.accounts.services import create_user
    from helpdesk.channelaccounts.models import ChannelAccount
    from helpdesk.extensions import db
    from helpdesk.ingest.pipeline import ingest

    OutboxConnector.sent = []
    OutboxConnector.FAILURES = []
    with live_server.app.app_context():
        s = db.session
        account = ChannelAccount(name="shop-de", kind="test-outbox", platform="ebay", display_name="Shop DE", site="DE")
        team = Team(name="Europe")
        s.add_all([account, team])
        s.flush()
        s.execute(
            sa.insert(sa.table("team_channel_account", sa.column("team_id"), sa.column("channel_account_id"))),
            [{"team_id": team.id, "channel_account_id": account.id}],
        )
        create_user(s, "eu@example.test", "Emil", PASSWORD, teams=[team])
        create_user(s, "lead@example.test", "Lena", PASSWORD, role="lead")
        create_user(s, "cn@example.test", "王芳", PASSWORD, locale="zh_Hans_CN", timezone="Asia/Shanghai", teams=[team])
        s.add(
            StoredMacro(
                key="tracking",
                source="custom",
                titles={"en": "Tracking"},
                descriptions={},
                bodies={"en": "Your parcel is on its way."},
                tags=[],
                platforms=[],
                actions={},
            )
        )
        ingest(
            s,
            [
                InboundMessage(
                    channel="test-outbox",
                    account="shop-de",
                    platform="ebay",
                    external_id="m-1",
                    external_thread_id="t-1",
                    sent_at=T0,
                    sender=Party(platform_id="jonas", name="Jonas Weber"),
                    subject="Where is my parcel?",
                    body_text="Hello, where is my parcel?",
                ),
                InboundMessage(
                    channel="test-outbox",
                    account="shop-de",
                    platform="ebay",
                    external_id="m-2",
                    external_thread_id="t-2",
                    sent_at=T0,
                    sender=Party(platform_id="mallory", name="Mallory"),
                    subject="Broken lamp",
                    body_text="Broken lamp",
                    body_html=XSS_HTML,
                ),
            ],
            source="test",
        )
        s.commit()
        ids = {t.subject: t.id for t in s.scalars(sa.select(Ticket))}
    return {"parcel": ids["Where is my parcel?"], "xss": ids["Broken lamp"]}


def sign_in(browser: Any, base: str, email: str) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("E-mail address").fill(email) if "cn@" not in email else page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form.login button[type=submit]").click()
    page.wait_for_url(f"{base}/")
    return page


def test_reply_with_template_is_seen_live_by_a_colleague(
    browser: Any, live_server: Any, seeded: dict[str, int]
) -> None:
    base = live_server.url
    emil = sign_in(browser, base, "eu@example.test")
    assert emil.locator(f'tr[data-ticket-id="{seeded["parcel"]}"]').is_visible()
    emil.get_by_role("link", name="Where is my parcel?").click()
    emil.wait_for_url(f"{base}/tickets/{seeded['parcel']}")
    emil.locator("#live-state.online").wait_for()

    lena = sign_in(browser, base, "lead@example.test")
    lena.goto(f"{base}/tickets/{seeded['parcel']}")
    lena.locator("#live-state.online").wait_for()
    # presence: each sees the other without reloading
    emil.locator("#presence", has_text="Lena").wait_for(timeout=10_000)
    lena.locator("#presence", has_text="Emil").wait_for(timeout=10_000)

    emil.fill("#template", "tracking")
    emil.locator('#macro-results li[data-key="tracking"]').click()  # not a macro whose description says "tracking"
    emil.locator("#macro-text", has_text="Your parcel is on its way.").wait_for()
    emil.locator("#macro-insert").click()
    assert emil.input_value("#body").strip() == "Your parcel is on its way."
    lena.locator("#presence", has_text="Emil").wait_for()
    emil.locator("#send").click()
    emil.wait_for_url(f"{base}/tickets/{seeded['parcel']}")
    emil.locator(".message.out", has_text="Your parcel is on its way.").wait_for()

    # Lena never reloaded: the message arrives over Socket.IO, and she is warned before replying on top of it
    lena.locator(".message.out", has_text="Your parcel is on its way.").wait_for(timeout=10_000)
    lena.locator("#live-collision").wait_for(state="visible")
    assert [r.body_text for r in OutboxConnector.sent] == ["Your parcel is on its way."]


def test_chinese_ui_renders(browser: Any, live_server: Any, seeded: dict[str, int]) -> None:
    page = sign_in(browser, live_server.url, "cn@example.test")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    page.get_by_role("link", name="全部未结").first.wait_for()
    assert page.get_by_role("heading", name="全部未结").is_visible()
    page.goto(f"{live_server.url}/tickets/{seeded['parcel']}")
    assert page.get_by_role("button", name="发送").is_visible()


def test_xss_in_buyer_html_does_not_execute(browser: Any, live_server: Any, seeded: dict[str, int]) -> None:
    page = sign_in(browser, live_server.url, "eu@example.test")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{live_server.url}/tickets/{seeded['xss']}")
    page.get_by_text("Formatted original").click()
    page.locator(".html-body", has_text="Broken lamp").wait_for()
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss === undefined")
    assert dialogs == []
    assert page.locator(".html-body script").count() == 0
