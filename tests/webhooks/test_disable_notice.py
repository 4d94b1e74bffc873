"""When the desk disables a webhook after a day of failures, every active admin hears of it in the bell; agents don't.

The notice names the endpoint and its last error and leads to the webhook's
page, where it is enabled again (as it is from the command line).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from helpdesk.api.tokens import create_token
from helpdesk.audit.models import AuditEvent
from helpdesk.notifications import services as notes
from helpdesk.notifications.models import Notification
from helpdesk.tasks import huey
from helpdesk.webhooks import services
from helpdesk.webhooks.models import WebhookSubscription
from helpdesk.webhooks.tasks import deliver_task
from tests.web import compiled_translations, fresh_globals_per_request, login, post, world

__all__ = ["compiled_translations", "fresh_globals_per_request", "world"]

SECRET_ENV = "HELPDESK_TEST_WEBHOOK_SECRET"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def down_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A receiver that answers every call with 503."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(503)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv(SECRET_ENV, "s3cret")
    services.forget_cache()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    huey.storage.flush_schedule()
    services.forget_cache()
    server.shutdown()
    server.server_close()


@pytest.fixture
def admins(make_user: Any, session: Any) -> tuple[Any, Any, Any]:
    ada = make_user("ada@example.test", name="Ada", role="admin")
    wu = make_user("wu@example.test", name="Wu", role="admin", locale="zh_Hans")
    former = make_user("former@example.test", name="Former", role="admin")
    former.active = False
    session.commit()
    return ada, wu, former


def _fail_for_a_day(session: Any, url: str) -> WebhookSubscription:
    """An endpoint whose calls fail at 08:00 and again 25 hours later: the second failure disables it."""
    sub = WebhookSubscription(name="erp", url=url, secret_env=SECRET_ENV, events=["*"])
    session.add(sub)
    session.commit()
    for ticket_id, when in ((7, START), (8, START + timedelta(hours=25))):
        with time_machine.travel(when, tick=False):
            [delivery_id] = services.queue_deliveries(session, "ticket.updated", {"ticket_id": ticket_id})
            session.commit()
            deliver_task(delivery_id)
    session.expire_all()
    return sub


def _notices(session: Any, user: Any) -> list[Notification]:
    return list(session.scalars(sa.select(Notification).where(Notification.user_id == user.id)))


def test_every_active_admin_is_told_which_endpoint_was_disabled_and_why(
    app: Any, session: Any, world: Any, admins: Any, down_url: str
) -> None:
    ada, wu, former = admins
    sub = _fail_for_a_day(session, down_url)
    assert not sub.active and sub.auto_disabled_at is not None

    for admin in (ada, wu):
        [notice] = _notices(session, admin)
        assert (notice.kind, notice.ticket_id, notice.read_at) == ("webhook_disabled", None, None)
        error = "HTTP 503 Service Unavailable"
        assert notice.data == {"webhook_id": sub.id, "name": "erp", "url": down_url, "error": error}
        assert notes.unread_count(session, admin.id) == 1
    for person in (world.eu, world.asia_agent, world.lead, former):  # agents, a lead, a deactivated admin
        assert _notices(session, person) == []
    assert notes.recount(session) == {}  # the kept unread counts agree with a count from scratch
    # the CLI lists it, with the URL and the error, like any notification
    out = app.test_cli_runner().invoke(args=["helpdesk", "notifications", "list", "--user", "ada@example.test"])
    assert out.exit_code == 0
    assert f"webhook_disabled  webhook erp ({down_url}) disabled: HTTP 503 Service Unavailable" in out.output
    assert "1 unread." in out.output
    # and so does the API, as a notice about no ticket
    _, raw = create_token(session, ada, "notifier")
    session.commit()
    listed = app.test_client().get("/api/v1/notifications", headers={"Authorization": f"Bearer {raw}"}).get_json()
    assert [(n["kind"], n["ticket_id"], n["data"]["url"]) for n in listed["notifications"]] == [
        ("webhook_disabled", None, down_url)
    ]


def test_the_bell_and_the_page_show_the_notice_which_leads_to_the_page_that_enables_the_webhook(
    app: Any, session: Any, world: Any, admins: Any, down_url: str, compiled_translations: None
) -> None:
    ada, wu, _ = admins
    sub = _fail_for_a_day(session, down_url)
    notice = _notices(session, ada)[0]

    client = app.test_client()
    login(client, ada)
    home = client.get("/").get_data(as_text=True)
    assert 'id="bell-count">1</span>' in home
    page = client.get("/notifications/").get_data(as_text=True)
    assert f"Outbound webhook erp ({down_url}) was disabled after 24 hours of failed calls" in page
    assert "Last error: HTTP 503 Service Unavailable" in page
    assert f'href="/admin/webhooks/{sub.id}"' in page
    opened = post(client, f"/notifications/{notice.id}/open", {}, token_from="/notifications/")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/admin/webhooks/{sub.id}")
    assert notes.unread_count(session, ada.id) == 0
    webhook_page = client.get(f"/admin/webhooks/{sub.id}").get_data(as_text=True)
    assert "Disabled automatically" in webhook_page and ">Enable</button>" in webhook_page
    enabled = post(client, f"/admin/webhooks/{sub.id}/active", {"active": "1"}, token_from=f"/admin/webhooks/{sub.id}")
    assert enabled.status_code == 302
    session.expire_all()
    assert sub.active and sub.auto_disabled_at is None and sub.failing_since is None

    # in Chinese for an admin who reads Chinese
    zh = app.test_client()
    login(zh, wu)
    assert "已停用" in zh.get("/notifications/").get_data(as_text=True)

    # an agent sees nothing of it, and cannot open it
    agent = app.test_client()
    login(agent, world.eu)
    assert down_url not in agent.get("/notifications/").get_data(as_text=True)
    assert post(agent, f"/notifications/{notice.id}/open", {}, token_from="/notifications/").status_code == 404


def test_the_cli_enables_and_disables_a_webhook(app: Any, session: Any, admins: Any, down_url: str) -> None:
    sub = _fail_for_a_day(session, down_url)
    runner = app.test_cli_runner()

    out = runner.invoke(args=["helpdesk", "webhooks", "enable", "erp"])
    assert out.exit_code == 0, out.output
    assert f"Enabled erp; the next events are sent to {down_url}." in out.output
    assert "2 failed deliveries are not resent by themselves" in out.output
    session.expire_all()
    assert sub.active and sub.auto_disabled_at is None and sub.failing_since is None
    assert runner.invoke(args=["helpdesk", "webhooks", "enable", "erp"]).output == "erp is already enabled.\n"

    out = runner.invoke(args=["helpdesk", "webhooks", "disable", "erp"])
    assert out.exit_code == 0 and "Disabled erp" in out.output
    session.expire_all()
    assert not sub.active and sub.auto_disabled_at is None  # paused by hand, not by the desk
    actions = session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["webhook.auto_disabled", "webhook.enabled", "webhook.disabled"]
    assert runner.invoke(args=["helpdesk", "webhooks", "enable", "nope"]).exit_code == 2
