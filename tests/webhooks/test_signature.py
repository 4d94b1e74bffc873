"""A receiver that trusts a call only through the documented recipe accepts ours and refuses replays and tampering.

The receiver's check is the Python snippet of docs/webhooks.md, copied here
verbatim (and compared with the docs, so the two cannot drift); the Node
snippet runs under the real ``node`` against a real delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from helpdesk.webhooks import services
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription

SECRET_ENV = "HELPDESK_TEST_WEBHOOK_SECRET"
SECRET = "whsec-test-456"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"

# --- the documented Python snippet, verbatim --------------------------------------------------------------------
RECEIVER_CODE = '''
import hashlib
import hmac
import time

TOLERANCE_S = 300


def verify(secret: str, body: bytes, header: str, now: float | None = None) -> bool:
    """True if `header` (X-Helpdesk-Signature) signs `body` (the raw bytes) within the last 5 minutes."""
    timestamp, candidates = "", []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            candidates.append(value)
    if not timestamp.isdigit() or not candidates:
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > TOLERANCE_S:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
'''
_receiver_ns: dict[str, Any] = {}
exec(RECEIVER_CODE, _receiver_ns)
verify = _receiver_ns["verify"]


def _doc_block(lang: str) -> str:
    blocks = re.findall(rf"```{lang}\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    return next(b for b in blocks if "def verify" in b or "function verify" in b)


@dataclass
class Receiver:
    url: str
    now: float | None = None  # the receiver's clock; None = the real one
    verdicts: list[bool] = field(default_factory=list)
    calls: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    box = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            ok = verify(SECRET, body, self.headers.get("X-Helpdesk-Signature", ""), box.now)
            box.verdicts.append(ok)
            box.calls.append((dict(self.headers), body))
            self.send_response(204 if ok else 400)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield box
    server.shutdown()
    server.server_close()


@pytest.fixture
def delivery_id(session: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    session.add(WebhookSubscription(name="erp", url=receiver.url, secret_env=SECRET_ENV, events=["*"]))
    session.commit()
    services.forget_cache()
    [row_id] = services.queue_deliveries(session, "ticket.created", {"ticket_id": 7, "subject": "Wo ist 包裹?"})
    session.commit()
    yield row_id
    services.forget_cache()


def _post(url: str, headers: dict[str, str], body: bytes) -> int:
    keep = {k: v for k, v in headers.items() if k.lower().startswith("x-helpdesk") or k.lower() == "content-type"}
    request = urllib.request.Request(url, data=body, method="POST", headers=keep)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_documented_snippets_are_the_tested_ones() -> None:
    assert _doc_block("python").strip() == RECEIVER_CODE.strip()
    assert "timingSafeEqual" in _doc_block("js")


def test_receiver_accepts_a_delivery_and_refuses_its_replay_and_a_tampered_body(
    session: Any, receiver: Receiver, delivery_id: int
) -> None:
    services.deliver(session, delivery_id)
    assert receiver.verdicts == [True]
    assert session.get(WebhookDelivery, delivery_id).status == "delivered"
    headers, body = receiver.calls[0]
    stamp = int(re.match(r"t=(\d+),v1=[0-9a-f]{64}$", headers["X-Helpdesk-Signature"]).group(1))
    assert abs(stamp - time.time()) < 60

    # the same captured call, replayed six minutes later, is refused
    receiver.now = stamp + 6 * 60
    assert _post(receiver.url, headers, body) == 400
    # ... as it is when the attacker swaps in a fresh timestamp (the signature covers it)
    fresh = dict(
        headers, **{"X-Helpdesk-Signature": headers["X-Helpdesk-Signature"].replace(f"t={stamp}", f"t={stamp + 360}")}
    )
    receiver.now = stamp + 360
    assert _post(receiver.url, fresh, body) == 400
    # a tampered body with the genuine header, inside the tolerance, is refused
    receiver.now = stamp + 1
    tampered = body.replace(b'"ticket_id": 7', b'"ticket_id": 8')
    assert tampered != body
    assert _post(receiver.url, headers, tampered) == 400
    # and the untouched call within the tolerance still passes: the refusals above are the check working
    assert _post(receiver.url, headers, body) == 204
    assert receiver.verdicts == [True, False, False, False, True]


def test_each_attempt_is_signed_at_its_own_time(session: Any, receiver: Receiver, delivery_id: int) -> None:
    receiver.now = 1_800_000_000
    services.deliver(session, delivery_id, clock=lambda: 1_800_000_000.7)
    headers, body = receiver.calls[0]
    signed = b"1800000000." + body
    v1 = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert headers["X-Helpdesk-Signature"] == f"t=1800000000,v1={v1}"
    # the deprecated body-only value is still sent this release
    assert (
        headers["X-Helpdesk-Signature-Body"] == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    )
    assert json.loads(body)["data"]["subject"] == "Wo ist 包裹?"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_documented_node_snippet_verifies_a_real_delivery(
    session: Any, receiver: Receiver, delivery_id: int, tmp_path: Path
) -> None:
    services.deliver(session, delivery_id)
    headers, body = receiver.calls[0]
    (tmp_path / "body.bin").write_bytes(body)
    stamp = int(headers["X-Helpdesk-Signature"].split(",")[0][2:])
    script = _doc_block("js") + (
        "const fs = require('node:fs');\n"
        "const [secret, header, file, now] = process.argv.slice(2);\n"
        "let body = fs.readFileSync(file);\n"
        "process.stdout.write(String(verify(secret, body, header, Number(now))));\n"
    )
    (tmp_path / "verify.js").write_text(script, encoding="utf-8")

    def node(header: str, file: str, now: int) -> str:
        run = subprocess.run(
            ["node", str(tmp_path / "verify.js"), SECRET, header, str(tmp_path / file), str(now)],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return run.stdout

    assert node(headers["X-Helpdesk-Signature"], "body.bin", stamp + 10) == "true"
    assert node(headers["X-Helpdesk-Signature"], "body.bin", stamp + 301) == "false"  # replay after 5 minutes
    (tmp_path / "tampered.bin").write_bytes(body + b" ")
    assert node(headers["X-Helpdesk-Signature"], "tampered.bin", stamp + 10) == "false"
