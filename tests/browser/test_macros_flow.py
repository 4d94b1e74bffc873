"""An agent answers with a macro in a real browser: fuzzy search, a preview in the buyer's language, actions on send."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.browser.test_agent_flow import PASSWORD, sign_in
from tests.conftest import T0
from tests.tickets.test_reply import OutboxConnector

pytestmark = pytest.mark.browser


@pytest.fixture
def german_ticket(live_server: Any) -> int:
    from channels.base import InboundMessage, Party
    from helpdesk.accounts.services import create_user
    from helpdesk.channelaccounts.models import ChannelAccount
    from helpdesk.extensions import db
    from helpdesk.ingest.pipeline import ingest
    from helpdesk.macros.models import StoredMacro
    from helpdesk.tickets.models import Ticket

    OutboxConnector.sent = []
    OutboxConnector.FAILURES = []
    with live_server.app.app_context():
        s = db.session
        s.add(
            ChannelAccount(
                name="shop-de", kind="test-outbox", platform="ebay", display_name="Shop DE", site="DE",
                default_language="de",
            )
        )  # fmt: skip
        create_user(s, "lead@example.test", "Lena Lead", PASSWORD, role="lead")
        s.add(
            StoredMacro(
                key="paket-unterwegs",
                source="custom",
                titles={"en": "Parcel on its way", "de": "Paket unterwegs"},
                descriptions={"en": "The parcel left our warehouse."},
                bodies={
                    "en": "Hello {{ customer.first_name }}, your parcel is on its way.",
                    "de": "Hallo {{ customer.first_name }}, Ihr Paket ist unterwegs.",
                },
                tags=["shipping"],
                platforms=[],
                actions={"status": "pending", "add_tags": ["tracking-sent"]},
            )
        )
        ingest(
            s,
            [
                InboundMessage(
                    channel="test-outbox", account="shop-de", external_id="m-1", sent_at=T0,
                    sender=Party(platform_id="jonas_w", name="Jonas Weber"), subject="Paket?",
                    body_text="Hallo, mein Paket ist noch nicht angekommen. Können Sie bitte nachsehen?", language="de",
                    external_thread_id="t-1",
                )
            ],
            source="test",
        )  # fmt: skip
        s.commit()
        return int(s.scalar(sa.select(Ticket.id)))


def test_an_agent_answers_with_a_macro_in_the_buyers_language(
    browser: Any, live_server: Any, german_ticket: int
) -> None:
    from helpdesk.extensions import db
    from helpdesk.tickets.models import Ticket

    base = live_server.url
    page = sign_in(browser, base, "lead@example.test")
    page.goto(f"{base}/tickets/{german_ticket}")
    page.fill("#template", "parcle")  # a typo
    page.locator("#macro-results li", has_text="Parcel on its way").click()
    page.locator("#macro-text", has_text="Hallo Jonas, Ihr Paket ist unterwegs.").wait_for()
    assert "German" in page.inner_text("#macro-reason")
    assert "pending" in page.inner_text("#macro-actions")
    page.select_option("#macro-locale", "en")
    page.locator("#macro-text", has_text="Hello Jonas, your parcel is on its way.").wait_for()
    page.select_option("#macro-locale", "de")
    page.locator("#macro-text", has_text="Hallo Jonas").wait_for()
    page.locator("#macro-insert").click()
    assert page.input_value("#body").strip() == "Hallo Jonas, Ihr Paket ist unterwegs."
    page.locator("#send").click()
    page.locator(".message.out", has_text="Ihr Paket ist unterwegs.").wait_for()
    with live_server.app.app_context():
        ticket = db.session.get(Ticket, german_ticket)
        assert ticket.status == "pending" and [t.tag for t in ticket.tags] == ["tracking-sent"]
        db.session.remove()
