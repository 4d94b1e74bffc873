"""Where order reading stopped: an ``updated_at`` mark with an overlap, and GraphQL's page cursor.

Orders are read sorted by ``updatedAt``, filtered by ``updated_at:>='…'``.
One *pass* pages through that filter with GraphQL's ``endCursor``; when it
ends, the next pass starts at ``min(newest updatedAt read, now − overlap)``
because Shopify's order search is indexed a little after the change: an
order changed just before the last one read may only show up later.  The
overlap would hand the same orders over again, so the cursor remembers the
orders it already delivered in that window (id → updatedAt, whole seconds
as Shopify gives them) and skips them unless they changed.

Shopify pages at most 25,000 records deep; a pass that reads
:data:`PASS_LIMIT` orders restarts at the newest ``updatedAt`` it read, which
always moves forward.

The JSON text::

    {"v": 1, "since": 1767600000, "after": "eyJsYXN0…", "hw": 1767601234, "n": 750,
     "seen": {"5923401187421": 1767601234, …}}
"""

from __future__ import annotations

import heapq
import json
import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

VERSION = 1
PASS_LIMIT = 20_000
SEEN_LIMIT = 2_000  # beyond it the oldest are forgotten and may be delivered again (harmless: orders upsert)


@dataclass
class OrderCursor:
    """The reading position; ``since`` and ``hw`` are epoch seconds (UTC)."""

    since: int | None = None
    after: str | None = None
    hw: int | None = None
    read: int = 0
    seen: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, text: str | None) -> OrderCursor:
        """The cursor in ``text``; an unreadable one starts over (re-reading is harmless, skipping is not)."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
            if data.get("v") != VERSION:
                raise ValueError(f"version {data.get('v')!r}")
            return cls(
                since=_opt_int(data.get("since")),
                after=str(data["after"]) if data.get("after") else None,
                hw=_opt_int(data.get("hw")),
                read=int(data.get("n") or 0),
                seen={str(k): int(v) for k, v in (data.get("seen") or {}).items()},
            )
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            log.warning("unreadable Shopify cursor (%s); reading from the start, re-reads are harmless", exc)
            return cls()

    def dump(self) -> str:
        data: dict[str, object] = {"v": VERSION, "since": self.since, "after": self.after, "hw": self.hw}
        if self.read:
            data["n"] = self.read
        if self.seen:
            data["seen"] = self.seen
        return json.dumps(data, separators=(",", ":"))

    def delivered(self, order_id: str, updated: int) -> bool:
        """Whether this version of the order was already handed over."""
        return self.seen.get(order_id) == updated

    def note(self, order_id: str, updated: int) -> None:
        """Remember a delivered order version and move the high-water mark."""
        self.seen[order_id] = updated
        if self.hw is None or updated > self.hw:
            self.hw = updated

    def next_page(self, end_cursor: str, count: int) -> None:
        """The pass goes on after ``end_cursor``; a pass this deep restarts at the newest order read."""
        self.after = end_cursor
        self.read += count
        if self.read >= PASS_LIMIT and self.hw is not None:
            self.after, self.read, self.since = None, 0, self.hw

    def end_pass(self, now: int, overlap_s: int) -> None:
        """The filter is exhausted: the next pass re-reads the overlap window (or the newest second)."""
        self.after, self.read = None, 0
        if self.hw is not None:
            self.since = min(self.hw, now - overlap_s)

    def prune(self, now: int, overlap_s: int) -> None:
        """Forget delivered versions older than any start the next pass could have."""
        floor = now - overlap_s if self.hw is None else min(self.hw, now - overlap_s)
        seen = {k: v for k, v in self.seen.items() if v >= floor}
        if len(seen) > SEEN_LIMIT:
            seen = dict(heapq.nlargest(SEEN_LIMIT, seen.items(), key=lambda kv: kv[1]))
        self.seen = seen


def _opt_int(value: object) -> int | None:
    return None if value is None else int(str(value))
