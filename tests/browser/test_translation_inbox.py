"""In a real browser: a Chinese-UI agent reads a German buyer message in Chinese and answers in edited German.

The LibreTranslate fake on loopback is the configured service.  The agent
translates the buyer's message (the original stays, one click hides the
translation), writes in Chinese, translates the draft with the keyboard
shortcut, edits the German and sends: the buyer gets the edited German, the
ticket shows both texts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa

from channels import registry
from channels.base import OutboundReply
from helpdesk.translation.fake import FakeLibreTranslate
from tests.browser.test_agent_flow import PASSWORD, sign_in
from tests.conftest import T0
from tests.tickets.test_reply import OutboxConnector

pytestmark = pytest.mark.browser

GERMAN = "Hallo, wo ist meine Bestellung? Die Lampe ist kaputt."
CHINESE_DRAFT = "您好，您的订单今天已发货。"


class TranslatedOutbox(OutboxConnector):
    kind = "test-outbox-translated"
    sent: ClassVar[list[OutboundReply]] = []


registry.register(TranslatedOutbox)


@pytest.fixture
def libre() -> Iterator[FakeLibreTranslate]:
    with FakeLibreTranslate(chinese_code="zh") as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def ticket_id(live_server: Any, libre: FakeLibreTranslate) -> int:
    from channels.base import InboundMessage, Party
    from helpdesk.accounts.models import Team
    from helpdesk.accounts.services import create_user
    from helpdesk.channelaccounts.models import ChannelAccount
    from helpdesk.extensions import db
    from helpdesk.ingest.pipeline import ingest
    from helpdesk.tickets.models import Ticket
    from helpdesk.translation import configuration

    TranslatedOutbox.sent = []
    with live_server.app.app_context():
        s = db.session
        account = ChannelAccount(
            name="shop-de", kind="test-outbox-translated", platform=None, display_name="Lampen DE", site="DE"
        )
        team = Team(name="Europe")
        s.add_all([account, team])
        s.flush()
        s.execute(
            sa.insert(sa.table("team_channel_account", sa.column("team_id"), sa.column("channel_account_id"))),
            [{"team_id": team.id, "channel_account_id": account.id}],
        )
        create_user(s, "cn@example.test", "王芳", PASSWORD, teams=[team], locale="zh_Hans")
        configuration.configure(s, None, kind="libretranslate", base_url=libre.url)
        ingest(
            s,
            [
                InboundMessage(
                    channel="test-outbox-translated", account="shop-de", external_id="m-1",
                    external_thread_id="t-1", sent_at=T0, sender=Party(platform_id="jonas", name="Jonas Weber"),
                    subject="Bestellung", body_text=GERMAN, language="de",
                )
            ],
            source="test",
        )  # fmt: skip
        s.commit()
        return int(s.scalar(sa.select(Ticket.id)))


def test_a_chinese_agent_reads_german_and_answers_in_edited_german(
    browser: Any, live_server: Any, ticket_id: int, tmp_path: Any
) -> None:
    from helpdesk.extensions import db
    from helpdesk.tickets.models import Message

    base = live_server.url
    page = sign_in(browser, base, "cn@example.test")
    page.goto(f"{base}/tickets/{ticket_id}")
    buyer = page.locator("article.message.in").first

    # reading: the translation appears under the original, which stays; one click hides and shows it
    buyer.locator(".translate-button").click()
    translated = buyer.locator(".translated-text")
    translated.wait_for()
    assert "订单" in translated.inner_text()
    assert buyer.locator(".translated-by").inner_text().count("LibreTranslate") == 1
    assert buyer.locator(".body").inner_text() == GERMAN
    buyer.locator(".toggle-translation").click()
    assert translated.is_hidden() and buyer.locator(".body").is_visible()
    buyer.locator(".toggle-translation").click()
    assert translated.is_visible()

    # writing: Chinese draft, translated with the keyboard shortcut, edited, sent
    page.fill("#body", CHINESE_DRAFT)
    assert (
        "Deutsch" in page.locator("#translate-draft").inner_text()
        or "德语" in page.locator("#translate-draft").inner_text()
    )
    page.locator("#body").press("Control+Shift+L")
    box = page.locator("#translation")
    box.wait_for()
    page.wait_for_function("document.getElementById('translation').value.includes('Bestellung')")
    edited = box.input_value().strip() + " Mit freundlichen Grüßen"
    box.fill(edited)
    page.screenshot(path=str(tmp_path / "translated-draft.png"), full_page=True)
    page.locator("#send").click()
    page.wait_for_url(f"{base}/tickets/{ticket_id}")

    # the buyer got the edited German; the ticket shows it and what the agent wrote
    out = page.locator("article.message.out").first
    out.wait_for()
    assert edited in out.locator(".body").inner_text()
    assert CHINESE_DRAFT in out.locator(".written-text").inner_text()
    with live_server.app.app_context():
        sent = db.session.scalar(sa.select(Message).where(Message.direction == "out"))
        assert sent.body_text == edited
    assert [r.body_text for r in TranslatedOutbox.sent] == [edited]

    # the original buyer message is still on the page, its translation one click away
    buyer = page.locator("article.message.in").first
    assert buyer.locator(".body").inner_text() == GERMAN
    assert "订单" in buyer.locator(".translated-text").inner_text()
    page.screenshot(path=str(tmp_path / "translated-ticket.png"), full_page=True)


def test_a_pending_translation_fills_in_when_its_job_finishes(browser: Any, live_server: Any, ticket_id: int) -> None:
    """The job runs elsewhere (a worker): the open page shows progress, then the translation, without a reload
    (the message.translated event over Socket.IO, or the page asking again every few seconds)."""
    from helpdesk.extensions import db
    from helpdesk.tickets.models import Message
    from helpdesk.translation import services
    from helpdesk.translation.models import MessageTranslation

    with live_server.app.app_context():
        message_id = db.session.scalar(sa.select(Message.id).where(Message.direction == "in"))
        row, _queue = services.request_translation(db.session, message_id, "zh")  # pending; no job is queued
        db.session.commit()
        row_id = row.id
    page = sign_in(browser, live_server.url, "cn@example.test")
    page.goto(f"{live_server.url}/tickets/{ticket_id}")
    buyer = page.locator("article.message.in").first
    buyer.locator(".translation-progress").wait_for()
    assert buyer.locator(".translated-text").count() == 0
    page.locator("#live-state.online").wait_for()

    with live_server.app.app_context():  # what the worker's job does, committing message.translated
        services.run_message_translation(db.session, row_id)
        db.session.commit()
        assert db.session.get(MessageTranslation, row_id).status == "done"
    buyer.locator(".translated-text").wait_for(timeout=15_000)
    assert "订单" in buyer.locator(".translated-text").inner_text()
    assert buyer.locator(".body").inner_text() == GERMAN
