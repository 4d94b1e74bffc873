"""The eBay cursor: where each stream's reading stands, as small JSON text.

Every stream is read in *passes*.  A pass lists the records whose activity
(a conversation's latest message, an order's last change, a case's
creation) is at or after ``start`` and walks the list page by page; the
cursor holds the pass's position, so each page's cursor covers exactly the
records of that page and a crash re-reads one page.  When a pass ends, the
newest activity it saw becomes the high-water mark, and the next pass starts
an overlap window before it: eBay's time filters act on whole conversations,
and its clock is not ours.  Re-read records are harmless (messages
deduplicate on their id, orders upsert on their number).

Records the overlap brings back are not delivered again once they are
*settled*: when a pass ends, activity older than both its newest record and
its start minus :data:`GRACE_MS` (time for eBay's listing to show a new
message) counts as delivered.  ``seen`` keeps, for conversations active
after the settled mark, the time of the newest message already delivered;
it is capped, so after a burst of thousands of conversations a few may be
read once more rather than the cursor growing.  Times are epoch milliseconds.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

VERSION = 1
SEEN_CAP = 500
GRACE_MS = 2 * 60 * 1000


def ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


@dataclass
class Pass:
    """One walk through a listing: its lower time bound and where it stands."""

    start: int
    size: int
    began: int = 0  # our clock when the pass began
    offset: int = 0
    total: int | None = None
    top: int = 0  # newest activity seen in this pass
    end: int | None = None  # an upper time bound, for listings that need one (Trading)
    last: str | None = None  # the last record of the previous page: seeing it again means the list moved
    shifted: bool = False  # the list moved under us: records may have jumped to its head
    head: bool = False  # the pass ends by reading the head of the list once more


@dataclass
class StreamState:
    hw: int | None = None  # newest activity of the last completed pass
    settled: int | None = None  # activity up to here has been delivered
    current: Pass | None = None
    seen: dict[str, int] = field(default_factory=dict)

    def begin(self, start: int, size: int, began: int) -> Pass:
        self.current = Pass(start=start, size=size, began=began)
        return self.current

    def finish(self) -> None:
        """End the pass: its newest activity becomes the high-water mark, and older activity settles."""
        done = self.current
        self.current = None
        if done is None:
            return
        self.hw = max(self.hw or 0, done.top) or self.hw
        settled = min(done.top, done.began - GRACE_MS) if done.top else done.began - GRACE_MS
        self.settled = max(self.settled or 0, settled)
        self.prune()

    def delivered(self, key: str, when: int | None) -> bool:
        """Whether activity ``when`` of record ``key`` was already delivered."""
        if when is None:
            return False
        return when <= max(self.seen.get(key, -1), self.settled or -1)

    def prune(self) -> None:
        """Forget what the settled mark covers; keep at most :data:`SEEN_CAP` of the newest."""
        if self.seen and self.settled:
            self.seen = {k: v for k, v in self.seen.items() if v > self.settled}
        if len(self.seen) > SEEN_CAP:
            self.seen = dict(sorted(self.seen.items(), key=lambda kv: kv[1], reverse=True)[:SEEN_CAP])


@dataclass
class Cursor:
    me: str | None = None  # the seller's own user id, learnt when the settings do not give it
    streams: dict[str, StreamState] = field(default_factory=dict)
    since: int | None = None  # where a stream's first pass starts (a dry run or back-fill from a time)

    def stream(self, name: str) -> StreamState:
        return self.streams.setdefault(name, StreamState())


def load(text: str | None) -> Cursor:
    """The cursor ``text`` stands for; an unreadable one starts over (re-reads are harmless)."""
    if not text:
        return Cursor()
    try:
        data = json.loads(text)
        if data.get("v") != VERSION:
            raise ValueError(f"version {data.get('v')!r}")
        streams = {name: _stream(raw) for name, raw in (data.get("s") or {}).items()}
        since = int(data["since"]) if data.get("since") is not None else None
        return Cursor(me=data.get("me"), streams=streams, since=since)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        log.warning("unreadable eBay cursor (%s); reading from the start, dedupe keeps it harmless", exc)
        return Cursor()


def _stream(raw: dict[str, Any]) -> StreamState:
    current = raw.get("p")
    return StreamState(
        hw=int(raw["hw"]) if raw.get("hw") is not None else None,
        settled=int(raw["set"]) if raw.get("set") is not None else None,
        current=Pass(
            start=int(current["from"]),
            size=int(current["n"]),
            began=int(current.get("at") or 0),
            offset=int(current["off"]),
            total=int(current["tot"]) if current.get("tot") is not None else None,
            top=int(current.get("top") or 0),
            end=int(current["to"]) if current.get("to") is not None else None,
            last=current.get("last"),
            shifted=bool(current.get("shift")),
            head=bool(current.get("head")),
        )
        if current
        else None,
        seen={str(k): int(v) for k, v in (raw.get("seen") or {}).items()},
    )


def dump(cursor: Cursor) -> str:
    streams: dict[str, Any] = {}
    for name in sorted(cursor.streams):
        state = cursor.streams[name]
        out: dict[str, Any] = {"hw": state.hw, "set": state.settled}
        if state.current is not None:
            p = state.current
            pos: dict[str, Any] = {
                "from": p.start, "n": p.size, "at": p.began, "off": p.offset, "tot": p.total, "top": p.top
            }  # fmt: skip
            for key, value in (("to", p.end), ("last", p.last), ("shift", int(p.shifted)), ("head", int(p.head))):
                if value:
                    pos[key] = value
            out["p"] = pos
        if state.seen:
            out["seen"] = state.seen
        streams[name] = out
    data: dict[str, Any] = {"v": VERSION, "s": streams}
    if cursor.me:
        data["me"] = cursor.me
    if cursor.since is not None:
        data["since"] = cursor.since
    return json.dumps(data, separators=(",", ":"))
