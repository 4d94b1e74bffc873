"""Every attempt of a delivery is on record (code, latency, answer excerpt or error); admins retry failed ones."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk.audit.models import AuditEvent
from helpdesk.webhooks import services
from helpdesk.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from tests.web import fresh_globals_per_request, login, post

__all__ = ["fresh_globals_per_request"]

SECRET_ENV = "HELPDESK_TEST_WEBHOOK_SECRET"


@dataclass
class Receiver:
    url: str
    # (status, content type, body) answered in turn; the last one repeats
    answers: list[tuple[int, str, bytes]] = field(default_factory=lambda: [(200, "text/plain", b"ok")])
    calls: int = 0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            status, kind, body = box.answers[min(box.calls, len(box.answers) - 1)]
            box.calls += 1
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield box
    server.shutdown()
    server.server_close()


@pytest.fixture
def sub(session: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookSubscription]:
    monkeypatch.setenv(SECRET_ENV, "s3cret")
    row = WebhookSubscription(name="erp", url=receiver.url, secret_env=SECRET_ENV, events=["*"])
    session.add(row)
    session.commit()
    services.forget_cache()
    yield row
    services.forget_cache()


def _attempts(session: Any, delivery_id: int) -> list[WebhookAttempt]:
    session.expire_all()
    stmt = sa.select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id).order_by(WebhookAttempt.number)
    return list(session.scalars(stmt))


def test_each_attempt_keeps_code_latency_and_a_text_excerpt(session: Any, sub: Any, receiver: Receiver) -> None:
    long_page = ("Datenbank gesperrt — 请稍后再试. " * 40).encode()
    receiver.answers = [
        (503, "text/html; charset=utf-8", long_page),
        (500, "image/png", b"\x89PNG\r\n\x1a\n\x00\x00binary"),
        (202, "application/json", b'{"queued": true}'),
    ]
    [delivery_id] = services.queue_deliveries(session, "ticket.created", {"ticket_id": 1})
    for _ in range(2):
        with pytest.raises(services.DeliveryFailed):
            services.deliver(session, delivery_id)
    services.deliver(session, delivery_id)
    session.commit()
    first, second, third = _attempts(session, delivery_id)
    assert [a.number for a in (first, second, third)] == [1, 2, 3]
    assert [a.response_status for a in (first, second, third)] == [503, 500, 202]
    assert all(a.latency_ms is not None and 0 <= a.latency_ms < 10_000 for a in (first, second, third))
    assert first.response_excerpt == long_page.decode()[:500].strip()
    assert len(first.response_excerpt) == 500 and first.error is None
    assert second.response_excerpt is None  # binary answers are not kept
    assert third.response_excerpt == '{"queued": true}'
    assert session.get(WebhookDelivery, delivery_id).status == "delivered"


def test_an_unreachable_receiver_is_an_attempt_with_an_error(session: Any, sub: Any) -> None:
    sub.url = "http://127.0.0.1:9/nothing-listens-here"
    session.commit()
    [delivery_id] = services.queue_deliveries(session, "ticket.created", {"ticket_id": 1})
    with pytest.raises(services.DeliveryFailed):
        services.deliver(session, delivery_id)
    session.commit()
    [attempt] = _attempts(session, delivery_id)
    assert attempt.response_status is None and attempt.response_excerpt is None
    assert "could not reach http://127.0.0.1:9/nothing-listens-here" in (attempt.error or "")


def test_admin_reads_attempts_and_retries_a_failed_delivery(
    client: Any, session: Any, sub: Any, receiver: Receiver, make_user: Any
) -> None:
    admin = make_user("admin@example.test", name="Ada", role="admin")
    agent = make_user("agent@example.test", name="Bo", role="agent")
    receiver.answers = [(500, "text/plain", b"inventory service down"), (200, "text/plain", b"thanks")]
    [delivery_id] = services.queue_deliveries(session, "ticket.created", {"ticket_id": 1})
    with pytest.raises(services.DeliveryFailed):
        services.deliver(session, delivery_id)
    session.commit()
    retry_path = f"/admin/webhooks/{sub.id}/deliveries/{delivery_id}/retry"

    login(client, agent)
    assert post(client, retry_path, {}).status_code == 404
    post(client, "/logout", {})

    login(client, admin)
    page = client.get(f"/admin/webhooks/{sub.id}").get_data(as_text=True)
    assert "inventory service down" in page and retry_path in page
    assert client.post(retry_path, data={}).status_code == 400  # no CSRF token: refused
    assert receiver.calls == 1
    done = post(client, retry_path, {}, token_from=f"/admin/webhooks/{sub.id}")
    assert done.status_code == 302
    assert receiver.calls == 2
    session.expire_all()
    assert session.get(WebhookDelivery, delivery_id).status == "delivered"
    page = client.get(f"/admin/webhooks/{sub.id}").get_data(as_text=True)
    assert page.index("thanks") < page.index("inventory service down")  # latest attempt first
    assert retry_path not in page  # nothing left to retry
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "webhook.delivery_retried")).one()
    assert event.actor_id == admin.id and event.data["delivery_id"] == delivery_id
    # a delivered one cannot be retried: nothing is sent again
    post(client, retry_path, {}, token_from=f"/admin/webhooks/{sub.id}")
    assert receiver.calls == 2


def test_cli_lists_deliveries_and_retries(app: Any, session: Any, sub: Any, receiver: Receiver) -> None:
    receiver.answers = [(502, "text/plain", b"bad gateway from proxy"), (204, "text/plain", b"")]
    [delivery_id] = services.queue_deliveries(session, "ticket.created", {"ticket_id": 1})
    with pytest.raises(services.DeliveryFailed):
        services.deliver(session, delivery_id)
    session.commit()
    runner = app.test_cli_runner()
    listing = runner.invoke(args=["helpdesk", "webhooks", "deliveries", "erp"])
    assert listing.exit_code == 0, listing.output
    assert (
        f"#{delivery_id}" in listing.output and "502" in listing.output and "bad gateway from proxy" in listing.output
    )
    assert f"webhooks retry {delivery_id}" in listing.output
    unknown = runner.invoke(args=["helpdesk", "webhooks", "deliveries", "nope"])
    assert unknown.exit_code != 0 and "No webhook named nope" in unknown.output

    again = runner.invoke(args=["helpdesk", "webhooks", "retry", str(delivery_id)])
    assert again.exit_code == 0, again.output
    assert receiver.calls == 2
    session.expire_all()
    assert session.get(WebhookDelivery, delivery_id).status == "delivered"
    refused = runner.invoke(args=["helpdesk", "webhooks", "retry", str(delivery_id)])
    assert refused.exit_code != 0 and "Only a failed delivery can be retried" in refused.output
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "webhook.delivery_retried")).one()
    assert event.data["via"] == "cli"
