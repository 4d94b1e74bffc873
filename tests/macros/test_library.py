"""The shipped macro library: every macro in every language, rendered for a ticket as a buyer would get it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from babel.dates import format_date
from babel.numbers import format_currency

from macros.engine import (
    Context,
    OrderContext,
    OrderLine,
    Person,
    RenderError,
    StoreContext,
    TicketContext,
    render,
)
from macros.library import shipped
from macros.model import Macro
from macros.policy import ReplyPolicy, check_reply

LOCALES = ("en", "de", "fr", "es", "it", "ja", "zh_Hans", "pt_BR", "pl", "nl", "ar", "th", "id", "vi")
KEYS = {
    "where-is-my-order", "delayed-delivery", "tracking-number", "return-request", "return-label", "refund-issued",
    "partial-refund", "damaged-item", "wrong-item", "cancellation-request", "address-change", "customs-duties",
    "out-of-stock", "warranty-claim", "invoice-request", "feedback-follow-up",
}  # fmt: skip
WITHOUT_ORDER = {"address-change", "customs-duties", "out-of-stock", "warranty-claim"}
# What a macro shows of an order that has everything (shipped, tracked, with items).
SHOWS_TOTAL = {"refund-issued", "cancellation-request", "customs-duties", "invoice-request"}
SHOWS_PLACED = {
    "where-is-my-order", "return-request", "refund-issued", "partial-refund", "out-of-stock", "warranty-claim",
    "invoice-request", "feedback-follow-up",
}  # fmt: skip
SHOWS_SHIPPED = {"where-is-my-order", "delayed-delivery", "tracking-number", "cancellation-request", "address-change"}
SHOWS_TRACKING = SHOWS_SHIPPED
SHOWS_ITEMS = {"return-request", "wrong-item"}

# Links, e-mail addresses, phone numbers, messenger apps and marketing forbidden, eBay's length cap;
# Amazon's and eBay's order numbers.
STRICT = ReplyPolicy(
    platform="market",
    max_chars=2000,
    forbid_links=True,
    forbid_email_addresses=True,
    forbid_phone_numbers=True,
    forbid_off_platform=True,
    forbid_marketing=True,
    plain_text_only=True,
    order_number=r"\d{3}-\d{7}-\d{7}|\d{2}-\d{5}-\d{5}",
)

ITEMS = (
    OrderLine("Brass desk lamp", 1, Decimal("189.00")),
    OrderLine("Linen lampshade, sand", 2, Decimal("64.50")),
    OrderLine("E27 filament bulb", 5, Decimal("12.90")),
)
EUR_ORDER = OrderContext(
    number="113-4820571-3390215",
    currency="EUR",
    total=Decimal("1234.56"),
    items=ITEMS,
    placed_at=datetime(2026, 1, 5, 9, 14, tzinfo=UTC),
    shipped_at=datetime(2026, 1, 7, 16, 30, tzinfo=UTC),
    carrier="DHL",
    tracking_number="JJD000390007712345",
)
JPY_ORDER = replace(
    EUR_ORDER, number="27-13905-66214", currency="JPY", carrier="Japan Post", tracking_number="EJ123456789JP"
)
BARE_ORDER = OrderContext(number="#1042", currency="EUR", total=Decimal("1234.56"))  # not shipped, nothing optional


def make_context(order: OrderContext | None = EUR_ORDER) -> Context:
    return Context(
        customer=Person("Jonas Weber"),
        agent=Person("Mira Lange"),
        store=StoreContext("Lampworks Berlin", "Amazon"),
        ticket=TicketContext(4821, "Where is my lamp?"),
        order=order,
    )


def macros() -> list[Macro]:
    return sorted(shipped().values(), key=lambda m: m.key)


def policy_breaches(text: str) -> list[str]:
    return [f"{v.code}: {v.detail}" for v in check_reply(STRICT, text)]


def test_the_library_has_every_macro_in_every_language() -> None:
    library = shipped()
    assert set(library) == KEYS
    for macro in library.values():
        for name, texts in (("title", macro.titles), ("description", macro.descriptions), ("body", macro.bodies)):
            assert sorted(texts) == sorted(LOCALES), f"{macro.key}: {name}"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_macro_renders_an_order_in_the_buyers_formats(locale: str) -> None:
    problems = []
    for order in (EUR_ORDER, JPY_ORDER):
        total = format_currency(order.total, order.currency, locale=locale)
        placed = {format_date(order.placed_at, form, locale=locale) for form in ("medium", "long")}
        shipped_on = {format_date(order.shipped_at, form, locale=locale) for form in ("medium", "long")}
        for macro in macros():
            text = render(macro.bodies[locale], make_context(order), locale)
            missing = [
                what
                for what, wanted, shown in (
                    ("order number", True, order.number in text),
                    (f"total {total}", macro.key in SHOWS_TOTAL, total in text),
                    ("order date", macro.key in SHOWS_PLACED, any(p in text for p in placed)),
                    ("shipping date", macro.key in SHOWS_SHIPPED, any(s in text for s in shipped_on)),
                    ("tracking number", macro.key in SHOWS_TRACKING, order.tracking_number in text),
                    ("items", macro.key in SHOWS_ITEMS, all(i.title in text for i in order.items)),
                )
                if wanted and not shown
            ]
            problems += [f"{macro.key} ({order.currency}): no {m}" for m in missing]
            problems += [f"{macro.key} ({order.currency}): {b}" for b in policy_breaches(text)]
            problems += [f"{macro.key}: a stray placeholder" for marker in ("{{", "{%", "{n}") if marker in text]
    assert problems == []


@pytest.mark.parametrize("locale", LOCALES)
def test_an_order_with_only_its_number_and_total_is_enough(locale: str) -> None:
    """Dates, carrier, tracking and items are optional facts: each macro guards them."""
    total = format_currency(BARE_ORDER.total, "EUR", locale=locale)
    for macro in macros():
        text = render(macro.bodies[locale], make_context(BARE_ORDER), locale)
        assert BARE_ORDER.number in text, macro.key
        assert macro.key not in SHOWS_TOTAL or total in text, macro.key
        assert policy_breaches(text) == [], macro.key


@pytest.mark.parametrize("locale", LOCALES)
def test_macros_about_an_order_refuse_a_ticket_without_one(locale: str) -> None:
    for macro in macros():
        if macro.key in WITHOUT_ORDER:
            text = render(macro.bodies[locale], make_context(None), locale)
            assert policy_breaches(text) == [], macro.key
            assert "{{" not in text, macro.key
        else:
            with pytest.raises(RenderError, match=r"no order \(this macro needs one\)"):
                render(macro.bodies[locale], make_context(None), locale)


def test_amounts_dates_and_counts_follow_the_buyers_language() -> None:
    library = shipped()
    invoice = library["invoice-request"]
    assert "1.234,56\xa0€" in render(invoice.bodies["de"], make_context(), "de")
    assert "￥1,235" in render(invoice.bodies["ja"], make_context(JPY_ORDER), "ja")
    assert "5 stycznia 2026" in render(invoice.bodies["pl"], make_context(), "pl")
    polish = render(library["wrong-item"].bodies["pl"], make_context(), "pl")
    assert all(form in polish for form in ("1 sztuka", "2 sztuki", "5 sztuk"))  # one, few, many
    arabic = render(library["wrong-item"].bodies["ar"], make_context(), "ar")
    assert all(form in arabic for form in ("قطعة واحدة", "قطعتان", "5 قطع"))  # one, two, few


def test_actions_suit_what_the_reply_says() -> None:
    library = shipped()
    assert library["where-is-my-order"].actions.status == "pending"
    assert library["tracking-number"].actions.status == "pending"
    assert library["refund-issued"].actions.status == "solved"
    assert library["cancellation-request"].actions.add_tags == ("cancellation",)
    damaged = library["damaged-item"].actions
    assert (damaged.priority, damaged.add_tags) == ("high", ("damaged",))
    assert all(m.tags and all(t == t.lower() for t in m.tags) for m in library.values())


@pytest.mark.parametrize("tracking", ["340434161094", "01234567890123", "1234-5678-9012"])  # DHL Paket, DPD, Yamato
def test_an_all_digit_tracking_number_passes_as_the_tickets_own(tracking: str) -> None:
    """Twelve digits are a phone number's shape too: what tells them apart is that the order carries them.

    The send path passes the ticket's order and tracking numbers (``own_numbers``); an unrelated number of
    the same shape stays a violation, since the rule is there to stop a seller's phone number reaching a buyer.
    """
    order = replace(EUR_ORDER, tracking_number=tracking)
    text = render(shipped()["tracking-number"].bodies["en"], make_context(order), "en")
    assert check_reply(STRICT, text, known_numbers=(order.number, tracking)) == []
    other = replace(EUR_ORDER, tracking_number="4915112345678")  # a German mobile number in a tracking number's place
    text = render(shipped()["tracking-number"].bodies["en"], make_context(other), "en")
    assert [v.code for v in check_reply(STRICT, text, known_numbers=(order.number, tracking))] == ["phone_number"]
