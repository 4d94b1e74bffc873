"""The per-ticket clock: start, pause/resume, stop, cancel, check and breach recording.

The business calendar here is Monday to Friday 09:00-18:00 in UTC so the
hand-worked instants in the comments need no offset arithmetic.  2 June 2025
is a Monday.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from helpdesk.sla import clock
from helpdesk.sla.calendar import BusinessCalendar
from helpdesk.sla.clock import ClockState, ClockStatus

H = timedelta(hours=1)
US = timedelta(microseconds=1)
OFFICE = BusinessCalendar.weekly("UTC", {"mon-fri": "09:00-18:00"})
ALWAYS = BusinessCalendar.always()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def office_clock() -> ClockState:
    # Started Mon 2 Jun 10:00 with 24 business hours: Mon 10-18 (8 h), Tue 9 h (17 h),
    # Wed 09:00 + 7 h -> due Wed 4 Jun 16:00.  Warning at 75 % = 18 h: Mon 8 h, Tue 9 h,
    # Wed 09:00 + 1 h -> Wed 10:00.
    return clock.start(OFFICE, utc(2025, 6, 2, 10), 24 * H)


def test_start_on_a_24_7_calendar() -> None:
    state = clock.start(ALWAYS, utc(2025, 6, 2, 10), 24 * H, warn_share=0.75)
    assert state.status is ClockStatus.RUNNING
    assert state.due_at == utc(2025, 6, 3, 10)  # 24 h later
    assert state.warning_at == utc(2025, 6, 3, 4)  # 18 h later
    assert state.paused_at is None
    assert state.breached_at is None
    assert state.stopped_at is None


def test_start_on_business_hours(office_clock: ClockState) -> None:
    assert office_clock.due_at == utc(2025, 6, 4, 16)
    assert office_clock.warning_at == utc(2025, 6, 4, 10)


def test_walmart_style_warning_at_half_the_target() -> None:
    # 48 h with the warning at 24 h.
    state = clock.start(ALWAYS, utc(2025, 6, 2, 10), 48 * H, warn_share=0.5)
    assert state.warning_at == utc(2025, 6, 3, 10)
    assert state.due_at == utc(2025, 6, 4, 10)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2025, 6, 4, 9, 59, 59), "ok"),
        (utc(2025, 6, 4, 10), "warning"),  # exactly at the warning share
        (utc(2025, 6, 4, 16), "warning"),  # exactly at due: still answerable in time
        (utc(2025, 6, 4, 16) + US, "breached"),
    ],
)
def test_check_follows_the_current_time(office_clock: ClockState, now: datetime, expected: str) -> None:
    with time_machine.travel(now, tick=False):
        assert clock.check(office_clock) == expected
    assert clock.check(office_clock, now) == expected


def test_pause_and_resume_move_due_by_the_open_time_paused(office_clock: ClockState) -> None:
    # Paused Mon 15:00, resumed Tue 11:00: Mon 15-18 (3 h) + Tue 09-11 (2 h) = 5 h of open time.
    paused = clock.pause(office_clock, OFFICE, utc(2025, 6, 2, 15))
    assert paused.status is ClockStatus.PAUSED
    # Left at the pause: Mon 15-18 (3 h) + Tue 9 h + Wed 09-16 (7 h) = 19 h.
    assert paused.remaining == 19 * H
    resumed = clock.resume(paused, OFFICE, utc(2025, 6, 3, 11))
    assert resumed.status is ClockStatus.RUNNING
    assert resumed.paused_total == 5 * H
    assert resumed.remaining is None
    # Old due Wed 16:00 + 5 h: Wed 16-18 (2 h), Thu 09:00 + 3 h -> Thu 5 Jun 12:00.
    assert resumed.due_at == utc(2025, 6, 5, 12)
    assert OFFICE.elapsed(office_clock.due_at, resumed.due_at) == 5 * H
    # The warning (Wed 10:00) was still ahead, so it moves by 5 h too: Wed 15:00.
    assert resumed.warning_at == utc(2025, 6, 4, 15)

    # A second pause after the warning passed, Thu 10:00-10:30: due moves 30 min, the warning stays.
    again = clock.resume(clock.pause(resumed, OFFICE, utc(2025, 6, 5, 10)), OFFICE, utc(2025, 6, 5, 10, 30))
    assert again.due_at == utc(2025, 6, 5, 12, 30)
    assert again.warning_at == utc(2025, 6, 4, 15)
    assert again.paused_total == 5 * H + 30 * timedelta(minutes=1)


def test_pause_outside_opening_hours_costs_nothing() -> None:
    # Started Fri 6 Jun 10:00: Fri 8 h, Mon 9 h (17 h), Tue 09:00 + 7 h -> due Tue 10 Jun 16:00.
    state = clock.start(OFFICE, utc(2025, 6, 6, 10), 24 * H)
    assert state.due_at == utc(2025, 6, 10, 16)
    # Paused Saturday morning, resumed Sunday evening: no open time passed.
    resumed = clock.resume(clock.pause(state, OFFICE, utc(2025, 6, 7, 10)), OFFICE, utc(2025, 6, 8, 20))
    assert resumed.due_at == state.due_at
    assert resumed.paused_total == timedelta(0)


def test_pause_in_closed_time_keeps_a_due_at_closing_time() -> None:
    # Started Mon 2 Jun 07:00, before opening, with 9 business hours: due Mon 18:00, closing time.
    state = clock.start(OFFICE, utc(2025, 6, 2, 7), 9 * H)
    assert state.due_at == utc(2025, 6, 2, 18)
    # Paused 07:30-08:30, still before opening: nothing paused, so due stays Mon 18:00
    # rather than sliding to Tuesday's opening.
    resumed = clock.resume(clock.pause(state, OFFICE, utc(2025, 6, 2, 7, 30)), OFFICE, utc(2025, 6, 2, 8, 30))
    assert resumed.due_at == utc(2025, 6, 2, 18)


def test_paused_clock_is_judged_at_its_pause(office_clock: ClockState) -> None:
    paused = clock.pause(office_clock, OFFICE, utc(2025, 6, 3, 12))  # before the Wed 10:00 warning
    assert clock.check(paused, utc(2025, 6, 30)) == "ok"
    # Answered weeks later while still paused: the paused time does not count, so it is met.
    assert clock.stop(paused, utc(2025, 6, 30)).status is ClockStatus.MET


def test_stop_exactly_at_due_is_met_one_microsecond_later_breached(office_clock: ClockState) -> None:
    due = office_clock.due_at
    met = clock.stop(office_clock, due)
    assert met.status is ClockStatus.MET
    assert met.stopped_at == due
    assert met.breached_at is None
    late = clock.stop(office_clock, due + US)
    assert late.status is ClockStatus.BREACHED
    assert late.breached_at == due + US
    assert late.stopped_at == due + US
    assert clock.check(met, due + H) == "ok"
    assert clock.check(late, due + H) == "breached"


def test_breach_is_recorded_once(office_clock: ClockState) -> None:
    noticed = office_clock.due_at + timedelta(minutes=5)
    first = clock.mark_breached(office_clock, noticed)
    assert first.status is ClockStatus.BREACHED
    assert first.breached_at == noticed
    assert clock.mark_breached(first, noticed + H) == first
    # The answer comes later: still breached, with the first breach instant kept.
    answered = clock.stop(first, noticed + 2 * H)
    assert answered.status is ClockStatus.BREACHED
    assert answered.breached_at == noticed
    assert answered.stopped_at == noticed + 2 * H
    assert clock.mark_breached(answered, noticed + 3 * H) == answered


def test_answer_ingested_after_the_breach_job_still_counts_as_met(office_clock: ClockState) -> None:
    # The job flagged the clock at due + 5 min, then an e-mail relayed late shows the
    # answer went out a minute before due.
    flagged = clock.mark_breached(office_clock, office_clock.due_at + timedelta(minutes=5))
    answered = clock.stop(flagged, office_clock.due_at - timedelta(minutes=1))
    assert answered.status is ClockStatus.MET
    assert answered.breached_at is None


def test_mark_breached_refuses_a_clock_that_is_not_overdue(office_clock: ClockState) -> None:
    with pytest.raises(ValueError, match="not overdue"):
        clock.mark_breached(office_clock, office_clock.due_at)
    paused = clock.pause(office_clock, OFFICE, utc(2025, 6, 3, 12))
    with pytest.raises(ValueError, match="paused"):
        clock.mark_breached(paused, office_clock.due_at + H)


def test_pausing_an_overdue_clock_records_the_breach(office_clock: ClockState) -> None:
    late = office_clock.due_at + H
    state = clock.pause(office_clock, OFFICE, late)
    assert state.status is ClockStatus.BREACHED
    assert state.breached_at == late
    assert state.paused_at is None


def test_cancel_closes_without_a_breach(office_clock: ClockState) -> None:
    # Amazon "no response needed".
    cancelled = clock.cancel(office_clock, utc(2025, 6, 3, 9))
    assert cancelled.status is ClockStatus.CANCELLED
    assert cancelled.stopped_at == utc(2025, 6, 3, 9)
    assert clock.check(cancelled, utc(2025, 7, 1)) == "ok"
    assert clock.stop(cancelled, utc(2025, 7, 1)) == cancelled
    # Cancelling an overdue clock drops it from the metric but keeps the breach as history.
    breached = clock.mark_breached(office_clock, office_clock.due_at + H)
    dropped = clock.cancel(breached, office_clock.due_at + 2 * H)
    assert dropped.status is ClockStatus.CANCELLED
    assert dropped.breached_at == office_clock.due_at + H
    assert clock.check(dropped) == "ok"


def test_repeated_events_leave_the_state_alone(office_clock: ClockState) -> None:
    paused = clock.pause(office_clock, OFFICE, utc(2025, 6, 2, 15))
    assert clock.pause(paused, OFFICE, utc(2025, 6, 2, 16)) == paused
    assert clock.resume(office_clock, OFFICE, utc(2025, 6, 2, 16)) == office_clock
    met = clock.stop(office_clock, utc(2025, 6, 3, 9))
    assert clock.stop(met, utc(2025, 6, 3, 10)) == met
    assert clock.cancel(met, utc(2025, 6, 3, 10)) == met
    assert clock.pause(met, OFFICE, utc(2025, 6, 3, 10)) == met


def test_invalid_transitions_raise(office_clock: ClockState) -> None:
    with pytest.raises(ValueError, match="target must be positive"):
        clock.start(OFFICE, utc(2025, 6, 2, 10), timedelta(0))
    with pytest.raises(ValueError, match="warn_share"):
        clock.start(OFFICE, utc(2025, 6, 2, 10), H, warn_share=1.5)
    with pytest.raises(ValueError, match="aware"):
        clock.stop(office_clock, datetime(2025, 6, 3, 9))
    with pytest.raises(ValueError, match="earlier than"):
        clock.stop(office_clock, utc(2025, 6, 2, 9))
    paused = clock.pause(office_clock, OFFICE, utc(2025, 6, 2, 15))
    with pytest.raises(ValueError, match="earlier than"):
        clock.resume(paused, OFFICE, utc(2025, 6, 2, 14))


def test_state_read_back_from_text_columns() -> None:
    # The database stores the status as text; the dataclass turns it back into the enum.
    state = ClockState(
        started_at=utc(2025, 6, 2, 10),
        target=24 * H,
        warn_share=0.75,
        due_at=utc(2025, 6, 3, 10),
        warning_at=utc(2025, 6, 3, 4),
        status="paused",  # type: ignore[arg-type]
        paused_at=utc(2025, 6, 2, 12),
    )
    assert state.status is ClockStatus.PAUSED
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.status = ClockStatus.MET  # type: ignore[misc]
