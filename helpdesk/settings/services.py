"""A user's preferences: UI language and time zone."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from helpdesk.accounts.models import User
from helpdesk.i18n import LANGUAGES, LOCALES


class PreferenceError(ValueError):
    """A preference value is not one we offer."""


@cache
def timezones() -> list[str]:
    return sorted(tz for tz in available_timezones() if "/" in tz or tz == "UTC")


def update_preferences(user: User, locale: str, timezone: str) -> None:
    if locale not in LOCALES and locale not in LANGUAGES:  # plain "en" still accepted (US formats)
        raise PreferenceError("Unknown language.")
    if timezone not in set(timezones()):
        raise PreferenceError("Unknown time zone.")
    user.locale = locale
    user.timezone = timezone
