"""An admin sets up a team and an agent in a real browser; the agent then sees exactly that store's tickets."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import InboundMessage, Party
from tests.browser.test_agent_flow import PASSWORD, sign_in
from tests.conftest import T0

pytestmark = pytest.mark.browser


@pytest.fixture
def two_stores(live_server: Any) -> None:
    from helpdesk.accounts.services import create_user
    from helpdesk.channelaccounts.models import ChannelAccount
    from helpdesk.extensions import db
    from helpdesk.ingest.pipeline import ingest

    with live_server.app.app_context():
        s = db.session
        s.add_all(
            [
                ChannelAccount(name="shop-us", kind="ebay", platform="ebay", display_name="Lamp Shop US", site="US"),
                ChannelAccount(
                    name="shop-jp", kind="amazon", platform="amazon", display_name="Lamp Shop JP", site="JP"
                ),
            ]
        )
        s.flush()
        create_user(s, "admin@example.test", "Ada", PASSWORD, role="admin")
        ingest(
            s,
            [
                InboundMessage(
                    channel=platform,
                    account=account,
                    platform=platform,
                    external_id=f"m-{account}",
                    external_thread_id=f"t-{account}",
                    sent_at=T0,
                    sender=Party(platform_id=f"buyer-{account}", name="Buyer"),
                    subject=subject,
                    body_text=subject,
                )
                for account, platform, subject in [
                    ("shop-us", "ebay", "Lamp arrived broken"),
                    ("shop-jp", "amazon", "Invoice please"),
                ]
            ],
            source="test",
        )
        s.commit()


def test_an_admin_creates_a_team_and_an_agent_who_then_sees_the_teams_store(
    browser: Any, live_server: Any, two_stores: None
) -> None:
    base = live_server.url
    admin = sign_in(browser, base, "admin@example.test")
    admin.get_by_role("link", name="Administration").click()
    admin.get_by_role("link", name="Teams").click()
    admin.get_by_label("New team").fill("Americas")
    admin.get_by_role("button", name="Create team").click()
    admin.get_by_text("Team Americas created").wait_for()
    admin.get_by_label("Lamp Shop US").check()
    admin.get_by_role("button", name="Save stores").click()
    admin.get_by_text("Stores of Americas saved").wait_for()
    assert admin.get_by_label("Lamp Shop US").is_checked() and not admin.get_by_label("Lamp Shop JP").is_checked()

    admin.goto(f"{base}/admin/")
    admin.get_by_role("link", name="Users").click()
    admin.get_by_role("link", name="New user").click()
    admin.get_by_label("Name", exact=True).fill("Uma")
    admin.get_by_label("E-mail", exact=True).fill("uma@example.test")
    admin.get_by_label("Set an initial password").check()
    admin.get_by_label("Initial password", exact=True).fill(PASSWORD)
    admin.get_by_label("Americas", exact=True).check()
    admin.get_by_role("button", name="Create user").click()
    admin.get_by_text("User uma@example.test created").wait_for()
    row = admin.locator('tr[data-email="uma@example.test"]')
    assert "Americas" in row.inner_text() and "Agent" in row.inner_text()

    agent = sign_in(browser, base, "uma@example.test")
    agent.get_by_text("Lamp arrived broken").wait_for()
    assert agent.get_by_text("Invoice please").count() == 0
    assert agent.goto(f"{base}/admin/users").status == 404


def test_the_last_admin_is_told_why_they_cannot_deactivate_themselves(
    browser: Any, live_server: Any, two_stores: None
) -> None:
    admin = sign_in(browser, live_server.url, "admin@example.test")
    admin.goto(f"{live_server.url}/admin/users")
    admin.locator('tr[data-email="admin@example.test"]').get_by_role("button", name="Deactivate").click()
    admin.get_by_text("Ada is the last active admin; make another user admin first.").wait_for()
    from helpdesk.accounts.models import User
    from helpdesk.extensions import db

    with live_server.app.app_context():
        assert db.session.scalar(sa.select(User.active).where(User.email == "admin@example.test")) is True
