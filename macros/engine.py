"""Rendering a macro for one ticket, in the buyer's locale.

Bodies are Jinja templates run in a sandbox (no attribute of the context
reaches Python internals, no unsafe call) with a small documented set of
variables — ``customer``, ``order``, ``ticket``, ``agent``, ``store`` — and
filters that format for the *buyer's* locale with Babel:

==========================  ========================================  ==========================
``{{ x|date }}``            a date (``medium``; ``date("long")``)     ``5 janv. 2026``
``{{ x|datetime }}``        a date and time                            ``05.01.26, 09:14``
``{{ x|currency(cur) }}``   money in that currency                     ``1.234,56 €``, ``￥1,235``
``{{ x|number }}``          a number                                  ``1.234,5``
``{{ x|percent }}``         a share                                   ``15 %``
``{{ plural(n, one=…, other=…) }}``  the form CLDR picks for ``n``    (``few``, ``many`` …)
==========================  ========================================  ==========================

A variable the context does not have is an error (``RenderError`` naming
it), never an empty gap in a buyer's reply: an agent sees it before sending.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent
from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError


class RenderError(ValueError):
    """A macro could not be rendered for this ticket; the message says what is missing or wrong."""


@dataclass(frozen=True, slots=True)
class OrderLine:
    title: str
    quantity: int
    price: Decimal | None = None
    sku: str | None = None


@dataclass(frozen=True, slots=True)
class OrderContext:
    number: str
    currency: str
    total: Decimal
    status: str = ""
    items: tuple[OrderLine, ...] = ()
    placed_at: datetime | None = None
    shipped_at: datetime | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    name: str

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.name


@dataclass(frozen=True, slots=True)
class TicketContext:
    id: int
    subject: str = ""


@dataclass(frozen=True, slots=True)
class StoreContext:
    name: str
    marketplace: str = ""  # the platform's name for people: Amazon, eBay, Shopify…


@dataclass(frozen=True, slots=True)
class Context:
    """What a macro may say about this ticket."""

    customer: Person
    agent: Person
    store: StoreContext
    ticket: TicketContext
    order: OrderContext | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def variables(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "agent": self.agent,
            "store": self.store,
            "ticket": self.ticket,
            "order": self.order,
            **self.extra,
        }


def _locale(locale: str) -> Locale:
    try:
        return Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


class _Formatting:
    """Babel filters bound to one locale."""

    def __init__(self, locale: str) -> None:
        self.locale = _locale(locale)

    def date(self, value: date | datetime | None, form: str = "medium") -> str:
        if value is None:
            raise RenderError("a date the ticket does not have")
        return format_date(value, form, locale=self.locale)

    def datetime(self, value: datetime | None, form: str = "short") -> str:
        if value is None:
            raise RenderError("a time the ticket does not have")
        return format_datetime(value, form, locale=self.locale)

    def currency(self, value: Decimal | float | int, currency: str) -> str:
        return format_currency(value, currency, locale=self.locale)

    def number(self, value: Decimal | float | int) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, value: Decimal | float | int) -> str:
        return format_percent(value, locale=self.locale)

    def plural(self, n: int, **forms: str) -> str:
        category = self.locale.plural_form(abs(n))
        chosen = forms.get(category, forms.get("other"))
        if chosen is None:
            raise RenderError(f"plural() needs an 'other' form (the {category!r} form for {n} is missing)")
        return chosen.replace("{n}", format_decimal(n, locale=self.locale))


@functools.cache
def _environment(locale: str) -> SandboxedEnvironment:
    """One sandbox per locale, its filters formatting for that locale."""
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    fmt = _Formatting(locale)
    env.filters.update(
        date=fmt.date, datetime=fmt.datetime, currency=fmt.currency, number=fmt.number, percent=fmt.percent
    )
    env.globals["plural"] = fmt.plural
    return env


@functools.lru_cache(maxsize=8192)
def _compiled(body: str, locale: str) -> Any:
    return _environment(locale).from_string(body)


def compile_check(body: str) -> None:
    """Refuse a body that does not parse (shown when a lead saves a macro)."""
    try:
        _compiled(body, "en")
    except TemplateError as exc:
        raise RenderError(f"the text does not parse: {exc}") from None


def render(body: str, context: Context, locale: str) -> str:
    """``body`` for this ticket, formatted for ``locale``; RenderError names what went wrong."""
    try:
        text: str = _compiled(body, locale).render(context.variables())
    except UndefinedError as exc:
        raise RenderError(f"this ticket has no {_missing(exc)}") from None
    except SecurityError as exc:
        raise RenderError(f"the macro tried something it may not: {exc}") from None
    except TemplateError as exc:
        raise RenderError(f"the macro is broken: {exc}") from None
    return text.strip() + "\n"


def _missing(exc: UndefinedError) -> str:
    text = str(exc)
    # "'None' has no attribute 'number'" (an order the ticket does not have) or "'x' is undefined"
    if "'None' has no attribute" in text:
        return "order (this macro needs one)"
    return text.replace("'", "").replace(" is undefined", "")
