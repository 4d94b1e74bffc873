"""The cursor and the walk through an activity-sorted listing: positions, moves under us, the settled mark."""

from __future__ import annotations

import json
import logging

import pytest

from channels.ebay import cursor as cursors
from channels.ebay.cursor import GRACE_MS, SEEN_CAP, StreamState
from channels.ebay.reading import Listed, advance


def walking(size: int = 5, began: int = 1_000_000) -> StreamState:
    state = StreamState()
    state.begin(start=0, size=size, began=began)
    return state


def test_a_cursor_survives_its_text() -> None:
    cursor = cursors.Cursor(me="lampworks_uk", since=123)
    state = cursor.stream("messages")
    state.hw, state.settled, state.seen = 900, 800, {"4419": 850}
    p = state.begin(start=500, size=50, began=1000)
    p.offset, p.total, p.top, p.last, p.shifted = 100, 240, 990, "4420", True
    again = cursors.load(cursors.dump(cursor))
    assert again == cursor
    assert len(cursors.dump(cursor)) < 300


def test_an_unreadable_cursor_starts_over(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert cursors.load('{"v": 99}') == cursors.Cursor()
        assert cursors.load("not json") == cursors.Cursor()
    assert "unreadable eBay cursor" in caplog.text


def test_a_walk_goes_page_by_page_and_ends_at_the_last() -> None:
    state = walking()
    assert advance(state, Listed(["a", "b", "c", "d", "e"], 8, True, 50))
    assert state.current is not None and state.current.offset == 5 and state.current.last == "e"
    assert not advance(state, Listed(["f", "g", "h"], 8, False, 40))
    assert state.current is None and state.hw == 50


def test_a_repeated_record_ends_the_walk_with_a_read_of_the_head() -> None:
    state = walking()
    advance(state, Listed(["a", "b", "c", "d", "e"], 10, True, 50))
    assert advance(state, Listed(["e", "f", "g", "h", "i"], 10, True, 45))  # "e" again: something jumped ahead
    assert advance(state, Listed(["j"], 10, False, 40))
    assert state.current is not None and state.current.head and state.current.offset == 0
    assert not advance(state, Listed(["z", "a", "b", "c", "d"], 10, True, 60))
    assert state.current is None and state.hw == 60


def test_a_list_that_shrank_makes_the_walk_step_back_a_page() -> None:
    state = walking()
    advance(state, Listed(["a", "b", "c", "d", "e"], 12, True, 50))
    advance(state, Listed(["g", "h", "i", "j", "k"], 11, True, 45))  # one record left the list above us
    assert state.current is not None and state.current.offset == 5
    advance(state, Listed(["f", "g", "h", "i", "j"], 11, True, 45))
    assert state.current.offset == 10


def test_the_settled_mark_trails_the_pass_by_the_grace_time() -> None:
    state = walking(began=10 * GRACE_MS)
    advance(state, Listed(["a"], 1, False, 20 * GRACE_MS))
    assert state.settled == 9 * GRACE_MS  # activity newer than the pass's start minus the grace is not settled
    quiet = walking(began=10 * GRACE_MS)
    advance(quiet, Listed(["a"], 1, False, 3 * GRACE_MS))
    assert quiet.settled == 3 * GRACE_MS and quiet.delivered("x", 3 * GRACE_MS)
    assert not quiet.delivered("x", 3 * GRACE_MS + 1) and not quiet.delivered("x", None)


def test_seen_keeps_only_what_the_settled_mark_does_not_cover_and_at_most_the_cap() -> None:
    state = StreamState(settled=100, seen={str(n): 50 + n for n in range(SEEN_CAP + 200)})
    state.prune()
    assert len(state.seen) == SEEN_CAP and min(state.seen.values()) > 100
    assert state.delivered("400", 450) and not state.delivered("400", 451)


def test_the_cursor_stays_small_with_a_full_seen_map() -> None:
    cursor = cursors.Cursor()
    cursor.stream("messages").seen = {str(4419027700 + n): 1767600000000 + n for n in range(SEEN_CAP)}
    assert len(cursors.dump(cursor)) < 20_000
    assert json.loads(cursors.dump(cursor))["v"] == cursors.VERSION
