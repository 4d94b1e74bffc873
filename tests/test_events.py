"""Events reach listeners only after the commit, in publish order, one call per run for batch listeners."""

from __future__ import annotations

from typing import Any

import pytest

from helpdesk.events import listen, listen_batch, publish, publish_many, unlisten


@pytest.fixture
def heard() -> Any:
    calls: list[tuple[str, Any]] = []

    @listen("ticket.created", "message.received")
    def one(name: str, payload: Any) -> None:
        calls.append(("one", name, payload["n"]))

    @listen_batch("*")
    def many(name: str, payloads: list[Any]) -> None:
        calls.append(("many", name, [p["n"] for p in payloads]))

    @listen("message.received")
    def broken(name: str, payload: Any) -> None:
        raise RuntimeError("a listener bug must not stop the others")

    yield calls
    for fn in (one, many, broken):
        unlisten(fn)


def test_listeners_hear_after_commit_in_order_and_batches_in_runs(session: Any, heard: Any) -> None:
    publish_many(session, "ticket.created", [{"n": 1}, {"n": 2}])
    publish_many(session, "message.received", [{"n": 3}, {"n": 4}])
    publish(session, "ticket.created", {"n": 5})
    assert heard == []  # nothing before the commit

    session.commit()

    assert heard == [
        ("many", "ticket.created", [1, 2]),
        ("one", "ticket.created", 1),
        ("one", "ticket.created", 2),
        ("many", "message.received", [3, 4]),
        ("one", "message.received", 3),
        ("one", "message.received", 4),
        ("many", "ticket.created", [5]),
        ("one", "ticket.created", 5),
    ]


def test_a_rollback_drops_what_was_published(session: Any, heard: Any) -> None:
    import sqlalchemy as sa

    session.execute(sa.text("SELECT 1"))  # the work whose outcome the event announced
    publish(session, "ticket.created", {"n": 1})
    session.rollback()
    session.commit()
    assert heard == []


def test_unknown_events_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown event"):
        listen_batch("ticket.exploded")(lambda name, payloads: None)
