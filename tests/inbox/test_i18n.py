"""The UI speaks the agent's language and time zone; each user chooses both."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.web import login, post

pytestmark = pytest.mark.usefixtures("compiled_translations")


def test_chinese_agent_gets_the_chinese_ui(client: Any, make_user: Any, world: Any, make_ticket: Any) -> None:
    from helpdesk.tickets.models import TicketStatus

    make_ticket(status=TicketStatus.OPEN)
    user = make_user("cn@example.test", name="王芳", locale="zh_Hans_CN", timezone="Asia/Shanghai", role="lead")
    login(client, user)
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-Hans">' in html
    assert "全部未结" in html and "我的未结工单" in html and "处理中" in html
    assert "All open" not in html


def test_dates_follow_the_users_time_zone(client: Any, make_user: Any, world: Any, make_ticket: Any) -> None:
    ticket = make_ticket(last_message_at=datetime(2026, 1, 5, 23, 30, tzinfo=ZoneInfo("UTC")))
    user = make_user("tokyo@example.test", timezone="Asia/Tokyo", role="lead")
    login(client, user)
    html = client.get("/").get_data(as_text=True)
    assert f'data-ticket-id="{ticket.id}"' in html
    assert "1/6/26, 8:30" in html  # 23:30 UTC is 08:30 next day in Tokyo


def test_user_picks_language_and_time_zone(client: Any, session: Any, world: Any) -> None:
    login(client, world.eu)
    assert "Asia/Shanghai" in client.get("/settings").get_data(as_text=True)
    response = post(client, "/settings", {"locale": "zh_Hans", "timezone": "Asia/Shanghai"}, "/settings")
    assert response.status_code == 302
    session.refresh(world.eu)
    assert (world.eu.locale, world.eu.timezone) == ("zh_Hans", "Asia/Shanghai")
    assert "偏好设置已保存" in client.get("/settings").get_data(as_text=True)
    bad = post(client, "/settings", {"locale": "xx", "timezone": "Mars/Olympus"}, "/settings")
    assert bad.status_code == 422
    session.refresh(world.eu)
    assert world.eu.locale == "zh_Hans"


def test_settings_need_csrf(client: Any, world: Any) -> None:
    login(client, world.eu)
    assert client.post("/settings", data={"locale": "en", "timezone": "UTC"}).status_code == 400


def test_vendor_route_serves_only_whitelisted_files(client: Any, world: Any) -> None:
    assert client.get("/vendor/../package.json").status_code == 404
    assert client.get("/vendor/package.json").status_code == 404
    response = client.get("/vendor/socket.io.min.js")
    assert response.status_code in (200, 404)  # 404 only before `make assets` installed node_modules
    if response.status_code == 200:
        assert response.mimetype == "text/javascript"
        response.close()
