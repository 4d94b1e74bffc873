"""Open-time arithmetic of BusinessCalendar.

Every expected instant is worked out by hand in the comment beside it, in
local time first and then in UTC.  Offsets used: Europe/Berlin CET +01 /
CEST +02 (2025 changes on 30 March and 26 October), America/New_York EST -05
/ EDT -04 (2025 changes on 9 March and 2 November), Asia/Shanghai +08 all
year, Asia/Singapore +08.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from helpdesk.sla.calendar import ALWAYS_OPEN_WEEK, BusinessCalendar, parse_hours

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
US = timedelta(microseconds=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


def office(timezone: str = "Europe/Berlin", **kwargs: object) -> BusinessCalendar:
    """Monday to Friday, 09:00-18:00."""
    return BusinessCalendar.weekly(timezone, {"mon-fri": "09:00-18:00"}, **kwargs)  # type: ignore[arg-type]


# -- weekends, holidays, closures ----------------------------------------------------------


def test_friday_afternoon_target_skips_the_weekend() -> None:
    # Fri 13 Jun 2025 17:00 CEST: one hour left that day (17-18), Sat/Sun closed,
    # the second hour runs Mon 16 Jun 09:00-10:00 CEST = 08:00 UTC.
    due = office().add(local(BERLIN, 2025, 6, 13, 17), 2 * H)
    assert due == utc(2025, 6, 16, 8)
    assert due.tzinfo is UTC


def test_target_that_runs_out_at_closing_time_is_due_at_closing_time() -> None:
    # Fri 17:00 + 1 h is Fri 18:00 CEST = 16:00 UTC, not Monday's opening.
    assert office().add(local(BERLIN, 2025, 6, 13, 17), H) == utc(2025, 6, 13, 16)


def test_german_unity_day_is_skipped() -> None:
    # Thu 2 Oct 2025 17:00 CEST: 17-18 is the first hour; Fri 3 Oct is German Unity Day,
    # then the weekend; Mon 6 Oct 09:00-10:00 CEST (still summer time) = 08:00 UTC.
    start = local(BERLIN, 2025, 10, 2, 17)
    assert office(holiday_country="DE").add(start, 2 * H) == utc(2025, 10, 6, 8)
    # Without holidays the second hour is Fri 3 Oct 09:00-10:00 CEST = 08:00 UTC.
    assert office().add(start, 2 * H) == utc(2025, 10, 3, 8)


def test_state_holiday_needs_the_subdivision() -> None:
    # Corpus Christi, Thu 19 Jun 2025, is a holiday in Bavaria but not nationwide.
    # Wed 18 Jun 17:00 CEST + 2 h: 17-18 on Wed, then 09-10 on the next open day.
    start = local(BERLIN, 2025, 6, 18, 17)
    assert office(holiday_country="DE").add(start, 2 * H) == utc(2025, 6, 19, 8)  # Thu 10:00 CEST
    assert office(holiday_country="DE", holiday_subdiv="BY").add(start, 2 * H) == utc(2025, 6, 20, 8)  # Fri


def test_chinese_national_day_week_is_skipped() -> None:
    # Tue 30 Sep 2025 17:00 CST: 17-18 is the first hour.  1-3 Oct National Day,
    # 4-5 Oct weekend, 6 Oct Mid-Autumn, 7-8 Oct days off moved from weekends:
    # the next working day is Thu 9 Oct, 09:00-10:00 CST = 02:00 UTC.
    calendar = office("Asia/Shanghai", holiday_country="CN")
    assert calendar.add(local(SHANGHAI, 2025, 9, 30, 17), 2 * H) == utc(2025, 10, 9, 2)


def test_chinese_makeup_sunday_is_a_working_day() -> None:
    # Sun 28 Sep 2025 is a make-up working day (it pays for 7 Oct off).
    # Fri 26 Sep 17:00 CST: 17-18 on Friday, Saturday closed, Sunday opens with
    # Monday's hours: 09:00-10:00 CST on 28 Sep = 02:00 UTC.
    start = local(SHANGHAI, 2025, 9, 26, 17)
    calendar = office("Asia/Shanghai", holiday_country="CN")
    assert calendar.add(start, 2 * H) == utc(2025, 9, 28, 2)
    assert calendar.is_open(local(SHANGHAI, 2025, 9, 28, 12))
    # With make-up days ignored the second hour is Mon 29 Sep 09:00-10:00 CST.
    plain = office("Asia/Shanghai", holiday_country="CN", makeup_workdays=False)
    assert plain.add(start, 2 * H) == utc(2025, 9, 29, 2)


def test_closure_dates_are_skipped() -> None:
    # Wed 18 Jun 2025 closed for stock-taking.  Tue 17 Jun 17:00 CEST + 2 h:
    # 17-18 on Tuesday, Wednesday closed, Thu 19 Jun 09:00-10:00 CEST = 08:00 UTC.
    calendar = office(closures=[date(2025, 6, 18)])
    assert calendar.add(local(BERLIN, 2025, 6, 17, 17), 2 * H) == utc(2025, 6, 19, 8)
    assert not calendar.is_open(local(BERLIN, 2025, 6, 18, 12))


def test_24_7_minus_holidays_closes_the_whole_local_date() -> None:
    # Singapore, Christmas Thu 25 Dec 2025.  Wed 24 Dec 12:00 SGT + 24 h:
    # 12 h until midnight, 25 Dec closed, 12 h more on Fri 26 Dec = 12:00 SGT = 04:00 UTC.
    calendar = BusinessCalendar.always("Asia/Singapore", holiday_country="SG")
    start = utc(2025, 12, 24, 4)
    assert calendar.add(start, 24 * H) == utc(2025, 12, 26, 4)
    assert BusinessCalendar.always("Asia/Singapore").add(start, 24 * H) == utc(2025, 12, 25, 4)


# -- daylight-saving time --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "due"),
    [
        # Sat 29 Mar 2025 12:00 CET = 11:00 UTC; 24 real hours later is 11:00 UTC on
        # Sunday, which the clocks (now CEST) show as 13:00.
        pytest.param(local(BERLIN, 2025, 3, 29, 12), utc(2025, 3, 30, 11), id="berlin-spring"),
        # Sat 25 Oct 2025 12:00 CEST = 10:00 UTC; +24 h = 10:00 UTC = 11:00 CET.
        pytest.param(local(BERLIN, 2025, 10, 25, 12), utc(2025, 10, 26, 10), id="berlin-autumn"),
        # Sat 8 Mar 2025 12:00 EST = 17:00 UTC; +24 h = 17:00 UTC = 13:00 EDT.
        pytest.param(local(NEW_YORK, 2025, 3, 8, 12), utc(2025, 3, 9, 17), id="new-york-spring"),
        # Sat 1 Nov 2025 12:00 EDT = 16:00 UTC; +24 h = 16:00 UTC = 11:00 EST.
        pytest.param(local(NEW_YORK, 2025, 11, 1, 12), utc(2025, 11, 2, 16), id="new-york-autumn"),
    ],
)
def test_24_7_counts_real_elapsed_time_across_dst(start: datetime, due: datetime) -> None:
    zone = str(start.tzinfo)
    assert BusinessCalendar.always(zone).add(start, 24 * H) == due
    # The day-walking path (forced by an irrelevant closure) agrees with the shortcut.
    walked = BusinessCalendar.always(zone, closures=[date(1999, 1, 1)])
    assert walked.add(start, 24 * H) == due
    assert walked.elapsed(start, due) == 24 * H


@pytest.mark.parametrize(
    ("zone", "sunday", "hours"),
    [
        pytest.param("Europe/Berlin", date(2025, 3, 30), 23, id="berlin-spring"),
        pytest.param("Europe/Berlin", date(2025, 10, 26), 25, id="berlin-autumn"),
        pytest.param("America/New_York", date(2025, 3, 9), 23, id="new-york-spring"),
        pytest.param("America/New_York", date(2025, 11, 2), 25, id="new-york-autumn"),
    ],
)
def test_dst_sunday_length(zone: str, sunday: date, hours: int) -> None:
    # Local midnight to local midnight: 23 or 25 real hours on a 24/7 calendar,
    # but 09:00-18:00 is still 9 hours of business time.
    tz = ZoneInfo(zone)
    begin = datetime.combine(sunday, time(0), tz)
    end = datetime.combine(sunday + timedelta(days=1), time(0), tz)
    walked = BusinessCalendar.always(zone, closures=[date(1999, 1, 1)])
    assert walked.elapsed(begin, end) == hours * H
    every_day = BusinessCalendar.weekly(zone, {"mon-sun": "09:00-18:00"})
    assert every_day.elapsed(begin, end) == 9 * H


def test_business_hours_across_the_eu_dst_weekends() -> None:
    weekdays = office()
    # Fri 28 Mar 2025 17:00 CET (16:00 UTC) + 2 h: 17-18 Friday, Mon 31 Mar 09:00-10:00 CEST = 08:00 UTC.
    assert weekdays.add(local(BERLIN, 2025, 3, 28, 17), 2 * H) == utc(2025, 3, 31, 8)
    every_day = BusinessCalendar.weekly("Europe/Berlin", {"mon-sun": "09:00-18:00"})
    # Sat 29 Mar 17:00 CET + 2 h: 17-18 Saturday, Sun 30 Mar 09:00-10:00 CEST = 08:00 UTC.
    assert every_day.add(local(BERLIN, 2025, 3, 29, 17), 2 * H) == utc(2025, 3, 30, 8)
    # Sat 25 Oct 17:00 CEST + 2 h: 17-18 Saturday, Sun 26 Oct 09:00-10:00 CET = 09:00 UTC.
    assert every_day.add(local(BERLIN, 2025, 10, 25, 17), 2 * H) == utc(2025, 10, 26, 9)
    # A 12 h target started Sat 29 Mar 09:00 CET: 9 h Saturday, 3 h Sunday 09:00-12:00 CEST = 10:00 UTC.
    assert every_day.add(local(BERLIN, 2025, 3, 29, 9), 12 * H) == utc(2025, 3, 30, 10)


def test_business_hours_across_the_us_dst_weekends() -> None:
    weekdays = office("America/New_York")
    # Fri 7 Mar 2025 17:00 EST + 2 h: 17-18 Friday, Mon 10 Mar 09:00-10:00 EDT = 14:00 UTC.
    assert weekdays.add(local(NEW_YORK, 2025, 3, 7, 17), 2 * H) == utc(2025, 3, 10, 14)
    # Fri 31 Oct 2025 17:00 EDT + 2 h: 17-18 Friday, Mon 3 Nov 09:00-10:00 EST = 15:00 UTC.
    assert weekdays.add(local(NEW_YORK, 2025, 10, 31, 17), 2 * H) == utc(2025, 11, 3, 15)


def test_bounds_inside_a_gap_or_a_repeated_hour() -> None:
    calendar = BusinessCalendar.weekly("Europe/Berlin", {"sun": "02:30-06:00"})
    # 30 Mar 2025: clocks jump 02:00 CET -> 03:00 CEST, so 02:30 never shows; the desk opens
    # at the jump, 01:00 UTC, and closes 06:00 CEST = 04:00 UTC: 3 real hours.
    assert calendar.next_open(utc(2025, 3, 29)) == utc(2025, 3, 30, 1)
    assert calendar.elapsed(utc(2025, 3, 29), utc(2025, 3, 31)) == 3 * H
    # 26 Oct 2025: 02:00-03:00 happens twice; the desk opens at the first 02:30 (CEST,
    # 00:30 UTC) and closes 06:00 CET = 05:00 UTC: 4.5 real hours.
    assert calendar.next_open(utc(2025, 10, 25)) == utc(2025, 10, 26, 0, 30)
    assert calendar.elapsed(utc(2025, 10, 25), utc(2025, 10, 27)) == 4 * H + 30 * timedelta(minutes=1)


def test_dst_switch_at_midnight() -> None:
    # Santiago (CLT -04 / CLST -03) switches at midnight.  Hours: Sat 22:00-24:00, Sun 00:00-01:30 and 09:00-10:00.
    calendar = BusinessCalendar.weekly("America/Santiago", {"sat": "22:00-24:00", "sun": "00:00-01:30, 09:00-10:00"})
    # 6 Apr 2025: at Sun 00:00 -03 (03:00 UTC) clocks go back to Sat 23:00 -04, so Saturday's
    # 22:00-24:00 lasts 01:00-04:00 UTC (3 h, the last hour twice), Sunday 00:00-01:30 -04 is
    # 04:00-05:30 UTC (1.5 h) and 09:00-10:00 -04 is 1 h: 5.5 h in all.
    assert calendar.next_open(utc(2025, 4, 5)) == utc(2025, 4, 6, 1)
    assert calendar.elapsed(utc(2025, 4, 5), utc(2025, 4, 7)) == 5 * H + 30 * timedelta(minutes=1)
    # 7 Sep 2025: Sun 00:00 -04 (04:00 UTC) becomes 01:00 -03.  Saturday 22:00-24:00 -04 is
    # 02:00-04:00 UTC (2 h), Sunday opens at the jump and closes 01:30 -03 = 04:30 UTC (0.5 h),
    # 09:00-10:00 -03 is 1 h: 3.5 h in all.
    assert calendar.elapsed(utc(2025, 9, 6), utc(2025, 9, 8)) == 3 * H + 30 * timedelta(minutes=1)


def test_interval_wholly_inside_the_gap_has_no_open_time() -> None:
    # 02:00-02:45 does not exist on 30 Mar 2025, so the next opening is Sun 6 Apr 02:00 CEST = 00:00 UTC.
    calendar = BusinessCalendar.weekly("Europe/Berlin", {"sun": "02:00-02:45"})
    assert calendar.next_open(utc(2025, 3, 29)) == utc(2025, 4, 6, 0)


# -- the same ticket, two calendars ----------------------------------------------------------


def test_shanghai_seller_on_amazon_com_gets_two_different_due_times() -> None:
    # An amazon.com buyer writes Fri 13 Jun 2025 16:00 EDT = 20:00 UTC = Sat 14 Jun 04:00 CST.
    received = local(NEW_YORK, 2025, 6, 13, 16)
    # Amazon counts 24 calendar hours: due Sat 14 Jun 20:00 UTC, whatever the seller's hours.
    amazon_rule = BusinessCalendar.always("America/New_York")
    assert amazon_rule.add(received, 24 * H) == utc(2025, 6, 14, 20)
    # The seller's own office in Shanghai (Mon-Fri 09-18, CN holidays, none in mid-June):
    # the weekend is closed, Mon 16 and Tue 17 Jun give 9 h each (18 h), the last 6 h run
    # Wed 18 Jun 09:00-15:00 CST, so 24 business hours are due at 07:00 UTC on Wednesday.
    shanghai_office = office("Asia/Shanghai", holiday_country="CN")
    assert shanghai_office.add(received, 24 * H) == utc(2025, 6, 18, 7)


# -- opening hours, boundaries --------------------------------------------------------------


def test_start_outside_hours_begins_at_the_next_opening() -> None:
    calendar = office()
    # Mon 16 Jun 2025 07:30 CEST: counting starts 09:00, so 30 min run out at 09:30 CEST = 07:30 UTC.
    assert calendar.add(local(BERLIN, 2025, 6, 16, 7, 30), timedelta(minutes=30)) == utc(2025, 6, 16, 7, 30)
    # A zero target is due at the opening itself: 09:00 CEST = 07:00 UTC.
    assert calendar.add(local(BERLIN, 2025, 6, 16, 7, 30), timedelta(0)) == utc(2025, 6, 16, 7)
    # Mon 19:00 CEST + 1 h: Tue 17 Jun 09:00-10:00 CEST = 08:00 UTC.
    assert calendar.add(local(BERLIN, 2025, 6, 16, 19), H) == utc(2025, 6, 17, 8)


def test_is_open_and_next_open_at_the_edges() -> None:
    calendar = office()
    opening = local(BERLIN, 2025, 6, 13, 9)
    closing = local(BERLIN, 2025, 6, 13, 18)
    assert calendar.is_open(opening)
    assert not calendar.is_open(opening - US)
    assert calendar.is_open(closing - US)
    assert not calendar.is_open(closing)
    assert calendar.next_open(opening + H) == opening + H
    # Closing time Friday 18:00: next opening Mon 16 Jun 09:00 CEST = 07:00 UTC.
    assert calendar.next_open(closing) == utc(2025, 6, 16, 7)


def test_lunch_break() -> None:
    calendar = BusinessCalendar.weekly("Europe/Berlin", {"mon-fri": "09:00-12:00, 13:00-18:00"})
    monday = (2025, 6, 16)
    # 11:00 + 2 h: 11-12, lunch, 13-14 -> 14:00 CEST = 12:00 UTC.
    assert calendar.add(local(BERLIN, *monday, 11), 2 * H) == utc(*monday, 12)
    # 11:00 + 1 h runs out as lunch begins: 12:00 CEST = 10:00 UTC.
    assert calendar.add(local(BERLIN, *monday, 11), H) == utc(*monday, 10)
    # 08:00 to 20:00 holds 3 h + 5 h of business time.
    assert calendar.elapsed(local(BERLIN, *monday, 8), local(BERLIN, *monday, 20)) == 8 * H
    assert not calendar.is_open(local(BERLIN, *monday, 12, 30))


def test_later_keys_override_earlier_ones() -> None:
    calendar = BusinessCalendar.weekly("UTC", {"mon-sun": "09:00-18:00", "sun": "", 5: "10:00-14:00"})
    assert calendar.week[0] == ((540, 1080),)
    assert calendar.week[5] == ((600, 840),)
    assert calendar.week[6] == ()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("09:00-12:30, 13:30-18:00", ((540, 750), (810, 1080))),
        ("22:00-24:00", ((1320, 1440),)),
        ("", ()),
        ([(time(22), time.max)], ((1320, 1440),)),
        ([(time(22), time(0))], ((1320, 1440),)),
        ([("00:00", "24:00")], ((0, 1440),)),
    ],
)
def test_parse_hours(spec: object, expected: tuple[tuple[int, int], ...]) -> None:
    assert parse_hours(spec) == expected  # type: ignore[arg-type]


def test_always_is_trivially_24_7() -> None:
    calendar = BusinessCalendar.always()
    assert calendar.is_24_7
    assert calendar.week == ALWAYS_OPEN_WEEK
    assert not BusinessCalendar.always(holiday_country="DE").is_24_7
    # A Lazada-style calendar is still hashable and comparable by value.
    assert BusinessCalendar.always("Asia/Manila", holiday_country="ph") == BusinessCalendar.always(
        "Asia/Manila", holiday_country="PH"
    )


def test_elapsed_is_negative_when_end_precedes_start() -> None:
    calendar = office()
    start, end = local(BERLIN, 2025, 6, 13, 17), local(BERLIN, 2025, 6, 16, 10)
    # Fri 17-18 and Mon 09-10: 2 h.
    assert calendar.elapsed(start, end) == 2 * H
    assert calendar.elapsed(end, start) == -2 * H


# -- round trip --------------------------------------------------------------------------------


ROUND_TRIP_CALENDARS = [
    pytest.param(office(holiday_country="DE", holiday_subdiv="BY"), 100, id="berlin-office"),
    pytest.param(
        BusinessCalendar.weekly("America/New_York", {"mon-fri": "08:30-12:00, 13:00-17:30", "sat": "10:00-14:00"}),
        100,
        id="new-york-lunch",
    ),
    pytest.param(office("Asia/Shanghai", holiday_country="CN"), 100, id="shanghai-office"),
    pytest.param(BusinessCalendar.always("Asia/Manila", holiday_country="PH"), 100, id="manila-24-7-holidays"),
    pytest.param(BusinessCalendar.always("Europe/Berlin", closures=[date(2025, 12, 24)]), 100, id="berlin-closure"),
    # Open only around the night-time DST switch, so the random starts hit gap and fold edges.
    pytest.param(BusinessCalendar.weekly("Europe/Berlin", {"sun": "01:30-02:30, 02:45-03:15"}), 5, id="dst-edges"),
]


@pytest.mark.parametrize(("calendar", "max_hours"), ROUND_TRIP_CALENDARS)
def test_add_and_elapsed_round_trip(calendar: BusinessCalendar, max_hours: int) -> None:
    # Seeded, so a failure names a reproducible start and duration.
    rng = random.Random(20250330)
    span_us = int(timedelta(days=3 * 365).total_seconds()) * 1_000_000
    origin = utc(2024, 1, 1)
    for _ in range(300):
        start = origin + timedelta(microseconds=rng.randrange(span_us))
        duration = timedelta(microseconds=rng.randrange(max_hours * 3_600_000_000))
        due = calendar.add(start, duration)
        assert calendar.elapsed(start, due) == duration
        # add answers the earliest such instant: one microsecond earlier is one microsecond short.
        if duration:
            assert calendar.elapsed(start, due - US) == duration - US
        else:
            assert due == calendar.next_open(start)


DST_SUNDAYS = [
    date(2024, 3, 31), date(2024, 10, 27), date(2025, 3, 30), date(2025, 10, 26),  # Europe
    date(2024, 3, 10), date(2024, 11, 3), date(2025, 3, 9), date(2025, 11, 2),  # United States
    date(2024, 4, 7), date(2024, 9, 8), date(2025, 4, 6), date(2025, 9, 7),  # Chile, at midnight
]  # fmt: skip


@pytest.mark.parametrize(
    "calendar",
    [
        pytest.param(BusinessCalendar.always("Europe/Berlin", closures=[date(1999, 1, 1)]), id="berlin-24-7"),
        pytest.param(BusinessCalendar.always("America/New_York", closures=[date(1999, 1, 1)]), id="new-york-24-7"),
        pytest.param(BusinessCalendar.weekly("Europe/Berlin", {"mon-sun": "00:00-02:30, 02:45-24:00"}), id="berlin"),
        pytest.param(BusinessCalendar.weekly("America/New_York", {"sat-sun": "01:15-02:15, 09:00-18:00"}), id="ny"),
        pytest.param(BusinessCalendar.weekly("America/Santiago", {"sat-sun": "00:00-00:30, 22:30-24:00"}), id="chile"),
    ],
)
def test_round_trip_around_dst_switches(calendar: BusinessCalendar) -> None:
    # Starts within a day of each switch, targets up to 30 h, so they straddle gaps and repeated hours.
    rng = random.Random(3)
    for sunday in DST_SUNDAYS:
        around = datetime.combine(sunday, time(0), UTC) - timedelta(days=1)
        for _ in range(40):
            start = around + timedelta(microseconds=rng.randrange(2 * 86_400_000_000))
            duration = timedelta(microseconds=rng.randrange(30 * 3_600_000_000))
            due = calendar.add(start, duration)
            assert calendar.elapsed(start, due) == duration
            assert calendar.add(start, duration + H) > due
            # is_open agrees with elapsed, and next_open lands on an open instant.
            assert calendar.is_open(start) == (calendar.elapsed(start, start + US) == US)
            assert calendar.is_open(calendar.next_open(start))


# -- calendars that never open, bad input ------------------------------------------------------


def test_calendar_without_hours_raises_instead_of_looping() -> None:
    closed = BusinessCalendar.weekly("Europe/Berlin", {})
    start = utc(2025, 6, 13)
    with pytest.raises(ValueError, match="no opening hours on any weekday"):
        closed.add(start, H)
    with pytest.raises(ValueError, match="no opening hours on any weekday"):
        closed.next_open(start)
    assert not closed.is_open(start)
    assert closed.elapsed(start, start + timedelta(days=30)) == timedelta(0)


def test_calendar_closed_for_longer_than_the_search_horizon_raises() -> None:
    year_off = [date(2025, 1, 1) + timedelta(days=n) for n in range(500)]
    calendar = BusinessCalendar.always("UTC", closures=year_off)
    with pytest.raises(ValueError, match="no open time in the 400 days"):
        calendar.add(utc(2025, 1, 1), H)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "unknown time zone"),
        ({"week": ((),) * 6}, "7 entries"),
        ({"week": (((600, 540),),) + ((),) * 6}, "start < end"),
        ({"week": (((540, 720), (700, 900)),) + ((),) * 6}, "must not overlap"),
        ({"holiday_country": "XX"}, "not known to the holidays package"),
        ({"holiday_country": "DE", "holiday_subdiv": "ZZ"}, "subdivision"),
        ({"holiday_subdiv": "BY"}, "without holiday_country"),
    ],
)
def test_invalid_calendars_are_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("spec", ["9-18", "09:00-25:00", "09:60-10:00", "18:00-09:00", "mon"])
def test_invalid_hours_are_rejected(spec: str) -> None:
    with pytest.raises(ValueError, match=r"HH:MM|time of day|start < end"):
        parse_hours(spec)


def test_bad_arguments_are_rejected() -> None:
    calendar = office()
    with pytest.raises(ValueError, match="aware"):
        calendar.add(datetime(2025, 6, 13, 17), H)
    with pytest.raises(ValueError, match="negative"):
        calendar.add(utc(2025, 6, 13), -H)
    with pytest.raises(ValueError, match="unknown day"):
        BusinessCalendar.weekly("UTC", {"funday": "09:00-18:00"})
    with pytest.raises(ValueError, match="backwards"):
        BusinessCalendar.weekly("UTC", {"fri-mon": "09:00-18:00"})
