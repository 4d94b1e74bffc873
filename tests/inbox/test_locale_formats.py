"""English users choose their region: the words stay English, dates follow the region's format."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.web import login, post

pytestmark = pytest.mark.usefixtures("compiled_translations")

WHEN = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("locale", "shown", "not_shown"),
    [("en_GB", "03/12/2026, 10:00", "12/3/26"), ("en_US", "12/3/26", "03/12/2026"), ("en_AU", "3/12/26", "12/3/26")],
)
def test_dates_follow_the_chosen_english_region(
    client: Any, make_user: Any, world: Any, make_ticket: Any, locale: str, shown: str, not_shown: str
) -> None:
    ticket = make_ticket(last_message_at=WHEN)
    user = make_user(f"{locale}@example.test", locale=locale, timezone="UTC", role="lead")
    login(client, user)
    html = client.get("/").get_data(as_text=True)
    assert f'data-ticket-id="{ticket.id}"' in html
    assert f'<html lang="{locale.replace("_", "-")}">' in html
    assert shown in html and not_shown not in html
    assert "All open" in html  # the English catalog (the source text) serves every region


def test_settings_offer_english_regions_and_save_one(client: Any, session: Any, world: Any, make_ticket: Any) -> None:
    make_ticket(last_message_at=WHEN)
    login(client, world.eu)
    page = client.get("/settings").get_data(as_text=True)
    for code, name in [
        ("en_US", "English (United States)"),
        ("en_GB", "English (United Kingdom)"),
        ("en_IN", "English (India)"),
    ]:
        assert f'<option value="{code}"' in page and name in page
    assert '<option value="en_US" selected>' in page  # a user stored as plain "en" has US formats
    assert post(client, "/settings", {"locale": "en_GB", "timezone": "Europe/London"}, "/settings").status_code == 302
    session.refresh(world.eu)
    assert world.eu.locale == "en_GB"
    assert '<option value="en_GB" selected>' in client.get("/settings").get_data(as_text=True)
    assert "03/12/2026" in client.get("/").get_data(as_text=True)
    assert post(client, "/settings", {"locale": "en_XX", "timezone": "UTC"}, "/settings").status_code == 422
