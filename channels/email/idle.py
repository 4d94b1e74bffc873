"""Near-instant mail: IMAP IDLE (RFC 2177) on one folder, as a doorbell for the poller.

Polling finds new mail within a minute; a mailbox with IDLE turned on tells
us within a second.  The watcher never reads mail itself: fetching, the
cursor and the commit stay with the ordinary poll, so IDLE changes *when*
a mailbox is polled and nothing about *how*.  It rings:

* once after every (re)connect, because mail may have arrived while nobody
  was listening;
* when the server announces ``EXISTS`` or ``RECENT`` for the folder, at most
  once per ``min_ring_interval_s`` (a burst of mail gives one poll, and one
  more after the burst so its tail is not left for the next minute).

IDLE is re-armed every ``rearm_s`` (servers drop an IDLE after 30 minutes;
RFC 2177 asks clients to re-issue it before 29).  A dropped connection is
retried with back-off up to ``max_backoff_s``; a server without the IDLE
capability stops the watcher, and polling carries on as before.  No Flask
here: the helpdesk decides what a ring does.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
import time
from collections.abc import Callable

from channels.base import ChannelError, TransientChannelError
from channels.credentials import CredentialStore
from channels.email.imap import ImapMailbox, imap_errors
from channels.email.settings import EmailSettings

log = logging.getLogger(__name__)

_NEWS = (b"EXISTS", b"RECENT")


class IdleWatcher:
    """One thread holding an IDLE connection to one folder; ``on_mail`` is called when mail may be new."""

    def __init__(
        self,
        settings: EmailSettings,
        credentials: CredentialStore,
        on_mail: Callable[[], None],
        *,
        name: str = "",
        rearm_s: float = 24 * 60,
        check_s: float = 1.0,
        min_ring_interval_s: float = 1.0,
        max_backoff_s: float = 300.0,
    ) -> None:
        self.settings = settings
        self.credentials = credentials
        self.on_mail = on_mail
        self.name = name or settings.user
        self.rearm_s = rearm_s
        self.check_s = check_s
        self.min_ring_interval_s = min_ring_interval_s
        self.max_backoff_s = max_backoff_s
        self.state = "stopped"
        self.last_error: str | None = None
        self.connects = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_ring = float("-inf")
        self._pending = False

    def start(self) -> None:
        """Run in a daemon thread until :meth:`stop`."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self.state = "connecting"
        self._thread = threading.Thread(target=self.run, name=f"imap-idle-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Leave IDLE, log out and wait for the thread (at most ``timeout`` seconds)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.state = "stopped"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self) -> None:
        """The loop: connect, ring, idle; on failure wait and connect again."""
        failures = 0
        while not self._stop.is_set():
            mailbox = ImapMailbox(self.settings, self.credentials)
            try:
                if not self._listen(mailbox):
                    return
                failures = 0
            except ChannelError as exc:  # refused login, dropped connection, missing folder
                failures += 1
                self._failed(exc, failures)
            except Exception as exc:  # a watcher must outlive anything the wire does to it
                log.exception("IMAP IDLE on %s failed unexpectedly", self.name)
                failures += 1
                self._failed(exc, failures)
            finally:
                mailbox.close()
            if failures:
                self._stop.wait(min(self.max_backoff_s, 2 ** min(failures, 16)))

    def _failed(self, exc: BaseException, failures: int) -> None:
        self.state = "failing"
        self.last_error = str(exc) or exc.__class__.__name__
        log.warning("IMAP IDLE on %s: %s (attempt %d)", self.name, self.last_error, failures)

    def _listen(self, mailbox: ImapMailbox) -> bool:
        """One connection's life; False when the server cannot IDLE (the watcher then ends)."""
        client = mailbox.client()
        with imap_errors("capability check"):
            supported = client.has_capability("IDLE")
        if not supported:
            self.state = "unsupported"
            self.last_error = "the server does not offer IDLE; new mail arrives with the regular poll"
            log.info("IMAP IDLE on %s: %s", self.name, self.last_error)
            return False
        with imap_errors(f"select of {self.settings.folder!r}"):
            client.select_folder(self.settings.folder, readonly=True)
        with imap_errors("IDLE"):
            client.idle()
        armed = time.monotonic()
        self.connects += 1
        self.state, self.last_error = "idling", None
        # listening from here on; what arrived before is the poll's to find
        self._ring(force=True)
        while not self._stop.is_set():
            if _readable(client.socket(), self.check_s):
                with imap_errors("IDLE"):
                    responses = client.idle_check(timeout=0)
                if not responses:
                    # IMAPClient reads end-of-file as "no responses"; a readable socket with nothing on it is closed
                    raise TransientChannelError("the server closed the IDLE connection")
                if any(len(r) > 1 and r[1] in _NEWS for r in responses):
                    self._pending = True
            if self._pending:
                self._ring()
            if time.monotonic() - armed >= self.rearm_s:
                with imap_errors("IDLE renewal"):
                    client.idle_done()
                    client.idle()
                armed = time.monotonic()
        with imap_errors("end of IDLE"):
            client.idle_done()
        return True

    def _ring(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_ring < self.min_ring_interval_s:
            return  # rung a moment ago; the loop rings again once the interval has passed
        self._pending = False
        self._last_ring = now
        try:
            self.on_mail()
        except Exception:
            log.exception("IMAP IDLE on %s: the new-mail callback failed", self.name)


def _readable(sock: socket.socket, timeout: float) -> bool:
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return bool(poller.poll(timeout * 1000))
