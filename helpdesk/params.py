"""Input at the edge: ids, numbers, dates and choices in paths, query strings and forms, parsed one way.

Every value a person can type into an address bar reaches a view as text.
Parsed ad hoc, ``int("²")`` raises (``"²".isdigit()`` is true), an id past
2^63 overflows SQLite's integer and one past 2^31 PostgreSQL's key column,
and ``0001-01-01`` minus a day leaves the calendar: each a 500 with a stack
trace in the log.  These parsers take ASCII digits only, bound ids to the
keys' type and dates to years any database and any time zone can hold, and
refuse anything else with :class:`BadParameter` — a 400 whose message names
the parameter and says what it takes, shown in the app's layout (or as the
API's JSON error).  The ``int`` converter of every route is bounded the same
way (:class:`DatabaseId`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from datetime import date
from typing import Any

from flask import Flask
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.routing import IntegerConverter, ValidationError

#: The largest row id: keys are PostgreSQL ``INTEGER`` (32 bits), and a larger number is refused there, not compared.
MAX_ID = 2**31 - 1
#: The days a filter may name: whole years around any data the desk holds, so that a day's local midnight in any
#: time zone, a year's range around it and the database's date types all stay inside the calendar.
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2999, 12, 31)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class BadParameter(BadRequest):
    """A 400 that names the parameter at fault; its message is shown to the person (or the API client)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(description=message)
        self.parameter = name


class DatabaseId(IntegerConverter):
    """``<int:…>`` in every route, bounded to the keys' type: a larger number is 404, not a database error."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        """Out of range is 404 whatever the method.

        Werkzeug answers a converter's refusal 405 when another rule of the same
        path takes a different method (``GET`` and ``POST /tickets/<id>/messages``),
        as if the address existed for that method: there is no such row either way.
        Its pattern ``\\d+`` also matches other scripts' digits (``١٢``); ids are ASCII.
        """
        if not value.isascii():
            raise NotFound()
        try:
            return super().to_python(value)
        except ValidationError:
            raise NotFound() from None


def is_id(text: str) -> bool:
    """Whether ``text`` is a row id as this app writes them: ASCII digits, 1 to ``MAX_ID``."""
    return text.isascii() and text.isdigit() and len(text) <= 10 and 0 < int(text) <= MAX_ID


def parse_id(name: str, raw: str | None) -> int | None:
    """An id parameter: ``None`` when empty, the id, or :class:`BadParameter`."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not is_id(raw):
        raise BadParameter(
            name, _("“%(name)s” must be an id: a whole number from 1 to %(max)d.", name=name, max=MAX_ID)
        )
    return int(raw)


def parse_ids(name: str, values: Collection[str]) -> list[int]:
    """Every id of a repeated parameter (``ticket=1&ticket=2``); one bad value refuses them all."""
    return [i for i in (parse_id(name, v) for v in values) if i is not None]


def parse_int(name: str, raw: str | None, *, lo: int, hi: int) -> int | None:
    """A whole number between ``lo`` and ``hi`` (a page, an interval in seconds): ``None`` when empty."""
    raw = (raw or "").strip()
    if not raw:
        return None
    digits = raw[1:] if raw.startswith("-") else raw
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 19) or not lo <= int(raw) <= hi:
        raise BadParameter(name, _("“%(name)s” must be a whole number from %(lo)d to %(hi)d.", name=name, lo=lo, hi=hi))
    return int(raw)


def parse_date(name: str, raw: str | None) -> date | None:
    """A day as ``YYYY-MM-DD`` between ``DATE_MIN`` and ``DATE_MAX``: ``None`` when empty."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw) if _DAY.fullmatch(raw) else None
    except ValueError:
        day = None
    if day is None or not DATE_MIN <= day <= DATE_MAX:
        raise BadParameter(
            name,
            _(
                "“%(name)s” must be a date written YYYY-MM-DD, between %(min)s and %(max)s.",
                name=name,
                min=DATE_MIN.isoformat(),
                max=DATE_MAX.isoformat(),
            ),
        )
    return day


def parse_choice(name: str, raw: str | None, choices: Collection[str]) -> str | None:
    """One of ``choices``: ``None`` when empty."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if raw not in choices:
        raise BadParameter(
            name, _("“%(name)s” must be one of: %(choices)s.", name=name, choices=", ".join(sorted(choices)))
        )
    return raw


def id_arg(args: Mapping[str, str], name: str) -> int | None:
    """``parse_id`` of a query or form parameter by name."""
    return parse_id(name, args.get(name))


def date_arg(args: Mapping[str, str], name: str) -> date | None:
    """``parse_date`` of a query or form parameter by name."""
    return parse_date(name, args.get(name))


def refuse_nul_characters() -> None:
    """No text parameter may hold a NUL character: PostgreSQL's text types cannot store or compare one.

    Checked once for every request, before any view: the path's text
    arguments, the query string and the form (uploaded files are bytes and
    may hold anything).
    """
    from flask import request

    sources: list[Iterable[tuple[str, Any]]] = [(request.view_args or {}).items(), request.args.items(multi=True)]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(request.form.items(multi=True))
    for pairs in sources:
        for name, value in pairs:
            if "\x00" in name or (isinstance(value, str) and "\x00" in value):
                raise BadParameter(
                    name, _("“%(name)s” must not contain a NUL character.", name=name.replace("\x00", ""))
                )


def init_app(app: Flask) -> None:
    """Every request's parameters are checked before its view runs."""
    app.before_request(refuse_nul_characters)
