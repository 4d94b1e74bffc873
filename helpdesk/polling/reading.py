"""Where a poll's pages are read: in line, a page ahead on a thread, or pages ahead in a process of their own.

A poll of many pages spends its time reading (HTTP, JSON, mapping) and
storing (the ingestion pipeline); the two overlap when the next page is read
while one is stored.  On a thread they still share one interpreter lock, so
every millisecond of reading is taken from storing: measured on the polling
bench, storing inside the cycle took half as long again as the same pages
stored alone.  A reader *process* reads ahead on the other core instead.

The process is forked only once a poll knows a second page waits (a poll of
one page never pays for it), after the first page was read in line.  The
child builds a fresh connector from the same account configuration (nothing
of the parent's HTTP connections or thread pools is reused: their threads
do not exist in a forked child), drops the database connections it
inherited (the credential store opens its own, as another process would,
so a token the child rotates is written back as usual), and reads page after
page, each from the cursor of the one before — at most :data:`PAGES_AHEAD`
ahead of what the parent has taken.  Pages and failures go back through a
pipe, pickled.  The parent stores and commits each page with its cursor as
before, so the cursor never passes what is stored: a child that dies only
ends the poll with a temporary failure (the next poll re-reads from the
committed cursor), and a parent that dies takes the child with it
(``PR_SET_PDEATHSIG``, and the pipe's end otherwise).  It is a bare
``os.fork``: a poll may run inside a daemonic process, which
``multiprocessing`` does not let have children.

Connectors with an after-commit hook (IMAP marks mail read over the
connection that fetched it) read in line, page by page.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from multiprocessing.connection import Connection
from typing import Any, Protocol

from channels.base import ChannelError, Connector, FetchResult, TransientChannelError

log = logging.getLogger(__name__)

PAGES_AHEAD = 3  # pages the reader process may have read beyond the one being stored
STOP_WAIT_S = 5.0  # a reader told to stop finishes the page it is reading, or is killed after this
_PR_SET_PDEATHSIG = 1


_in_reader = False


def in_reader_process() -> bool:
    """Whether this process is a poll's page reader (a connector may say so in its logs)."""
    return _in_reader


class PageReader(Protocol):
    def page(self, cursor: str | None, *, ahead: bool) -> FetchResult:
        """The page that starts at ``cursor``; with ``ahead``, the next one may be read meanwhile."""
        ...

    def close(self) -> None: ...


def can_read_ahead(connector: Connector) -> bool:
    """Whether the next page may be read while this one is stored.

    A connector with an after-commit hook touches the platform between
    pages (marking mail read over the same IMAP connection), so it is read
    page by page.
    """
    return type(connector).committed is Connector.committed


def page_reader(connector: Connector, page_size: int, how: str) -> PageReader:
    """The reader ``how`` names (``process``, ``thread`` or ``inline``) where the connector allows it."""
    if not can_read_ahead(connector) or how == "inline":
        return InlineReader(connector, page_size)
    if how == "process" and process_reading_available():
        return ProcessReader(connector, page_size)
    return ThreadReader(connector, page_size)


def process_reading_available() -> bool:
    """Forking is what makes the child cheap to start; only Linux forks safely enough here."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")  # the reader is a bare os.fork


class InlineReader:
    def __init__(self, connector: Connector, page_size: int) -> None:
        self.connector, self.page_size = connector, page_size

    def page(self, cursor: str | None, *, ahead: bool) -> FetchResult:
        return self.connector.fetch(cursor, self.page_size)

    def close(self) -> None:
        pass


class ThreadReader:
    """The next page is read on a thread while this one is stored (one page ahead)."""

    def __init__(self, connector: Connector, page_size: int) -> None:
        self.connector, self.page_size = connector, page_size
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead")
        self._ahead: tuple[str | None, Future[FetchResult]] | None = None

    def page(self, cursor: str | None, *, ahead: bool) -> FetchResult:
        waiting, self._ahead = self._ahead, None
        if waiting is not None and waiting[0] == cursor:
            page = waiting[1].result()
        else:
            _settle(waiting)
            page = self.connector.fetch(cursor, self.page_size)
        if ahead and page.more:
            self._ahead = (page.cursor, self._pool.submit(self.connector.fetch, page.cursor, self.page_size))
        return page

    def close(self) -> None:
        _settle(self._ahead)  # read but not stored: let it finish so the connector is not closed under it
        self._ahead = None
        self._pool.shutdown(wait=True)


def _settle(waiting: tuple[str | None, Future[FetchResult]] | None) -> None:
    if waiting is not None:
        with suppress(Exception):
            waiting[1].result()


class ProcessReader:
    """The first page in line; the rest read ahead by a forked child (see the module's docstring)."""

    def __init__(self, connector: Connector, page_size: int) -> None:
        self.connector, self.page_size = connector, page_size
        self._child: int | None = None  # the reader process's pid
        self._pipe: Connection | None = None
        self._next: str | None = None  # the cursor the child's next page starts at

    def page(self, cursor: str | None, *, ahead: bool) -> FetchResult:
        if self._pipe is not None and cursor != self._next:
            self._stop()  # the caller went elsewhere (it never does today): read in line from there
        if self._pipe is None:
            page = self.connector.fetch(cursor, self.page_size)
            if ahead and page.more:
                self._start(page.cursor)
            return page
        page = self._receive()
        self._next = page.cursor
        if not (ahead and page.more):
            self._stop()
        else:
            with suppress(OSError):  # a child that read its last page has gone; what it sent is still here
                self._pipe.send(True)  # room for one more page ahead
        return page

    def close(self) -> None:
        self._stop()

    def _start(self, cursor: str | None) -> None:
        # os.fork, not multiprocessing.Process: a poll may itself run in a daemonic process, which
        # multiprocessing forbids to have children
        ours, theirs = multiprocessing.Pipe(duplex=True)
        pid = os.fork()
        if pid == 0:  # the child: never returns into the parent's code, never runs its exit handlers
            global _in_reader
            _in_reader, code = True, 0
            try:
                ours.close()
                _read_pages(theirs, type(self.connector), self.connector.account, cursor, self.page_size)
            except BaseException:
                log.exception("the page reader of %s failed", self.connector.account.name)
                code = 1
            finally:
                os._exit(code)
        theirs.close()
        self._child, self._pipe, self._next = pid, ours, cursor

    def _receive(self) -> FetchResult:
        assert self._pipe is not None
        try:
            kind, payload = self._pipe.recv()
        except (EOFError, OSError) as exc:
            code = self._stop()
            raise TransientChannelError(f"the page reader process ended unexpectedly (exit code {code})") from exc
        if kind == "error":
            self._stop()
            raise payload
        return payload

    def _stop(self) -> int | None:
        """End the child (it stops at its next page; killed if it has not within seconds); its exit code."""
        pipe, pid, self._pipe, self._child = self._pipe, self._child, None, None
        if pipe is not None:
            with suppress(OSError):
                pipe.send(False)
            pipe.close()
        if pid is None:
            return None
        code = _reap(pid, STOP_WAIT_S)
        if code is None:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            code = _reap(pid, STOP_WAIT_S)
        return code


def _reap(pid: int, within_s: float) -> int | None:
    """The exit code of child ``pid`` once it ended within ``within_s`` (negative: killed by that signal)."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.01)


def _read_pages(
    pipe: Connection, connector_class: type[Connector], account: Any, cursor: str | None, page_size: int
) -> None:
    """The child: read pages from ``cursor`` on, never more than PAGES_AHEAD beyond what the parent took."""
    _die_with_parent()
    _forget_inherited_connections()
    connector = connector_class(account)
    room = PAGES_AHEAD
    try:
        while True:
            while room == 0 or pipe.poll():
                if not pipe.recv():  # the parent has what it wants
                    return
                room += 1
            try:
                page = connector.fetch(cursor, page_size)
            except BaseException as exc:
                pipe.send(("error", _sendable(exc)))
                return
            pipe.send(("page", page))
            room -= 1
            if not page.more:
                return
            cursor = page.cursor
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return  # the parent is gone
    finally:
        with suppress(Exception):
            connector.close()


def _die_with_parent() -> None:
    with suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before the line above took effect
        os._exit(0)


def _forget_inherited_connections() -> None:
    """The parent's pooled database connections are the parent's: open new ones, never close theirs."""
    from helpdesk.extensions import db

    with suppress(Exception):
        for engine in db.engines.values():
            engine.dispose(close=False)


def _sendable(exc: BaseException) -> BaseException:
    """The failure itself when it survives pickling, else a channel error that names it."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes, from this very process
    except Exception:
        if isinstance(exc, TransientChannelError):
            return TransientChannelError(str(exc), exc.retry_after)
        if isinstance(exc, ChannelError):
            return ChannelError(str(exc))
        return RuntimeError(f"{exc.__class__.__name__}: {exc}")
    return exc
