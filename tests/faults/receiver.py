"""A webhook receiver on loopback that counts what reached it, as an integration that dedupes would.

Each POST is recorded (its ``X-Helpdesk-Delivery`` and its event) the moment
its body has arrived, before the answer: a sender killed while it waits for
the answer still counts as having reached the receiver, which is what a real
receiver sees.  One delivery can be *held* — not answered until the trial
lets it go — so the sender is mid-call, and still working, when it is killed.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    url: str = ""
    #: (delivery id, event name, the event's ticket id) of every POST that arrived, in arrival order
    calls: list[tuple[int, str, int | None]] = field(default_factory=list)
    #: a delivery id whose POST is not answered until ``release`` is set
    held: int | None = None
    release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, headers: Any, body: dict[str, Any]) -> int:
        delivery = int(headers["X-Helpdesk-Delivery"])
        with self._lock:
            self.calls.append((delivery, str(body["event"]), body["data"].get("ticket_id")))
        return delivery

    def count(self) -> int:
        with self._lock:
            return len(self.calls)

    def by_delivery(self) -> Counter[int]:
        with self._lock:
            return Counter(delivery for delivery, _, _ in self.calls)

    def by_event(self) -> Counter[tuple[str, int | None]]:
        """How often each event (name, ticket) arrived, whatever its delivery id."""
        with self._lock:
            return Counter((event, ticket) for _, event, ticket in self.calls)


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A sender killed mid-call leaves a broken pipe behind: expected here, not worth a traceback."""


@contextmanager
def receiver() -> Iterator[Receiver]:
    box = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            delivery = box.record(self.headers, body)
            if delivery == box.held:
                box.release.wait(60)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = _Quiet(("127.0.0.1", 0), Handler)
    box.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        box.release.set()
        server.shutdown()
        server.server_close()
