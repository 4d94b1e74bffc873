"""The shipped default SLA policies and the calendars they count on."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from helpdesk.sla import clock
from helpdesk.sla.calendar import BusinessCalendar
from helpdesk.sla.defaults import POLICY_DEFAULTS, PolicyDefault, ThreadKind, default_policy

H = timedelta(hours=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# platform, thread kind, first response, next response, calendar, warning after, confidence
EXPECTED = [
    ("amazon", "message", 24 * H, 24 * H, "24/7", 18 * H, "confirmed"),
    ("walmart", "message", 48 * H, 48 * H, "24/7", 24 * H, "confirmed"),
    ("tiktok", "message", 24 * H, 24 * H, "24/7", 12 * H, "confirmed"),
    ("etsy", "message", 24 * H, None, "24/7", 18 * H, "confirmed"),
    ("ebay", "message", 24 * H, 24 * H, "business_hours", 18 * H, "uncertain"),
    ("ebay", "return", 72 * H, 72 * H, "business_days", 54 * H, "confirmed"),
    ("ebay", "item_not_received", 72 * H, 72 * H, "business_days", 54 * H, "confirmed"),
    ("shopee", "message", 12 * H, 12 * H, "24/7", 9 * H, "uncertain"),
    ("lazada", "message", 24 * H, 24 * H, "24/7", 18 * H, "uncertain"),
    ("aliexpress", "message", 24 * H, 24 * H, "24/7", 18 * H, "uncertain"),
    ("mercadolibre", "question", 12 * H, None, "business_hours", 9 * H, "uncertain"),
    ("mercadolibre", "message", 24 * H, 24 * H, "business_hours", 18 * H, "uncertain"),
    ("allegro", "message", 24 * H, 24 * H, "business_days", 18 * H, "uncertain"),
    ("shopify", "message", 24 * H, 24 * H, "business_hours", 18 * H, "uncertain"),
    ("email", "message", 24 * H, 24 * H, "business_hours", 18 * H, "uncertain"),
]


@pytest.mark.parametrize("row", EXPECTED, ids=[f"{row[0]}-{row[1]}" for row in EXPECTED])
def test_shipped_defaults_follow_the_reference(row: tuple) -> None:
    platform, kind, first, following, calendar, warning, confidence = row
    policy = default_policy(platform, kind)
    assert (policy.platform, policy.thread_kind) == (platform, kind)
    assert policy.first_response == first
    assert policy.next_response == following
    assert policy.calendar == calendar
    assert policy.first_response * policy.warn_share == warning
    assert policy.confidence == confidence
    assert policy.resolution is None


def test_every_default_has_a_one_sentence_source_note() -> None:
    for policy in POLICY_DEFAULTS:
        note = policy.source_note
        assert len(note) > 20, policy.name
        assert note.endswith("."), policy.name
        assert ". " not in note, policy.name


def test_defaults_are_unique_and_frozen() -> None:
    keys = [(p.platform, p.thread_kind) for p in POLICY_DEFAULTS]
    assert len(keys) == len(set(keys))
    with pytest.raises(dataclasses.FrozenInstanceError):
        POLICY_DEFAULTS[0].warn_share = 0.1  # type: ignore[misc]


def test_only_the_stores_own_targets_pause_while_pending() -> None:
    assert {p.platform for p in POLICY_DEFAULTS if p.pause_when_pending} == {"shopify", "email"}


@pytest.mark.parametrize(
    ("platform", "kind", "expected"),
    [
        ("amazon", None, ("amazon", "message")),
        ("Amazon", "return", ("amazon", "message")),  # no return rule: the platform's message default
        ("TikTok Shop", None, ("tiktok", "message")),
        ("tiktok_shop", "message", ("tiktok", "message")),
        ("mercado_libre", ThreadKind.QUESTION, ("mercadolibre", "question")),
        ("ebay", "ITEM_NOT_RECEIVED", ("ebay", "item_not_received")),
        ("walmart", "escalation", ("walmart", "escalation")),
        ("noon", None, ("email", "message")),  # no rule known: generic e-mail
        (None, None, ("email", "message")),
    ],
)
def test_default_policy_lookup_and_fallback(platform: str | None, kind: str | None, expected: tuple[str, str]) -> None:
    policy = default_policy(platform, kind)
    assert (policy.platform, policy.thread_kind) == expected


# -- calendars made from the store's calendar ----------------------------------------------------


SHANGHAI_STORE = BusinessCalendar.weekly(
    "Asia/Shanghai", {"mon-fri": "09:00-18:00"}, holiday_country="CN", closures=[date(2025, 6, 17)]
)


def test_24_7_policy_ignores_the_store_hours() -> None:
    # Amazon message Fri 13 Jun 2025 20:00 UTC: due 24 real hours later, Sat 14 Jun 20:00 UTC.
    calendar = default_policy("amazon").calendar_for(SHANGHAI_STORE)
    assert calendar.is_24_7
    assert calendar.add(utc(2025, 6, 13, 20), 24 * H) == utc(2025, 6, 14, 20)


def test_business_hours_policy_is_the_store_calendar() -> None:
    assert default_policy("email").calendar_for(SHANGHAI_STORE) == SHANGHAI_STORE


def test_ebay_return_counts_three_business_days() -> None:
    # Return opened Fri 13 Jun 2025 15:00 CST (07:00 UTC), 72 h of whole weekdays in Shanghai:
    # Fri 15-24 (9 h), weekend off, Mon 24 h (33 h), Tue 24 h (57 h; the store's own closure
    # that day does not stop eBay's clock), Wed 00:00 + 15 h -> Wed 18 Jun 15:00 CST = 07:00 UTC.
    calendar = default_policy("ebay", "return").calendar_for(SHANGHAI_STORE)
    assert calendar.add(utc(2025, 6, 13, 7), 72 * H) == utc(2025, 6, 18, 7)


def test_allegro_counts_polish_holidays() -> None:
    # Warsaw store with German holidays.  Message Mon 10 Nov 2025 12:00 CET (11:00 UTC), 24 h on
    # Polish business days: Mon 12-24 (12 h), Tue 11 Nov Independence Day off,
    # Wed 12 Nov 00:00 + 12 h -> 12:00 CET = 11:00 UTC.
    store = BusinessCalendar.weekly("Europe/Warsaw", {"mon-fri": "08:00-16:00"}, holiday_country="DE")
    calendar = default_policy("allegro").calendar_for(store)
    assert calendar.holiday_country == "PL"
    assert calendar.add(utc(2025, 11, 10, 11), 24 * H) == utc(2025, 11, 12, 11)


def test_lazada_counts_every_day_but_the_store_countrys_holidays() -> None:
    # Singapore store closed on Boxing Day by its own choice; Lazada ignores that closure but
    # not Christmas.  Wed 24 Dec 2025 12:00 SGT (04:00 UTC): 12 h to midnight, 25 Dec off,
    # Fri 26 Dec 00:00 + 12 h -> 12:00 SGT = 04:00 UTC.
    store = BusinessCalendar.weekly(
        "Asia/Singapore", {"mon-fri": "09:00-18:00"}, holiday_country="SG", closures=[date(2025, 12, 26)]
    )
    calendar = default_policy("lazada").calendar_for(store)
    assert calendar.add(utc(2025, 12, 24, 4), 24 * H) == utc(2025, 12, 26, 4)


def test_policy_drives_a_clock() -> None:
    # Walmart message Mon 2 Jun 2025 10:00 UTC: warning after 24 h, due after 48 h.
    policy: PolicyDefault = default_policy("walmart")
    calendar = policy.calendar_for(BusinessCalendar.weekly("UTC", {"mon-fri": "09:00-18:00"}))
    state = clock.start(calendar, utc(2025, 6, 2, 10), policy.first_response, policy.warn_share)
    assert state.warning_at == utc(2025, 6, 3, 10)
    assert state.due_at == utc(2025, 6, 4, 10)
