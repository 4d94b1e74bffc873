"""Where an Amazon order sync stands, as the opaque cursor text the helpdesk stores.

Orders are read in *sweeps*: ``getOrders`` (Orders v0) or ``searchOrders``
(2026-01-01) with ``LastUpdatedAfter`` = the ``LastUpdatedBefore`` Amazon
returned for the previous sweep (Amazon sets it at least two minutes in the
past, so late-indexed updates are not skipped), then token pages until there
is none.  With v0 each order also needs a ``getOrderItems`` call, metered far
tighter than a page holds, so a page may end with orders whose lines are not
read yet; those wait in ``queue`` as Amazon sent them, and the cursor covers
exactly what was emitted::

    {"v": 1, "after": "…Z", "before": "…Z" | null, "token": "<NextToken>" | null,
     "queue": [<order>, …], "recent": {"<order id>": "<LastUpdateDate>", …}}

A 2026-01-01 cursor adds ``"api": "2026-01-01"``; its orders carry their
lines, so its queue holds only what a page brought beyond the page limit.
A cursor of the other API (the account switched) keeps its window start and
drops the rest: tokens and queued orders of one API mean nothing to the other.

``recent`` holds the orders of the previous page, so the order a page
boundary repeats (and the one at the inclusive window edge) is not read
twice.  An unreadable cursor starts a new sweep from ``after``; the upsert of
orders by number makes re-reading harmless.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

VERSION = 1


@dataclass
class SweepCursor:
    after: str
    before: str | None = None
    token: str | None = None
    queue: list[dict[str, Any]] = field(default_factory=list)
    recent: dict[str, str] = field(default_factory=dict)
    api: str | None = None  # None: Orders v0, whose cursors predate the key

    @property
    def more(self) -> bool:
        """Another page is already known to wait (orders queued, or a NextToken)."""
        return bool(self.queue or self.token)

    def restart(self) -> None:
        """Amazon refused the page token (expired): read the sweep's window again from its start."""
        self.token = None
        self.before = None
        self.queue = []

    def finish_if_done(self) -> None:
        """A sweep whose pages and queue are all read moves the window on."""
        if not self.queue and not self.token and self.before:
            self.after = self.before
            self.before = None

    def dump(self) -> str:
        data: dict[str, Any] = {
            "v": VERSION,
            "after": self.after,
            "before": self.before,
            "token": self.token,
            "queue": self.queue,
            "recent": self.recent,
        }
        if self.api:
            data["api"] = self.api
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def load_cursor(text: str | None, *, start: str, api: str | None = None) -> SweepCursor:
    """The cursor in ``text`` for the Orders API ``api`` (None: v0); a first sync (or an unreadable cursor)
    begins at ``start``."""
    if not text:
        return SweepCursor(after=start, api=api)
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("v") != VERSION:
            raise ValueError(f"cursor version {data.get('v') if isinstance(data, dict) else None!r}")
        after = data["after"]
        if not isinstance(after, str) or not after:
            raise ValueError("no 'after'")
        if data.get("api") != api:
            log.info("an Amazon cursor of another Orders API; reading on from its window start %s", after)
            return SweepCursor(after=after, api=api)
        queue = data.get("queue") or []
        recent = data.get("recent") or {}
        if not isinstance(queue, list) or not isinstance(recent, dict):
            raise ValueError("queue or recent of the wrong type")
        return SweepCursor(
            after=after,
            before=data.get("before") or None,
            token=data.get("token") or None,
            queue=[order for order in queue if isinstance(order, dict)],
            recent={str(k): str(v) for k, v in recent.items()},
            api=api,
        )
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("unreadable Amazon cursor (%s); starting a new sync from %s", exc, start)
        return SweepCursor(after=start, api=api)
