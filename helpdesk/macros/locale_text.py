"""Why the composer chose a reply's language, in the agent's words."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from flask_babel import get_locale
from flask_babel import gettext as _

from macros.locale import LocaleChoice


def language_name(locale: str) -> str:
    """``de`` → "German" (in the agent's language)."""
    try:
        return Locale.parse(locale).get_display_name(get_locale()) or locale
    except (UnknownLocaleError, ValueError):
        return locale


def reason_text(choice: LocaleChoice) -> str:
    name = language_name(choice.locale)
    if choice.reason == "chosen":
        return _("%(language)s, as you chose.", language=name)
    if choice.reason == "detected":
        return _("%(language)s: the buyer writes in it.", language=name)
    if choice.reason == "customer":
        return _("%(language)s: the customer's language.", language=name)
    if choice.reason == "site":
        return _("%(language)s: the language of the marketplace site.", language=name)
    if choice.reason == "store":
        return _("%(language)s: the store's default language.", language=name)
    if choice.wanted:
        return _(
            "%(language)s: this macro has no %(wanted)s version.", language=name, wanted=language_name(choice.wanted)
        )
    return _("%(language)s: no better evidence.", language=name)
