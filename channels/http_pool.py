"""Keep-alive HTTP connections for one platform host, on the standard library's ``http.client``.

A poll of ten thousand records makes thousands of small requests, and the
client's own time per request is most of what separates a poll from the
pipeline's rate: the poller stores one page while the next is read, in one
interpreter.  urllib3's pool manager spends about twice the interpreter time
of a bare ``http.client`` connection per request (URL parsing, pool look-up,
retry and header bookkeeping none of the connectors use: they follow no
redirect and retry nothing at this level), so the connections are kept here.

Like urllib3, a kept connection that the server has closed (its socket
reads as ready while idle) is dropped before reuse, so a platform's idle
timeout does not fail the next request; a request that fails on the wire
is never sent again from here, because a reply must not go out twice.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import weakref
from collections import deque
from urllib.parse import urlsplit

from urllib3 import HTTPHeaderDict

from channels.netguard import CheckedHTTPClientConnection, CheckedHTTPSClientConnection


class WireTimeout(Exception):
    """The host did not answer in time (connect or read)."""


class Raw:
    """A whole response as it came off the wire."""

    __slots__ = ("data", "headers", "status")

    def __init__(self, status: int, headers: HTTPHeaderDict, data: bytes) -> None:
        self.status, self.headers, self.data = status, headers, data


class HostPool:
    """Idle keep-alive connections to one ``scheme://host:port``; thread-safe, never blocks for a connection."""

    def __init__(self, origin: str, *, connect_timeout: float, read_timeout: float, keep: int) -> None:
        parts = urlsplit(origin)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        self.connect_timeout, self.read_timeout, self.keep = connect_timeout, read_timeout, keep
        self._idle: deque[http.client.HTTPConnection] = deque()
        self._lock = threading.Lock()
        self._tls = ssl.create_default_context() if self.https else None
        # a client nobody closed still hangs up when it is collected, as urllib3's pools do
        weakref.finalize(self, _close_all, self._idle)

    def request(self, method: str, target: str, body: bytes | None, headers: dict[str, str]) -> Raw:
        """Send one request on a kept or new connection and read the whole answer."""
        conn = self._take()
        try:
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except TimeoutError as exc:
            conn.close()
            raise WireTimeout(str(exc) or "timed out") from exc
        except BaseException:
            conn.close()
            raise
        if response.will_close:
            conn.close()
        else:
            self._give_back(conn)
        return Raw(response.status, HTTPHeaderDict(response.getheaders()), data)

    def close(self) -> None:
        with self._lock:
            idle = list(self._idle)
            self._idle.clear()
        for conn in idle:
            conn.close()

    def _take(self) -> http.client.HTTPConnection:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._connect()
            if not _dropped(conn):
                return conn
            conn.close()

    def _give_back(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self.keep:
                self._idle.append(conn)
                return
        conn.close()

    def _connect(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection
        # to an address the outbound policy allows, resolved and checked now (channels.netguard)
        if self._tls is not None:
            conn = CheckedHTTPSClientConnection(self.host, self.port, timeout=self.connect_timeout, context=self._tls)
        else:
            conn = CheckedHTTPClientConnection(self.host, self.port, timeout=self.connect_timeout)
        try:
            conn.connect()
        except TimeoutError as exc:
            conn.close()
            raise WireTimeout(f"no connection within {self.connect_timeout:g} s") from exc
        assert conn.sock is not None
        conn.sock.settimeout(self.read_timeout)
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn


def _close_all(idle: deque[http.client.HTTPConnection]) -> None:
    while idle:
        idle.pop().close()


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """An idle keep-alive socket that reads as ready has been closed (or sent junk) by the server."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        ready, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(ready)
