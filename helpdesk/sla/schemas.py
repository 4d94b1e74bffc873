"""Validating policy input from the admin form and the API into column values.

One validator for both, so the UI and the API accept exactly the same
policies.  Targets are given in hours (floats allowed) and stored in seconds.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from helpdesk.sla.calendar import BusinessCalendar, parse_hours
from helpdesk.sla.models import SlaPolicy
from helpdesk.tickets.models import Priority

CALENDARS = ("24/7", "business_hours", "business_days")
FIELDS = (
    "name",
    "enabled",
    "platform",
    "channel_account_id",
    "priority",
    "thread_kind",
    "first_response_hours",
    "next_response_hours",
    "resolution_hours",
    "warn_share",
    "pause_when_pending",
    "calendar",
    "timezone",
    "hours",
    "holidays",
    "closures",
    "escalation",
)


class PolicyInvalid(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _hours(field: str, value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        hours = float(value)
    except (TypeError, ValueError):
        raise PolicyInvalid(field, "must be a number of hours") from None
    if not 0 < hours <= 24 * 365:
        raise PolicyInvalid(field, "must be more than 0 and at most a year")
    return round(hours * 3600)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in {"1", "true", "on", "yes"}


def clean(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Column values from input; with ``partial`` only the given fields (PATCH)."""
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise PolicyInvalid(sorted(unknown)[0], "is not a policy field")
    out: dict[str, Any] = {}
    if "name" in data or not partial:
        name = _text(data.get("name"))
        if not name:
            raise PolicyInvalid("name", "is required")
        out["name"] = name[:200]
    for key in ("enabled", "pause_when_pending"):
        if key in data or not partial:
            out[key] = _bool(data.get(key, key == "enabled"))
    for key in ("platform", "priority", "thread_kind"):
        if key in data or not partial:
            out[key] = _text(data.get(key))
    if out.get("priority") is not None and out["priority"] not in {p.value for p in Priority}:
        raise PolicyInvalid("priority", "must be low, normal, high or urgent")
    if "channel_account_id" in data or not partial:
        raw = data.get("channel_account_id")
        try:
            out["channel_account_id"] = None if raw in (None, "") else int(raw)
        except (TypeError, ValueError):
            raise PolicyInvalid("channel_account_id", "must be an id") from None
    for key, column in (
        ("first_response_hours", "first_response_s"),
        ("next_response_hours", "next_response_s"),
        ("resolution_hours", "resolution_s"),
    ):
        if key in data or not partial:
            out[column] = _hours(key, data.get(key))
    if "warn_share" in data or not partial:
        try:
            share = float(data.get("warn_share", 0.75) or 0.75)
        except (TypeError, ValueError):
            raise PolicyInvalid("warn_share", "must be a number") from None
        if not 0 < share <= 1:
            raise PolicyInvalid("warn_share", "must be more than 0 and at most 1")
        out["warn_share"] = share
    if "calendar" in data or not partial:
        calendar = data.get("calendar") or "24/7"
        if calendar not in CALENDARS:
            raise PolicyInvalid("calendar", "must be 24/7, business_hours or business_days")
        out["calendar"] = calendar
    if "timezone" in data or not partial:
        out["timezone"] = _text(data.get("timezone"))
    if "hours" in data or not partial:
        out["hours"] = _opening_hours(data.get("hours"))
    if "holidays" in data or not partial:
        out["holidays"] = (_text(data.get("holidays")) or "none")[:16]
    if "closures" in data or not partial:
        out["closures"] = _closures(data.get("closures"))
    if "escalation" in data or not partial:
        escalation = data.get("escalation") or {}
        if not isinstance(escalation, dict):
            raise PolicyInvalid("escalation", "must be an object")
        out["escalation"] = escalation
    _check_calendar(out)
    return out


def _opening_hours(value: Any) -> dict[str, str] | None:
    if value in (None, "", {}):
        return None
    if isinstance(value, str):
        # the form's one-line syntax: "mon-fri 09:00-18:00; sat 10:00-14:00"
        parsed: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in value.split(";"))):
            days, _, spans = part.partition(" ")
            parsed[days.strip()] = spans.strip()
        value = parsed
    if not isinstance(value, dict):
        raise PolicyInvalid("hours", "must map days to opening hours")
    try:
        for spec in value.values():
            parse_hours(spec)
        BusinessCalendar.weekly("UTC", value)
    except ValueError as exc:
        raise PolicyInvalid("hours", str(exc)) from None
    return {str(k): str(v) for k, v in value.items()}


def _closures(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    try:
        return sorted({date.fromisoformat(str(d)).isoformat() for d in items})
    except ValueError:
        raise PolicyInvalid("closures", "must be dates as YYYY-MM-DD") from None


def _check_calendar(out: dict[str, Any]) -> None:
    """Reject a time zone or holiday country the calendar code would refuse later."""
    try:
        holidays = out.get("holidays")
        country = None if holidays in (None, "none", "store") else holidays
        BusinessCalendar.always(out.get("timezone") or "UTC", holiday_country=country)
    except ValueError as exc:
        field = "timezone" if "time zone" in str(exc) else "holidays"
        raise PolicyInvalid(field, str(exc)) from None


def dump(policy: SlaPolicy) -> dict[str, Any]:
    def hours(seconds: int | None) -> float | None:
        return None if seconds is None else round(seconds / 3600, 4)

    return {
        "id": policy.id,
        "name": policy.name,
        "enabled": policy.enabled,
        "is_default": policy.is_default,
        "platform": policy.platform,
        "channel_account_id": policy.channel_account_id,
        "priority": policy.priority,
        "thread_kind": policy.thread_kind,
        "first_response_hours": hours(policy.first_response_s),
        "next_response_hours": hours(policy.next_response_s),
        "resolution_hours": hours(policy.resolution_s),
        "warn_share": policy.warn_share,
        "pause_when_pending": policy.pause_when_pending,
        "calendar": policy.calendar,
        "timezone": policy.timezone,
        "hours": policy.hours,
        "holidays": policy.holidays,
        "closures": policy.closures,
        "confidence": policy.confidence,
        "source_note": policy.source_note,
        "escalation": policy.escalation,
    }
