"""The connectors' HTTP client against a real loopback server: kept connections, timeouts, headers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from channels.base import TransientChannelError
from channels.http import HttpClient


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def do_GET(self) -> None:
        self.server.connections.add(self.client_address)
        if self.path.startswith("/slow"):
            time.sleep(1.0)
        body = b'{"path": "%s"}' % self.path.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Request-Id", "r-1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        # a platform that ends idle keep-alive connections: it closes without saying so in the answer
        self.close_connection = self.path.startswith("/then-hang-up")

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up on a slow answer: its broken pipe is the point of the test


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.connections = set()  # type: ignore[attr-defined]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def _base(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_requests_reuse_one_connection(server: ThreadingHTTPServer) -> None:
    client = HttpClient(_base(server))
    try:
        answers = [client.request("GET", "/a", params={"n": n}).json() for n in range(5)]
    finally:
        client.close()
    assert [a["path"] for a in answers] == [f"/a?n={n}" for n in range(5)]
    assert len(server.connections) == 1  # type: ignore[attr-defined]


def test_a_connection_the_server_closed_while_idle_is_not_reused(server: ThreadingHTTPServer) -> None:
    client = HttpClient(_base(server))
    try:
        client.request("GET", "/then-hang-up")
        time.sleep(0.2)  # the server's close reaches the idle socket
        response = client.request("GET", "/next")
    finally:
        client.close()
    assert response.status_code == 200 and response.json() == {"path": "/next"}
    assert len(server.connections) == 2  # type: ignore[attr-defined]


def test_headers_read_whatever_their_case(server: ThreadingHTTPServer) -> None:
    client = HttpClient(_base(server))
    try:
        response = client.request("GET", "/h")
    finally:
        client.close()
    assert response.headers.get("x-request-id") == "r-1" == response.headers.get("X-REQUEST-ID")
    assert response.text == '{"path": "/h"}'


def test_a_host_that_does_not_answer_in_time_is_a_temporary_failure(server: ThreadingHTTPServer) -> None:
    client = HttpClient(_base(server), timeout_s=0.2, platform="Example")
    try:
        with pytest.raises(TransientChannelError, match="Example did not answer the listing in time"):
            client.request("GET", "/slow", what="listing")
        assert client.request("GET", "/after").json() == {"path": "/after"}  # the timed-out connection is gone
    finally:
        client.close()


def test_a_host_nobody_listens_on_is_unreachable() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), _Handler) as closed:
        base = _base(closed)  # bound, then closed: nothing listens there any more
    client = HttpClient(base, platform="Example")
    try:
        with pytest.raises(TransientChannelError, match="Example is unreachable"):
            client.request("GET", "/x")
    finally:
        client.close()
