"""The demo's 60 days of history: the reports look like a real desk's, and every clock was judged by the SLA step."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from helpdesk.db import utcnow
from helpdesk.demo import history
from helpdesk.demo.loader import load_demo
from helpdesk.reports.productivity import productivity
from helpdesk.reports.services import ReportQuery, sla_report
from helpdesk.sla.models import SlaClock
from helpdesk.tickets.models import Message, Ticket

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def demo(session: Any) -> dict[str, int]:
    counts = load_demo(session)
    session.commit()
    return counts


def aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def last_30_days() -> ReportQuery:
    end = utcnow().date()
    return ReportQuery(end - timedelta(days=29), end, "UTC", "platform")


def test_reports_show_compliance_a_trend_agents_and_judged_clocks(session: Any, demo: dict[str, int]) -> None:
    report = sla_report(session, last_30_days())
    assert {g.label for g in report.groups} == {"amazon", "ebay", "shopify"}
    for group in report.groups:
        assert group.decided > 50, group.label
        assert 60.0 < (group.compliance_pct or 0) <= 100.0, (group.label, group.compliance_pct)
    # the history is laid out from today, so which weekends fall in the range varies: a small store may have
    # no late answer in a month, but the desk as a whole always has some
    assert min(g.compliance_pct or 0 for g in report.groups) < 100.0
    assert report.total.breached > 0 and report.total.compliance_pct is not None
    assert report.total.compliance_pct > 80.0  # most answers are on time
    assert sum(d.compliance_pct is not None for d in report.days) >= 28
    assert len({d.compliance_pct for d in report.days}) > 10  # a trend, not a flat line
    agents = productivity(session, last_30_days())
    working = [a for a in agents.agents if a.agent_id is not None]
    assert len(working) >= 4
    for a in working:
        assert a.replies > 0 and a.solved > 0 and 0 < a.one_touch <= a.solved, a.label
        assert a.handle_p50_s is not None
    # one load of the demo serves the checks below too: it is the slowest fixture of the suite
    every_clock_was_judged_by_its_answer(session)
    answers_are_by_agents_and_weekends_are_slower(session)


def every_clock_was_judged_by_its_answer(session: Any) -> None:
    """Met answers came by the due instant, breached ones after it; unanswered overdue ones are breached."""
    c = SlaClock.__table__.c
    rows = session.execute(sa.select(c.status, c.due_at, c.stopped_at, c.breached_at, c.elapsed_s)).all()
    assert len(rows) > 2000
    for status, due, stopped, breached, elapsed in rows:
        if status == "met":
            assert stopped is not None and elapsed is not None
            assert aware(stopped) <= aware(due)
        elif status == "breached":
            assert breached is not None
            assert aware(breached) >= aware(due)
    assert {r.status for r in rows} >= {"met", "breached"}


def answers_are_by_agents_and_weekends_are_slower(session: Any) -> None:
    m = Message.__table__.c
    out = session.execute(sa.select(m.author_user_id).where(m.direction == "out")).scalars().all()
    assert out and all(a is not None for a in out)
    assert len(set(out)) >= 5
    c = SlaClock.__table__.c
    answered = session.execute(
        sa.select(c.started_at, c.elapsed_s).where(c.kind == "first_response", c.elapsed_s.is_not(None))
    ).all()
    weekend = [e for s, e in answered if aware(s).astimezone(BERLIN).weekday() >= 5]
    weekday = [e for s, e in answered if aware(s).astimezone(BERLIN).weekday() < 5]
    assert statistics.median(weekend) > statistics.median(weekday)
    waiting = session.scalar(sa.select(sa.func.count()).select_from(Ticket).where(Ticket.sla_state.is_not(None)))
    assert waiting > 0  # the last hours' messages (and those out of the teams' hours) are the inbox's queue


def test_loading_twice_changes_nothing(session: Any, demo: dict[str, int]) -> None:
    again = load_demo(session)
    assert again["created"] == 0 and again["tickets"] == demo["tickets"]


def test_working_time_skips_evenings_and_sundays() -> None:
    saturday_noon = datetime(2026, 3, 7, 11, 0, tzinfo=UTC)  # 12:00 in Berlin
    # two hours left on Saturday (until 14:00), the rest on Monday from 08:00
    assert history.add_working_time(BERLIN, saturday_noon, 3) == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    friday_night = datetime(2026, 3, 6, 21, 0, tzinfo=UTC)
    assert history.next_open(BERLIN, friday_night) == datetime(2026, 3, 7, 9, 0, tzinfo=UTC)
    wednesday = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)  # 10:00 in Berlin, open
    assert history.next_open(BERLIN, wednesday) == wednesday
    assert history.add_working_time(BERLIN, wednesday, 1.5) == wednesday + timedelta(hours=1.5)
