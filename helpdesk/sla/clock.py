"""The per-ticket SLA clock as a small state machine over plain values.

A clock starts when a buyer message needs an answer and ends when it is
answered (``stop``), or when the platform says no answer is needed
(``cancel``).  While a ticket waits on the buyer the clock may be paused; the
open time spent paused is added to the due and warning instants on resume.

Every transition is a pure function returning a new :class:`ClockState`, so
the rules can be tested without a database and the ORM layer only maps
fields to columns.  Transitions that do not apply to the current status (a
second ``stop``, ``pause`` on a paused clock) return the state unchanged:
listeners may see the same event twice.  Instants must be aware; a
transition dated before the clock started (or a resume before its pause) is
a caller bug and raises ValueError.  Otherwise instants may arrive out of
order, because an answer relayed by e-mail can be ingested after a job has
already flagged the clock.

Status meanings: ``running`` and ``paused`` are live; ``breached`` with no
``stopped_at`` is live but overdue; ``met``, ``cancelled`` and ``breached``
with ``stopped_at`` are final.  A clock is breached only strictly after its
due instant: an answer exactly at ``due_at`` meets the target.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Literal

from helpdesk.sla.calendar import BusinessCalendar

__all__ = [
    "DEFAULT_WARN_SHARE",
    "CheckResult",
    "ClockState",
    "ClockStatus",
    "cancel",
    "check",
    "mark_breached",
    "pause",
    "resume",
    "start",
    "stop",
]

DEFAULT_WARN_SHARE = 0.75

CheckResult = Literal["ok", "warning", "breached"]


class ClockStatus(enum.StrEnum):
    """Where a clock stands; values are stored as text."""

    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class ClockState:
    """One response-time clock.  All instants are aware UTC datetimes.

    ``target`` is the open time allowed; ``due_at`` and ``warning_at`` are
    where that target (and ``warn_share`` of it) runs out on the calendar,
    moved later by every pause.  ``paused_total`` is the open time spent
    paused so far; ``remaining`` is the open time that was left when the
    current pause began, so a paused ticket can show "5 h left" without a
    calendar.
    """

    started_at: datetime
    target: timedelta
    warn_share: float
    due_at: datetime
    warning_at: datetime
    status: ClockStatus = ClockStatus.RUNNING
    paused_at: datetime | None = None
    paused_total: timedelta = timedelta(0)
    remaining: timedelta | None = None
    breached_at: datetime | None = None
    stopped_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.status.__class__ is not ClockStatus:  # text read back from the database
            object.__setattr__(self, "status", ClockStatus(self.status))

    @property
    def is_live(self) -> bool:
        """Still waiting for an answer (running, paused, or overdue and not yet stopped)."""
        return self.stopped_at is None and self.status is not ClockStatus.CANCELLED


_FIELDS = tuple(f.name for f in fields(ClockState))


def replace(state: ClockState, **changes: object) -> ClockState:
    """``dataclasses.replace`` without its per-call field introspection; the ingest path calls it per clock."""
    for name in _FIELDS:
        if name not in changes:
            changes[name] = getattr(state, name)
    return ClockState(**changes)  # type: ignore[arg-type]


def start(
    calendar: BusinessCalendar,
    at: datetime,
    target: timedelta,
    warn_share: float = DEFAULT_WARN_SHARE,
) -> ClockState:
    """A running clock for a message received at ``at`` that must be answered within ``target`` open time."""
    if target <= timedelta(0):
        raise ValueError(f"target must be positive, got {target}")
    if not 0 < warn_share <= 1:
        raise ValueError(f"warn_share must be in (0, 1], got {warn_share}")
    # open time is additive, so the due instant is reached by walking on from the warning
    # instant: one walk over the calendar instead of two
    warn_target = target * warn_share
    warning_at = calendar.add(at, warn_target)
    return ClockState(
        started_at=_utc(at),
        target=target,
        warn_share=warn_share,
        due_at=calendar.add(warning_at, target - warn_target),
        warning_at=warning_at,
    )


def pause(state: ClockState, calendar: BusinessCalendar, at: datetime) -> ClockState:
    """Stop counting from ``at`` (the ticket now waits on the buyer).

    A clock already past its due instant cannot be rescued by a pause: the
    breach is recorded instead and the clock keeps its overdue status.
    """
    if state.status is not ClockStatus.RUNNING:
        return state
    at = _not_before(at, state.started_at)
    if at > state.due_at:
        return mark_breached(state, at)
    return replace(
        state,
        status=ClockStatus.PAUSED,
        paused_at=at,
        remaining=calendar.elapsed(at, state.due_at),
    )


def resume(state: ClockState, calendar: BusinessCalendar, at: datetime) -> ClockState:
    """Count again from ``at``; due (and a warning still ahead) move later by the open time paused.

    Time paused outside opening hours costs nothing, so a pause from Saturday
    to Sunday on a weekday calendar leaves the due instant where it was.
    """
    if state.status is not ClockStatus.PAUSED or state.paused_at is None:
        return state
    at = _not_before(at, state.paused_at)
    paused = calendar.elapsed(state.paused_at, at)
    due_at, warning_at = state.due_at, state.warning_at
    if paused > timedelta(0):
        due_at = calendar.add(due_at, paused)
        if state.paused_at < warning_at:
            warning_at = calendar.add(warning_at, paused)
    return replace(
        state,
        status=ClockStatus.RUNNING,
        paused_at=None,
        paused_total=state.paused_total + paused,
        remaining=None,
        due_at=due_at,
        warning_at=warning_at,
    )


def stop(state: ClockState, at: datetime) -> ClockState:
    """The message was answered at ``at``: met if ``at`` is at or before the due instant, else breached.

    The answer's own instant decides, even when a job already flagged the
    clock: an answer sent before the due instant but ingested late is met,
    and the premature ``breached_at`` is cleared.  A paused clock is judged
    at its pause, so it is met.  The final pause is not added to
    ``paused_total``; that would need the calendar and cannot change the
    outcome.
    """
    if not state.is_live:
        return state
    at = _not_before(at, state.started_at)
    counted_until = min(at, state.paused_at) if state.paused_at is not None else at
    if counted_until <= state.due_at:
        return replace(state, status=ClockStatus.MET, breached_at=None, stopped_at=at)
    return replace(state, status=ClockStatus.BREACHED, breached_at=state.breached_at or at, stopped_at=at)


def cancel(state: ClockState, at: datetime) -> ClockState:
    """Close the clock without an outcome, e.g. Amazon's "no response needed".

    Allowed even when overdue: the platform then drops the message from its
    metric, so the helpdesk must not count it either.  ``breached_at`` stays
    as history.
    """
    if not state.is_live:
        return state
    return replace(state, status=ClockStatus.CANCELLED, stopped_at=_not_before(at, state.started_at))


def check(state: ClockState, now: datetime | None = None) -> CheckResult:
    """How a clock stands at ``now`` (default: the current time).

    ``warning`` from ``warning_at`` up to and including ``due_at``,
    ``breached`` strictly after it.  A paused clock is judged at the instant
    it was paused; final clocks report their outcome (met and cancelled
    are ``ok``).
    """
    if state.status is ClockStatus.BREACHED:
        return "breached"
    if state.status in (ClockStatus.MET, ClockStatus.CANCELLED):
        return "ok"
    if state.status is ClockStatus.PAUSED and state.paused_at is not None:
        at = state.paused_at
    else:
        at = datetime.now(UTC) if now is None else _utc(now)
    if at > state.due_at:
        return "breached"
    if at >= state.warning_at:
        return "warning"
    return "ok"


def mark_breached(state: ClockState, at: datetime) -> ClockState:
    """Record, once, that a live clock ran past its due instant; ``at`` is when it was noticed.

    Idempotent: an already recorded breach is kept with its first instant,
    and final clocks are left alone.  Marking a clock that is not overdue (a
    paused one, or one marked at or before ``due_at``) raises ValueError,
    because it would contradict :func:`check`.
    """
    if state.breached_at is not None or not state.is_live:
        return state
    at = _utc(at)
    if state.status is ClockStatus.PAUSED:
        raise ValueError("a paused clock cannot breach: resume it first")
    if at <= state.due_at:
        raise ValueError(f"clock is not overdue at {at.isoformat()}: due at {state.due_at.isoformat()}")
    return ClockState(  # spelled out: this runs for every overdue clock of an import
        state.started_at,
        state.target,
        state.warn_share,
        state.due_at,
        state.warning_at,
        ClockStatus.BREACHED,
        state.paused_at,
        state.paused_total,
        state.remaining,
        at,
        state.stopped_at,
    )


def _utc(at: datetime) -> datetime:
    if at.tzinfo is UTC:
        return at
    if at.utcoffset() is None:
        raise ValueError(f"clock instants must be aware datetimes, got {at!r}")
    return at.astimezone(UTC)


def _not_before(at: datetime, earliest: datetime) -> datetime:
    at = _utc(at)
    if at < earliest:
        raise ValueError(f"clock transition at {at.isoformat()} is earlier than {earliest.isoformat()}")
    return at
