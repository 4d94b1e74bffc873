"""Outbound webhooks: subscribed events reach a real HTTP endpoint on loopback, signed; failures are recorded."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import Party
from helpdesk.ingest.pipeline import ingest
from helpdesk.sla.policies import seed_defaults
from helpdesk.webhooks import services
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription

SECRET_ENV = "HELPDESK_TEST_WEBHOOK_SECRET"
SECRET = "whsec-test-123"


@dataclass
class Receiver:
    url: str
    status: int = 200
    calls: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            box.calls.append((dict(self.headers), body))
            self.send_response(box.status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/helpdesk"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box
    server.shutdown()
    server.server_close()


@pytest.fixture
def subscribed(session: Any, receiver: Receiver, make_account: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    make_account(name="amz-us", kind="email", platform="amazon", site="US")
    seed_defaults(session)
    sub = WebhookSubscription(name="erp", url=receiver.url, secret_env=SECRET_ENV, events=["sla.breached"])
    session.add(sub)
    session.commit()
    services.forget_cache()
    yield sub
    services.forget_cache()


def test_subscribed_event_is_posted_and_signed(
    session: Any, subscribed: Any, receiver: Receiver, make_message: Any
) -> None:
    # a January buyer message ingested now: its 24-hour Amazon clock is breached on write
    ingest(
        session, [make_message(account="amz-us", channel="email", sender=Party(email="b@example.test"))], source="test"
    )
    session.commit()
    assert len(receiver.calls) == 1  # message.received and ticket.created are not subscribed
    headers, body = receiver.calls[0]
    stamp = headers["X-Helpdesk-Signature"].split(",")[0].removeprefix("t=")
    expected = f"t={stamp},v1=" + hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Helpdesk-Signature"], expected)
    assert headers["X-Helpdesk-Event"] == "sla.breached"
    sent = json.loads(body)
    assert sent["event"] == "sla.breached"
    assert sent["data"]["clock"] == "first_response"
    delivery = session.scalars(sa.select(WebhookDelivery)).one()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 1, 200)
    assert headers["X-Helpdesk-Delivery"] == str(delivery.id)


def test_refused_call_is_recorded_for_retry(session: Any, subscribed: Any, receiver: Receiver) -> None:
    receiver.status = 500
    [delivery_id] = services.queue_deliveries(session, "sla.breached", {"ticket_id": 1})
    with pytest.raises(services.DeliveryFailed, match="HTTP 500"):
        services.deliver(session, delivery_id)
    delivery = session.get(WebhookDelivery, delivery_id)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 1, 500)
    receiver.status = 204
    services.deliver(session, delivery_id)  # the queue's retry
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert len(receiver.calls) == 2
    assert receiver.calls[0][1] == receiver.calls[1][1]  # a retry resends the same body, same delivery id


def test_missing_secret_fails_without_calling(
    session: Any, subscribed: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV)
    [delivery_id] = services.queue_deliveries(session, "sla.breached", {"ticket_id": 1})
    services.deliver(session, delivery_id)
    delivery = session.get(WebhookDelivery, delivery_id)
    assert delivery.status == "failed"
    assert SECRET_ENV in (delivery.last_error or "")
    assert receiver.calls == []


def test_unreachable_endpoint_is_a_retryable_failure(session: Any, subscribed: Any) -> None:
    subscribed.url = "http://127.0.0.1:9/nothing-listens-here"
    session.commit()
    [delivery_id] = services.queue_deliveries(session, "sla.breached", {"ticket_id": 1})
    with pytest.raises(services.DeliveryFailed, match="could not reach"):
        services.deliver(session, delivery_id)


def test_cli_validates_and_lists(app: Any, session: Any) -> None:
    runner = app.test_cli_runner()
    bad = runner.invoke(
        args=[
            "helpdesk",
            "webhooks",
            "add",
            "--name",
            "x",
            "--url",
            "ftp://x",
            "--events",
            "sla.breached",
            "--secret-env",
            "S",
        ]
    )
    assert bad.exit_code != 0 and "not an http(s) URL" in bad.output
    unknown = runner.invoke(
        args=[
            "helpdesk",
            "webhooks",
            "add",
            "--name",
            "x",
            "--url",
            "https://erp.example/h",
            "--events",
            "sla.exploded",
            "--secret-env",
            "S",
        ]
    )
    assert unknown.exit_code != 0 and "Unknown events: sla.exploded" in unknown.output
    ok = runner.invoke(
        args=[
            "helpdesk",
            "webhooks",
            "add",
            "--name",
            "erp",
            "--url",
            "https://erp.example/h",
            "--events",
            "sla.warning,sla.breached",
            "--secret-env",
            "ERP_WEBHOOK_SECRET",
        ]
    )
    assert ok.exit_code == 0, ok.output
    listing = runner.invoke(args=["helpdesk", "webhooks", "list"])
    assert "erp" in listing.output and "sla.warning,sla.breached" in listing.output
