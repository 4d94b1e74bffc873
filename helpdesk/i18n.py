"""The UI's language and time zone: the signed-in user's choice, else the browser's language.

Catalogs live in ``translations/`` (English is the source language;
``zh_Hans`` is complete).  A user's stored locale may carry a region
(``zh_Hans_CN``); it is mapped onto the catalog that serves it.

English speakers also choose their region (:data:`LOCALES`): the words stay
the English source text, but Babel formats dates and numbers for that
locale, so a British agent reads 03/12/2026 and an American one 12/3/26.
The selector hands Babel the regional locale; no ``en_GB`` catalog exists,
so the text falls back to the source language.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask, request
from flask_login import current_user

LANGUAGES: dict[str, str] = {"en": "English", "zh_Hans": "简体中文"}

#: What Settings offers: English in the regions whose date formats differ, then the other catalogs.
#: Names are the locale's own (as a speaker looks for them), not translated.
LOCALES: dict[str, str] = {
    "en_US": "English (United States)",
    "en_GB": "English (United Kingdom)",
    "en_AU": "English (Australia)",
    "en_CA": "English (Canada)",
    "en_IE": "English (Ireland)",
    "en_IN": "English (India)",
    "en_NZ": "English (New Zealand)",
    "en_SG": "English (Singapore)",
    "en_ZA": "English (South Africa)",
    "zh_Hans": "简体中文",
}


def catalog_for(locale: str | None) -> str:
    """The supported UI language for a stored or requested locale."""
    if not locale:
        return "en"
    normal = locale.replace("-", "_")
    if normal.lower().startswith("zh"):
        return "zh_Hans"
    return normal if normal in LANGUAGES else "en"


def ui_locale(locale: str | None) -> str:
    """The locale the UI is formatted in: an offered regional English as chosen, else the catalog's."""
    normal = (locale or "").replace("-", "_")
    return normal if normal in LOCALES else catalog_for(normal)


def settings_choice(locale: str | None) -> str:
    """The Settings entry that stands for a stored locale (plain ``en`` formats as ``en_US``)."""
    chosen = ui_locale(locale)
    return "en_US" if chosen == "en" else chosen


def select_locale() -> str:
    if current_user and current_user.is_authenticated:
        return ui_locale(current_user.locale)
    best = request.accept_languages.best_match(["en", "zh", "zh-CN", "zh-Hans"]) if request else None
    return catalog_for(best)


def select_timezone() -> str:
    if current_user and current_user.is_authenticated:
        return current_user.timezone or "UTC"
    return "UTC"


def init_app(app: Flask) -> None:
    """Template filters that format for the user's locale and time zone (Babel)."""
    from flask_babel import format_currency, format_datetime, format_decimal, get_locale

    app.jinja_env.globals["get_locale"] = get_locale

    app.jinja_env.filters["dt"] = lambda value, fmt="short": format_datetime(value, fmt) if value else ""
    # instants kept as ISO text in JSON data (a notification's ``data``)
    app.jinja_env.filters["isodt"] = lambda value, fmt="short": (
        format_datetime(datetime.fromisoformat(value), fmt) if value else ""
    )
    app.jinja_env.filters["money"] = lambda value, currency: (
        format_currency(value, currency) if value is not None else ""
    )
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.filters["iso"] = lambda value: value.isoformat() if value else ""


def _l(text: str) -> str:
    """Marks a string for extraction only; templates translate the stored value with ``_()``."""
    return text


#: Values stored in the database and shown translated (``_(ticket.status)``), and sign-in messages
#: produced by the accounts services; listed so ``pybabel extract`` puts them in the catalog.
CATALOG_VALUES = (
    _l("new"), _l("open"), _l("pending"), _l("solved"), _l("closed"),
    _l("low"), _l("normal"), _l("high"), _l("urgent"),
    _l("received"), _l("queued"), _l("sending"), _l("sent"), _l("failed"),
    _l("Wrong e-mail address or password."),
    _l("Too many failed attempts; try again in 15 minutes or ask an admin to unlock you."),
    _l("Sign-in failed."),
)  # fmt: skip
