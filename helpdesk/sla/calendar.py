"""Open-time arithmetic on a weekly business calendar.

A response-time target such as "24 business hours" is a length of *open time*,
not of wall-clock time.  :class:`BusinessCalendar` answers the four questions
the SLA engine asks: when will so much open time have passed (``add``), how
much open time lies between two instants (``elapsed``), is the desk open now
(``is_open``) and when does it next open (``next_open``).

The counting rule, in one sentence: **open time is real elapsed time during
which the local wall clock is inside an opening interval**.  Interval bounds
are local wall-clock times, so a 09:00-18:00 day is 9 h on a daylight-saving
day as on any other, while a 24/7 calendar counts real hours and its DST days
are 23 h or 25 h long.  When a bound falls in a DST gap it takes effect at the
first instant the clock reads that time or later (the transition itself);
when it falls in a repeated hour it takes effect at its first occurrence.

Everything is computed day by day over integer microseconds since the epoch,
so the cost is proportional to the number of local days a computation spans
and results are exact to the microsecond.  All inputs must be aware
datetimes; all results are in UTC.  No database, no Flask.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = ["ALWAYS_OPEN_WEEK", "BusinessCalendar", "DayHours", "Interval", "parse_hours"]

Interval = tuple[int, int]
"""An opening interval as ``(start, end)`` minutes of the local day, half-open; ``end`` may be 1440 (24:00)."""

DayHours = tuple[Interval, ...]
"""The opening intervals of one weekday, sorted and not overlapping."""

MINUTES_PER_DAY = 1440
ALWAYS_OPEN_WEEK: tuple[DayHours, ...] = (((0, MINUTES_PER_DAY),),) * 7

MAX_CLOSED_DAYS = 400
"""How many consecutive closed days a forward search crosses before giving up.

Longer than any run of holidays plus closures a real desk has, short enough
that a calendar which never opens fails fast instead of looping."""

_US_PER_MINUTE = 60_000_000
_US_PER_DAY = MINUTES_PER_DAY * _US_PER_MINUTE
_ONE_US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _EPOCH.toordinal()

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """An immutable weekly calendar: time zone, opening hours, holidays and closures.

    ``week`` holds seven entries, Monday first, each a tuple of half-open
    ``(start, end)`` intervals in minutes of the local day (``end`` may be
    1440 for 24:00); several intervals per day express a lunch break.  Build it
    with :meth:`always` or :meth:`weekly` rather than by hand.

    ``holiday_country`` / ``holiday_subdiv`` name public holidays in the
    ``holidays`` package's codes; a holiday closes the whole local date.
    ``closures`` are extra closed dates (company events, stock-taking).  When
    ``makeup_workdays`` is set, a weekend date the country declares a working
    day (China's 调休 make-up days) opens with the hours of the first weekday
    that has any, if the calendar is otherwise closed that weekday.
    """

    timezone: str = "UTC"
    week: tuple[DayHours, ...] = ALWAYS_OPEN_WEEK
    holiday_country: str | None = None
    holiday_subdiv: str | None = None
    closures: frozenset[date] = frozenset()
    makeup_workdays: bool = True
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _plain_24_7: bool = field(init=False, repr=False, compare=False)
    _makeup_hours: DayHours = field(init=False, repr=False, compare=False)
    _spans: dict[int, list[tuple[int, int]]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}: use an IANA name such as 'Europe/Berlin'") from None
        if len(self.week) != 7:
            raise ValueError(f"week needs 7 entries (Monday first), got {len(self.week)}")
        week = tuple(_check_day(_DAY_NAMES[i], day) for i, day in enumerate(self.week))
        country = self.holiday_country.upper() if self.holiday_country else None
        if country is not None:
            _check_country(country, self.holiday_subdiv)
        elif self.holiday_subdiv is not None:
            raise ValueError("holiday_subdiv given without holiday_country")
        closures = frozenset(self.closures)
        object.__setattr__(self, "week", week)
        object.__setattr__(self, "holiday_country", country)
        object.__setattr__(self, "closures", closures)
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_plain_24_7", week == ALWAYS_OPEN_WEEK and country is None and not closures)
        object.__setattr__(self, "_makeup_hours", next((day for day in week if day), ()))
        # a batch of messages falls on a handful of local dates: each date's spans are worked out once
        object.__setattr__(self, "_spans", {})

    # -- constructors -------------------------------------------------------

    @classmethod
    def always(
        cls,
        timezone: str = "UTC",
        *,
        holiday_country: str | None = None,
        holiday_subdiv: str | None = None,
        closures: Iterable[date] = (),
    ) -> BusinessCalendar:
        """A 24/7 calendar; with a holiday country it is "24/7 minus public holidays".

        The time zone only matters when holidays or closures are given (it
        decides where a closed local date begins and ends).
        """
        return cls(
            timezone=timezone,
            week=ALWAYS_OPEN_WEEK,
            holiday_country=holiday_country,
            holiday_subdiv=holiday_subdiv,
            closures=frozenset(closures),
        )

    @classmethod
    def weekly(
        cls,
        timezone: str,
        hours: Mapping[str | int, str | Sequence[tuple[time | str, time | str]]],
        *,
        holiday_country: str | None = None,
        holiday_subdiv: str | None = None,
        closures: Iterable[date] = (),
        makeup_workdays: bool = True,
    ) -> BusinessCalendar:
        """A calendar from readable opening hours, e.g. ``{"mon-fri": "09:00-12:30, 13:30-18:00"}``.

        Keys are day names (``mon`` … ``sun``), ranges of them (``mon-fri``) or
        weekday numbers (0 = Monday); days not named are closed.  Values are
        parsed by :func:`parse_hours`.  A later key overrides an earlier one
        for the days it names, so ``{"mon-sun": …, "sun": ""}`` closes Sunday.
        """
        week: list[DayHours] = [()] * 7
        for key, spec in hours.items():
            parsed = parse_hours(spec)
            for weekday in _weekdays(key):
                week[weekday] = parsed
        return cls(
            timezone=timezone,
            week=tuple(week),
            holiday_country=holiday_country,
            holiday_subdiv=holiday_subdiv,
            closures=frozenset(closures),
            makeup_workdays=makeup_workdays,
        )

    # -- queries ------------------------------------------------------------

    @property
    def is_24_7(self) -> bool:
        """Open every minute of every day, with no holidays or closures."""
        return self._plain_24_7

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of open time has passed since ``start``.

        Counting begins at ``start`` or, when the desk is closed then, at the
        next opening; so ``add(s, timedelta(0))`` is ``next_open(s)``.  A
        target that runs out exactly at a closing time is due at that closing
        time, not at the next opening.
        """
        if duration < _ZERO:
            raise ValueError(f"duration must not be negative, got {duration}")
        if self._plain_24_7:
            # every instant is open: plain arithmetic in UTC, the common case for marketplace policies
            if not isinstance(start, datetime) or start.utcoffset() is None:
                raise ValueError(f"start must be an aware datetime, got {start!r}")
            return start.astimezone(UTC) + duration
        start_us = _to_us(start, "start")
        left = duration // _ONE_US
        if not any(self.week):
            raise ValueError(f"calendar {self.timezone} has no opening hours on any weekday, so it never opens")
        # the walk of _windows, inlined: clocks start here for every message of an import
        ordinal = self._local_ordinal(start_us)
        closed_run = 0
        while True:
            spans = self._day_spans(ordinal)
            if spans:
                closed_run = 0
                for open_us, close_us in spans:
                    if close_us <= start_us:
                        continue
                    begin = open_us if open_us > start_us else start_us
                    if left <= close_us - begin:
                        return _from_us(begin + left)
                    left -= close_us - begin
            else:
                closed_run += 1
                if closed_run > MAX_CLOSED_DAYS:
                    self._never_open(ordinal)
            ordinal += 1

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Open time between two instants; negative when ``end`` is before ``start``.

        The inverse of :meth:`add`: ``elapsed(s, add(s, d)) == d`` for every
        ``s`` and every ``d >= 0``.
        """
        start_us = _to_us(start, "start")
        end_us = _to_us(end, "end")
        if end_us < start_us:
            return -self.elapsed(end, start)
        if self._plain_24_7:
            return timedelta(microseconds=end_us - start_us)
        total = 0
        for open_us, close_us in self._windows(start_us, until_us=end_us):
            if open_us >= end_us:
                break
            total += min(close_us, end_us) - max(open_us, start_us)
        return timedelta(microseconds=total)

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` lies inside an opening interval (start included, end excluded)."""
        at_us = _to_us(at, "at")
        if self._plain_24_7:
            return True
        for open_us, _close_us in self._windows(at_us, until_us=at_us):
            return open_us <= at_us
        return False

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself when the desk is open then, else the start of the next opening interval."""
        at_us = _to_us(at, "at")
        if self._plain_24_7:
            return _from_us(at_us)
        for open_us, _close_us in self._windows(at_us):
            return _from_us(max(open_us, at_us))
        raise AssertionError("unreachable: _windows never ends without raising")  # pragma: no cover

    # -- internals ----------------------------------------------------------

    def _windows(self, from_us: int, until_us: int | None = None) -> Iterator[tuple[int, int]]:
        """Opening intervals in UTC microseconds that end after ``from_us``, in order.

        The walk starts at the local date of ``from_us``: an earlier date's
        intervals end by that date's first midnight, which is not after
        ``from_us``.  It runs one date past the local date of ``until_us``,
        because where a repeated hour spans midnight the next date has begun
        before the clock shows it for the last time.  Without ``until_us`` the
        walk is endless unless the calendar stays closed for
        :data:`MAX_CLOSED_DAYS`, which raises ValueError.
        """
        if until_us is None and not any(self.week):
            raise ValueError(f"calendar {self.timezone} has no opening hours on any weekday, so it never opens")
        ordinal = self._local_ordinal(from_us)
        last = None if until_us is None else self._local_ordinal(until_us) + 1
        closed_run = 0
        while last is None or ordinal <= last:
            spans = self._day_spans(ordinal)
            if spans:
                closed_run = 0
                for span in spans:
                    if span[1] > from_us:
                        yield span
            elif last is None:
                closed_run += 1
                if closed_run > MAX_CLOSED_DAYS:
                    self._never_open(ordinal)
            ordinal += 1

    def _never_open(self, ordinal: int) -> NoReturn:
        raise ValueError(
            f"calendar {self.timezone} has no open time in the {MAX_CLOSED_DAYS} days up to "
            f"{date.fromordinal(ordinal).isoformat()}: check its holidays and closures"
        )

    def _day_spans(self, ordinal: int) -> list[tuple[int, int]]:
        """The opening intervals of one local date as UTC microseconds (empty when closed), memoised."""
        spans = self._spans.get(ordinal)
        if spans is None:
            if len(self._spans) > 4096:
                self._spans.clear()
            spans = self._spans[ordinal] = self._compute_day_spans(ordinal)
        return spans

    def _compute_day_spans(self, ordinal: int) -> list[tuple[int, int]]:
        day = date.fromordinal(ordinal)
        if day in self.closures:
            return []
        hours = self.week[day.weekday()]
        if self.holiday_country is not None:
            closed, makeup = _holiday_dates(self.holiday_country, self.holiday_subdiv, day.year)
            if day in closed:
                return []
            if not hours and self.makeup_workdays and day in makeup:
                hours = self._makeup_hours
        spans = []
        for start_min, end_min in hours:
            open_us = self._wall_to_us(ordinal, start_min)
            close_us = self._wall_to_us(ordinal, end_min)
            if close_us > open_us:  # an interval wholly inside a DST gap has no real time
                spans.append((open_us, close_us))
        return spans

    def _wall_to_us(self, ordinal: int, minute: int) -> int:
        """The first instant at which the local clock reads ``minute`` on that date, or later."""
        if minute == MINUTES_PER_DAY:
            ordinal, minute = ordinal + 1, 0
        wall_us = (ordinal - _EPOCH_ORDINAL) * _US_PER_DAY + minute * _US_PER_MINUTE
        day = date.fromordinal(ordinal)
        local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=self._zone)
        first = local.utcoffset()
        second = local.replace(fold=1).utcoffset()
        assert first is not None
        assert second is not None
        if first >= second:  # unambiguous, or a repeated hour whose first occurrence wins
            return wall_us - first // _ONE_US
        return self._gap_transition(wall_us - second // _ONE_US, wall_us - first // _ONE_US, first)

    def _gap_transition(self, before_us: int, after_us: int, offset_before: timedelta) -> int:
        """The instant the clock jumped over a gap: bisect between an instant before and one after it."""
        while after_us - before_us > 1:
            middle = (before_us + after_us) // 2
            if _from_us(middle).astimezone(self._zone).utcoffset() == offset_before:
                before_us = middle
            else:
                after_us = middle
        return after_us

    def _local_ordinal(self, at_us: int) -> int:
        return _from_us(at_us).astimezone(self._zone).toordinal()


def parse_hours(spec: str | Sequence[tuple[time | str, time | str]]) -> DayHours:
    """One day's opening intervals from ``"09:00-12:30, 13:30-18:00"`` or ``[(time(9), time(18))]``.

    An empty string or sequence means closed.  Ends may be ``"24:00"``,
    ``time.max`` or midnight, all meaning the end of the day; intervals never
    cross midnight (write ``22:00-24:00`` on one day and ``00:00-02:00`` on the
    next).  Times are whole minutes.
    """
    if isinstance(spec, str):
        pairs: list[tuple[time | str, time | str]] = []
        for part in filter(None, (piece.strip() for piece in spec.split(","))):
            start, sep, end = part.partition("-")
            if not sep:
                raise ValueError(f"opening interval {part!r} is not of the form HH:MM-HH:MM")
            pairs.append((start, end))
    else:
        pairs = list(spec)
    return _check_day("day", tuple((_minute(start, is_end=False), _minute(end, is_end=True)) for start, end in pairs))


def _minute(value: time | str, *, is_end: bool) -> int:
    if isinstance(value, time):
        if value == time.max and is_end:
            return MINUTES_PER_DAY
        if value.second or value.microsecond:
            raise ValueError(f"opening hours are whole minutes, got {value.isoformat()}")
        minute = value.hour * 60 + value.minute
    else:
        match = _CLOCK_RE.match(value)
        if match is None:
            raise ValueError(f"time {value!r} is not of the form HH:MM")
        hour, minute_of_hour = int(match.group(1)), int(match.group(2))
        if minute_of_hour > 59 or hour > 24 or (hour == 24 and minute_of_hour):
            raise ValueError(f"time {value!r} is not a time of day")
        minute = hour * 60 + minute_of_hour
    return MINUTES_PER_DAY if is_end and minute == 0 else minute


def _check_day(name: str, day: Iterable[Interval]) -> DayHours:
    intervals = tuple((int(start), int(end)) for start, end in day)
    previous_end = 0
    for start, end in intervals:
        if not 0 <= start < end <= MINUTES_PER_DAY:
            raise ValueError(f"{name}: interval {start}-{end} must satisfy 0 <= start < end <= 1440 minutes")
        if start < previous_end:
            raise ValueError(f"{name}: opening intervals must be sorted and must not overlap")
        previous_end = end
    return intervals


def _weekdays(key: str | int) -> range:
    if isinstance(key, int):
        if not 0 <= key <= 6:
            raise ValueError(f"weekday number {key} is not in 0 (Monday) .. 6 (Sunday)")
        return range(key, key + 1)
    first, _, last = key.strip().lower().partition("-")
    try:
        lo = _DAY_NAMES.index(first[:3])
        hi = _DAY_NAMES.index(last[:3]) if last else lo
    except ValueError:
        raise ValueError(f"unknown day {key!r}: use mon … sun or a range such as mon-fri") from None
    if hi < lo:
        raise ValueError(f"day range {key!r} runs backwards")
    return range(lo, hi + 1)


@functools.cache
def _supported_countries() -> dict[str, list[str]]:
    return holidays.list_supported_countries()


def _check_country(country: str, subdiv: str | None) -> None:
    supported = _supported_countries()
    if country not in supported:
        raise ValueError(f"holiday country {country!r} is not known to the holidays package")
    if subdiv is not None and subdiv not in supported[country]:
        raise ValueError(f"holiday subdivision {subdiv!r} is not known for {country}")


@functools.lru_cache(maxsize=256)
def _holiday_dates(country: str, subdiv: str | None, year: int) -> tuple[frozenset[date], frozenset[date]]:
    """Public holidays and make-up weekend working days of one year, cached per year.

    The following year is loaded too: a make-up day late in December can be
    declared for a holiday of the next year.
    """
    table = holidays.country_holidays(country, subdiv=subdiv, years=(year, year + 1))
    closed = frozenset(day for day in table if day.year == year)
    makeup = frozenset(day for day in getattr(table, "weekend_workdays", ()) if day.year == year)
    return closed, makeup


_ZERO = timedelta(0)


def _to_us(value: datetime, name: str) -> int:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {value!r}")
    return (value - _EPOCH) // _ONE_US


def _from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)
