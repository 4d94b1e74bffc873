"""Group commit: work that concurrent callers hand in is done together, in one batch.

A write transaction's cost is mostly per transaction, not per item: the
ingest pipeline takes tens of milliseconds for one message in a transaction
of its own and a tenth of a millisecond a message in a batch, and writers
queue for one lock (SQLite's, or PostgreSQL's ingest advisory lock) anyway.
So callers queue their item and wait; one of them, the leader, takes
everything queued (up to ``limit``), runs it as one batch and hands every
caller its own answer.

Leader/follower, no thread of its own: a caller who finds nobody leading
leads at once, so a lone caller is a batch of one with no wait; while a
batch runs, newcomers queue; when it is done the leader promotes the oldest
waiter to lead the next batch and returns its own answer.  The leader runs
the batch in its own thread (a request thread, with its application context
and database session).  If the batch raises, every caller in it gets the
error: nothing in the batch is done unless all of it is.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Waiter(Generic[T, R]):
    """One caller's item, and later its answer (or the batch's error, or the call to lead the next batch)."""

    __slots__ = ("error", "event", "item", "lead", "result")

    def __init__(self, item: T) -> None:
        self.item = item
        self.event = threading.Event()
        self.lead = False
        self.result: R | None = None
        self.error: BaseException | None = None

    def answer(self) -> R:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class GroupCommit(Generic[T, R]):
    """Run ``run(items)`` over whatever concurrent :meth:`submit` calls are waiting, ``limit`` at a time.

    ``run`` returns one answer per item, in order; it owns the transaction
    (commits it, or rolls it back and raises).
    """

    def __init__(self, run: Callable[[Sequence[T]], Sequence[R]], *, limit: int = 200) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._run = run
        self.limit = limit
        self._lock = threading.Lock()
        self._queue: deque[_Waiter[T, R]] = deque()
        self._leading = False  # a leader is running a batch, or has been promoted to run the next one

    def pending(self) -> int:
        """Items queued for the next batch (not those of a batch running now)."""
        with self._lock:
            return len(self._queue)

    def submit(self, item: T) -> R:
        """``item``'s answer, once the batch it joined has run; the batch's error if it failed."""
        me: _Waiter[T, R] = _Waiter(item)
        with self._lock:
            self._queue.append(me)
            lead = not self._leading
            self._leading = True
        if not lead:
            me.event.wait()
            if not me.lead:
                return me.answer()
        self._lead(me)
        return me.answer()

    def _lead(self, me: _Waiter[T, R]) -> None:
        with self._lock:  # ``me`` is at the head: it was alone, or the oldest waiter when promoted
            batch = [self._queue.popleft() for _ in range(min(self.limit, len(self._queue)))]
        try:
            results = self._run([w.item for w in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"a batch of {len(batch)} got {len(results)} answers")
            for waiter, result in zip(batch, results, strict=True):
                waiter.result = result
        except Exception as exc:
            for waiter in batch:
                waiter.error = exc
        except BaseException as exc:  # the worker is being stopped: the others fail, the leader stops
            for waiter in batch:
                waiter.error = exc if waiter is me else RuntimeError("the server stopped during the batch")
        finally:
            for waiter in batch:
                if waiter is not me:
                    waiter.event.set()
            with self._lock:
                if self._queue:
                    successor = self._queue[0]
                    successor.lead = True
                    successor.event.set()
                else:
                    self._leading = False
