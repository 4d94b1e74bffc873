"""A loopback TCP proxy between the helpdesk and a real server, which a test can take down or cut mid-answer.

The servers themselves are shared (PostgreSQL serves every test run on the
machine, Dovecot every test of the session), so faults are made between the
client and them: ``outage()`` refuses new connections and drops the
established ones, as a database restart or a lost route does, until the
block ends; ``cut_answer()`` lets the client's next request through and
closes the connection after the first bytes of the answer, as a server
or middlebox dying mid-response does.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass


@dataclass
class _Cut:
    """An armed cut: once the client sent ``marker``, close after ``after_bytes`` more from the server."""

    marker: bytes
    after_bytes: int
    let_through: int = 0


class _Link:
    """One client connection and its upstream; ``left`` counts down the answer bytes before a cut."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client, self.upstream = client, upstream
        self.left: int | None = None

    def drop(self) -> None:
        for sock in (self.client, self.upstream):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                sock.close()


class FaultyProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target``; see the module for the faults it makes."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.cuts = 0
        self.refused = 0
        self._down = False
        self._cut: _Cut | None = None
        self._links: list[_Link] = []
        self._guard = threading.Lock()
        self._closed = False
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.1)
        self._acceptor = threading.Thread(target=self._accept, name="faulty-proxy", daemon=True)
        self._acceptor.start()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @contextmanager
    def outage(self) -> Iterator[None]:
        """The server is unreachable for the block: established connections dropped, new ones reset."""
        self.go_down()
        try:
            yield
        finally:
            self.come_back()

    def go_down(self) -> None:
        with self._guard:
            self._down = True
            links, self._links = self._links, []
        for link in links:
            link.drop()

    def come_back(self) -> None:
        self._down = False

    def cut_answer(self, after_bytes: int, *, once_client_sent: bytes = b"", let_through: int = 0) -> None:
        """Arm one cut: after the client sends ``once_client_sent`` (any request when empty) for the
        ``let_through + 1``-th time, pass ``after_bytes`` of the answer, then close both sides."""
        self._cut = _Cut(once_client_sent, after_bytes, let_through)

    def close(self) -> None:
        self._closed = True
        self._acceptor.join(2)
        self._listener.close()
        with self._guard:
            links, self._links = self._links, []
        for link in links:
            link.drop()

    # --- forwarding ------------------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:  # the accept timeout, or the listener closed
                continue
            if self._down:
                self.refused += 1
                # SO_LINGER 0: close with a reset, as a port nobody listens on answers
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            link = _Link(client, upstream)
            with self._guard:
                self._links.append(link)
            threading.Thread(target=self._requests, args=(link,), daemon=True).start()
            threading.Thread(target=self._answers, args=(link,), daemon=True).start()

    def _requests(self, link: _Link) -> None:
        """Client to server; arms the link's cut when the client sent the armed request."""
        try:
            while data := link.client.recv(65536):
                cut = self._cut
                if cut is not None and link.left is None and cut.marker in data:
                    if cut.let_through:
                        cut.let_through -= 1
                    else:
                        self._cut = None
                        link.left = cut.after_bytes
                link.upstream.sendall(data)
        except OSError:
            pass
        link.drop()

    def _answers(self, link: _Link) -> None:
        """Server to client; stops after the armed number of bytes and drops the link."""
        try:
            while data := link.upstream.recv(65536):
                if link.left is not None and len(data) >= link.left:
                    link.client.sendall(data[: link.left])
                    self.cuts += 1
                    break
                if link.left is not None:
                    link.left -= len(data)
                link.client.sendall(data)
        except OSError:
            pass
        link.drop()
