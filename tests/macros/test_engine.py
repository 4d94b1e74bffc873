"""Rendering macros: Babel formatting for the buyer's locale, errors instead of gaps, a sandbox that holds."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from macros.engine import Context, OrderContext, Person, RenderError, StoreContext, TicketContext, render
from macros.library import macro_from
from macros.locale import choose, is_rtl, site_language
from macros.model import MacroError
from macros.tracking import tracking_url

ORDER = OrderContext(
    number="028-6614302-5519340",
    currency="EUR",
    total=Decimal("1234.56"),
    placed_at=datetime(2026, 1, 5, 9, 14, tzinfo=UTC),
    carrier="DHL",
    tracking_number="JJD000390007813012",
)
CONTEXT = Context(
    customer=Person("Jonas Weber"),
    agent=Person("Lena Lead"),
    store=StoreContext("Lampworks", "Amazon"),
    ticket=TicketContext(12, "Wo ist meine Bestellung?"),
    order=ORDER,
)


@pytest.mark.parametrize(
    ("locale", "money", "day", "parcels"),
    [
        ("de", "1.234,56\xa0€", "05.01.2026", "3 Pakete"),
        ("en", "€1,234.56", "Jan 5, 2026", "3 parcels"),
        ("ja", "€1,234.56", "2026/01/05", "3 parcels"),
        ("pl", "1\xa0234,56\xa0€", "5 sty 2026", "3 paczki"),
    ],
)
def test_filters_format_for_the_buyers_locale(locale: str, money: str, day: str, parcels: str) -> None:
    words = {
        "pl": "one='{n} paczka', few='{n} paczki', many='{n} paczek', other='{n} paczki'",  # 3 is "few" in Polish
        "de": "one='{n} Paket', other='{n} Pakete'",
    }.get(locale, "one='{n} parcel', other='{n} parcels'")
    body = (
        "{{ customer.first_name }}: {{ order.total|currency(order.currency) }} · {{ order.placed_at|date }} · "
        f"{{{{ plural(3, {words}) }}}}"
    )
    context = CONTEXT
    assert render(body, context, locale).strip() == f"Jonas: {money} · {day} · {parcels}"


def test_a_variable_the_ticket_lacks_is_an_error_not_a_gap() -> None:
    without_order = Context(Person("Jonas"), Person("Lena"), StoreContext("Lampworks"), TicketContext(1))
    with pytest.raises(RenderError, match="order"):
        render("Your order {{ order.number }} left today.", without_order, "en")
    with pytest.raises(RenderError, match="shipping_date"):
        render("It ships on {{ shipping_date }}.", CONTEXT, "en")
    assert (
        render("{% if order %}Order {{ order.number }}{% else %}Thanks{% endif %}", without_order, "en") == "Thanks\n"
    )


@pytest.mark.parametrize(
    "body",
    [
        "{{ customer.__class__.__mro__ }}",
        "{{ ''.__class__.__subclasses__() }}",
        "{{ customer.name.format.__globals__ }}",
        "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    ],
)
def test_the_sandbox_refuses_escapes(body: str) -> None:
    with pytest.raises(RenderError):
        render(body, CONTEXT, "en")


@pytest.mark.parametrize(
    ("evidence", "locale", "reason"),
    [
        ({"detected": "de", "customer": "fr"}, "de", "detected"),
        ({"detected": "ko", "customer": "fr"}, "fr", "customer"),
        ({"site": "JP"}, "ja", "site"),
        ({"site": "BR"}, "pt_BR", "site"),
        ({"detected": "pt"}, "pt_BR", "detected"),
        ({"detected": "zh"}, "zh_Hans", "detected"),
        ({"store": "es"}, "es", "store"),
        ({"detected": "sv", "store": "fi"}, "en", "fallback"),
        ({"chosen": "ar", "detected": "de"}, "ar", "chosen"),
    ],
)
def test_the_reply_locale_follows_the_strongest_evidence(evidence: dict, locale: str, reason: str) -> None:
    choice = choose(("en", "de", "fr", "es", "ja", "pt_BR", "zh_Hans", "ar"), **evidence)
    assert (choice.locale, choice.reason) == (locale, reason)


def test_arabic_is_right_to_left_and_sites_have_languages() -> None:
    assert is_rtl("ar") and not is_rtl("de")
    assert (site_language("DE"), site_language("MX"), site_language("BR")) == ("de", "es_MX", "pt_BR")


def test_a_malformed_macro_is_refused_naming_the_field() -> None:
    good = {"key": "thanks", "title": {"en": "Thanks"}, "body": {"en": "Thank you!"}}
    assert macro_from(good, "thanks.toml").locales == ("en",)
    for bad, field in (
        ({**good, "key": "Bad Key"}, "key"),
        ({**good, "body": {}}, "body"),
        ({**good, "body": {"english": "x"}}, "body.english"),
        ({**good, "actions": {"status": "done"}}, "actions.status"),
        ({**good, "colour": "red"}, "colour"),
    ):
        with pytest.raises(MacroError, match=field):
            macro_from(bad, "thanks.toml")


def test_tracking_urls_only_for_carriers_we_know() -> None:
    assert tracking_url("DHL", "JJD 0001").startswith("https://www.dhl.com/") and "JJD%200001" in tracking_url(
        "DHL", "JJD 0001"
    )
    assert tracking_url("Some Local Courier", "X1") is None and tracking_url("UPS", None) is None
