"""In a real browser: a reply with files (button and drop, the channel's limit checked), and a note that @mentions a
colleague, whose bell lights up live and leads back to the ticket."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
import sqlalchemy as sa

from channels import registry
from channels.base import AttachmentLimits, Capability, OutboundReply
from tests.browser.test_agent_flow import PASSWORD, sign_in
from tests.conftest import T0
from tests.tickets.test_reply import OutboxConnector

pytestmark = pytest.mark.browser


class FilesOutbox(OutboxConnector):
    """The recording connector, with files: two at most, 5 kB in all."""

    kind = "test-outbox-files"
    capabilities = frozenset({Capability.SEND_REPLY, Capability.ATTACHMENTS_OUT})
    attachment_limits = AttachmentLimits(max_attachments=2, max_attachment_bytes=5_000)
    sent: ClassVar[list[OutboundReply]] = []


registry.register(FilesOutbox)


@pytest.fixture
def ticket_id(live_server: Any) -> int:
    from channels.base import InboundMessage, Party
    from helpdesk.accounts.models import Team
    from helpdesk.accounts.services import create_user
    from helpdesk.channelaccounts.models import ChannelAccount
    from helpdesk.extensions import db
    from helpdesk.ingest.pipeline import ingest
    from helpdesk.tickets.models import Ticket

    FilesOutbox.sent = []
    with live_server.app.app_context():
        s = db.session
        account = ChannelAccount(name="shop", kind="test-outbox-files", platform=None, display_name="Shop")
        team = Team(name="Europe")
        s.add_all([account, team])
        s.flush()
        s.execute(
            sa.insert(sa.table("team_channel_account", sa.column("team_id"), sa.column("channel_account_id"))),
            [{"team_id": team.id, "channel_account_id": account.id}],
        )
        create_user(s, "eu@example.test", "Emil", PASSWORD, teams=[team])
        create_user(s, "lead@example.test", "Lena", PASSWORD, role="lead")
        create_user(s, "asia@example.test", "Leon Asia", PASSWORD, teams=[Team(name="Asia")])
        ingest(
            s,
            [
                InboundMessage(
                    channel="test-outbox-files", account="shop", external_id="m-1", external_thread_id="t-1",
                    sent_at=T0, sender=Party(platform_id="jonas", name="Jonas Weber"), subject="Invoice please",
                    body_text="Could you send me the invoice?",
                )
            ],
            source="test",
        )  # fmt: skip
        s.commit()
        return int(s.scalar(sa.select(Ticket.id)))


def drop(page: Any, name: str, content: str) -> None:
    """Drop a file on the composer, as dragging it from the desktop does."""
    transfer = page.evaluate_handle(
        """([name, content]) => { const dt = new DataTransfer();
             dt.items.add(new File([content], name, { type: "text/plain" })); return dt; }""",
        [name, content],
    )
    page.dispatch_event("#composer", "dragover", {"dataTransfer": transfer})
    page.dispatch_event("#composer", "drop", {"dataTransfer": transfer})


def test_a_reply_with_files_and_a_note_that_mentions_a_colleague(
    browser: Any, live_server: Any, ticket_id: int
) -> None:
    base = live_server.url
    lena = sign_in(browser, base, "lead@example.test")
    lena.locator("#live-state.online").wait_for()
    assert lena.locator("#bell-count").is_hidden()

    emil = sign_in(browser, base, "eu@example.test")
    emil.goto(f"{base}/tickets/{ticket_id}")
    emil.locator("#attach-limits", has_text="Up to 2 files, 5.0 kB in all.").wait_for()

    # a file from the button, one dropped; a third is one too many and the composer says so before sending
    emil.set_input_files(
        "#files", files=[{"name": "invoice-1042.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 x"}]
    )
    drop(emil, "notes.txt", "size M, colour blue")
    emil.locator("#attach-list li", has_text="notes.txt").wait_for()
    drop(emil, "extra.txt", "one more")
    emil.locator("#attach-error", has_text="At most 2 files.").wait_for()
    emil.get_by_role("button", name="Remove extra.txt").click()
    emil.locator("#attach-error").wait_for(state="hidden")
    assert emil.locator("#attach-list li").count() == 2

    emil.fill("#body", "Here is your invoice.")
    emil.locator("#send").click()
    emil.wait_for_url(f"{base}/tickets/{ticket_id}")
    emil.locator(".message.out .attachments a", has_text="invoice-1042.pdf").wait_for()
    (sent,) = FilesOutbox.sent
    assert [(a.filename, a.content_type, a.content) for a in sent.attachments] == [
        ("invoice-1042.pdf", "application/pdf", b"%PDF-1.4 x"),
        ("notes.txt", "text/plain", b"size M, colour blue"),
    ]

    # an internal note: "@Le" suggests Lena (who may see the ticket), not Leon of another team
    emil.check("#internal")
    emil.locator("#body").press_sequentially("Please check the VAT. @Le", delay=20)
    emil.locator("#mention-results li", has_text="Lena").wait_for()
    assert emil.locator("#mention-results li", has_text="Leon").count() == 0
    emil.locator("#body").press("Enter")
    assert emil.input_value("#body") == "Please check the VAT. @Lena "
    emil.locator("#send").click()
    emil.wait_for_url(f"{base}/tickets/{ticket_id}")
    emil.locator(".message.note", has_text="@Lena").wait_for()

    # Lena never reloaded: her bell shows the mention, the list leads to the ticket and marks it read
    lena.locator("#bell-count", has_text="1").wait_for(timeout=10_000)
    other_tab = lena.context.new_page()  # a second tab of hers, which must follow what the first one reads
    other_tab.goto(f"{base}/")
    other_tab.locator("#live-state.online").wait_for()
    assert other_tab.locator("#bell-count").inner_text() == "1"
    icon = other_tab.locator("#bell svg").bounding_box()  # an icon drawn by the page, no emoji font needed
    assert icon is not None and icon["width"] > 0 and icon["height"] > 0
    lena.locator("#bell").click()
    lena.get_by_role("button", name=f"Emil mentioned you in a note on #{ticket_id}").click()
    lena.wait_for_url(f"{base}/tickets/{ticket_id}*")
    lena.locator(".message.note", has_text="Please check the VAT.").wait_for()
    assert lena.locator("#bell-count").is_hidden()
    other_tab.locator("#bell-count").wait_for(state="hidden", timeout=10_000)  # never reloaded either
