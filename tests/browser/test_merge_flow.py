"""Merging in a real browser: pick, confirm, see it on a colleague's open page, undo it from the Merges list."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import Party
from helpdesk.tickets.models import Message, Ticket
from tests.browser.test_agent_flow import sign_in
from tests.conftest import T0

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


@pytest.fixture
def two_tickets(live_server: Any) -> dict[str, int]:
    """Jonas wrote twice about one parcel; the second message opened a second ticket."""
    from channels.base import InboundMessage
    from helpdesk.accounts.models import Team
    from helpdesk.accounts.services import create_user
    from helpdesk.channelaccounts.models import ChannelAccount
    from helpdesk.extensions import db
    from helpdesk.ingest.pipeline import ingest

    with live_server.app.app_context():
        s = db.session
        account = ChannelAccount(name="shop-de", kind="ebay", platform="ebay", display_name="Shop DE", site="DE")
        team = Team(name="Europe")
        s.add_all([account, team])
        s.flush()
        s.execute(
            sa.insert(sa.table("team_channel_account", sa.column("team_id"), sa.column("channel_account_id"))),
            [{"team_id": team.id, "channel_account_id": account.id}],
        )
        create_user(s, "eu@example.test", "Emil", PASSWORD, teams=[team])
        create_user(s, "lead@example.test", "Lena", PASSWORD, role="lead")
        ingest(
            s,
            [
                InboundMessage(
                    channel="ebay",
                    account="shop-de",
                    platform="ebay",
                    external_id=f"m-{n}",
                    external_thread_id=f"t-{n}",
                    sent_at=T0,
                    sender=Party(platform_id="jonas", name="Jonas Weber"),
                    subject=subject,
                    body_text=body,
                )
                for n, subject, body in (
                    (1, "Where is my parcel?", "Hello, where is my parcel?"),
                    (2, "Parcel again", "Any news about my parcel? It is the blue lamp."),
                )
            ],
            source="test",
        )
        s.commit()
        ids = {t.subject: t.id for t in s.scalars(sa.select(Ticket))}
    return {"target": ids["Where is my parcel?"], "source": ids["Parcel again"]}


def test_merge_confirm_and_undo(browser: Any, live_server: Any, two_tickets: dict[str, int]) -> None:
    base, source, target = live_server.url, two_tickets["source"], two_tickets["target"]
    moved_text = "It is the blue lamp."

    lena = sign_in(browser, base, "lead@example.test")  # has the target open the whole time
    lena.goto(f"{base}/tickets/{target}")
    lena.locator("#live-state.online").wait_for()

    emil = sign_in(browser, base, "eu@example.test")
    emil.goto(f"{base}/tickets/{source}")
    emil.select_option("#into", str(target))
    emil.locator("#merge-start").click()
    emil.wait_for_url(f"{base}/tickets/{source}/merge?into={target}")
    assert emil.get_by_role("heading", name=f"Merge ticket #{source} into #{target}?").is_visible()
    assert emil.locator("#merge-moves").inner_text().splitlines()[:3] == [
        "Messages: 1",
        "Internal notes: 0",
        "Attachments: 0",
    ]
    assert f"Merged into #{target}" in emil.locator("#merge-source-fate").inner_text()
    emil.locator("#merge-confirm").click()
    emil.wait_for_url(f"{base}/tickets/{target}")
    emil.locator(".message", has_text=moved_text).wait_for()
    emil.locator(".flash", has_text=f"Ticket #{source} was merged into this one").wait_for()

    # Lena's open page follows: it reloads and shows the moved message
    lena.locator(".message", has_text=moved_text).wait_for(timeout=10_000)

    # the merged ticket offers no reply box, only the way to the target
    emil.goto(f"{base}/tickets/{source}")
    assert emil.locator("#composer").count() == 0
    emil.get_by_role("link", name=f"Reply on #{target}").wait_for()

    emil.goto(f"{base}/tickets/{target}")
    emil.locator("#merges").get_by_role("button", name="Undo merge").click()
    emil.wait_for_url(f"{base}/tickets/{source}")
    emil.locator(".flash", has_text=f"Merge undone: ticket #{source} has its messages back.").wait_for()
    emil.locator(".message", has_text=moved_text).wait_for()
    assert emil.locator("#composer").is_visible()
    assert emil.locator("#merges").get_by_text("undone").first.is_visible()

    # on Lena's page, which she did not reload, the message moved away again
    lena.locator(".message", has_text=moved_text).wait_for(state="detached", timeout=10_000)
    assert lena.locator(".message", has_text="Hello, where is my parcel?").is_visible()

    from helpdesk.extensions import db

    with live_server.app.app_context():
        on_source = db.session.scalars(sa.select(Message.body_text).where(Message.ticket_id == source)).all()
    assert on_source == ["Any news about my parcel? It is the blue lamp."]
