"""Which language a reply goes out in, and why.

Evidence, strongest first: the language the buyer writes in (detected from
their messages), the customer's stored language, the marketplace site's
language (amazon.de → de, amazon.co.jp → ja), the store's default.  Each
candidate is matched against the locales a macro has: exactly (``pt_BR``),
by language (``pt_BR`` wanted, ``pt`` there — or ``pt`` wanted, ``pt_BR``
there), and when nothing matches, English.  The agent sees the choice and
its reason in the composer and can switch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError
from babel.languages import get_official_languages

REASONS = ("detected", "customer", "site", "store", "fallback", "chosen")


@dataclass(frozen=True, slots=True)
class LocaleChoice:
    """``locale`` is one the macro has; ``reason`` says which evidence chose it (one of REASONS)."""

    locale: str
    reason: str
    wanted: str | None = None  # what the evidence asked for, when the macro had only a near match

    @property
    def rtl(self) -> bool:
        return is_rtl(self.locale)


def is_rtl(locale: str) -> bool:
    try:
        return Locale.parse(locale).character_order == "right-to-left"
    except (UnknownLocaleError, ValueError):
        return False


def _language(locale: str) -> str:
    return locale.replace("-", "_").split("_", 1)[0].lower()


def match(wanted: str, available: Sequence[str]) -> str | None:
    """The locale of ``available`` that serves ``wanted``: exact, then by language."""
    wanted = wanted.replace("-", "_")
    if wanted in available:
        return wanted
    language = _language(wanted)
    if language in available:
        return language
    return next((a for a in available if _language(a) == language), None)


def site_language(country: str | None) -> str | None:
    """The main language of a marketplace site's country (``DE`` → ``de``, ``BR`` → ``pt_BR``)."""
    if not country or len(country) != 2:
        return None
    languages = get_official_languages(country.upper(), de_facto=True)
    if not languages:
        return None
    language = languages[0]
    return f"{language}_{country.upper()}" if language in {"pt", "zh", "es", "en", "fr"} else language


def choose(
    available: Sequence[str],
    *,
    detected: str | None = None,
    customer: str | None = None,
    site: str | None = None,
    store: str | None = None,
    chosen: str | None = None,
) -> LocaleChoice:
    """The locale to render in, from the strongest evidence the macro can serve."""
    for reason, wanted in (
        ("chosen", chosen),
        ("detected", detected),
        ("customer", customer),
        ("site", site_language(site) if site and len(site) == 2 else site),
        ("store", store),
    ):
        if not wanted:
            continue
        found = match(wanted, available)
        if found is not None:
            return LocaleChoice(found, reason, None if found == wanted else wanted)
    fallback = match("en", available) or (available[0] if available else "en")
    return LocaleChoice(fallback, "fallback", detected or customer)
