"""An Amazon account's settings, its schema, and the rules Amazon sets for replies."""

from __future__ import annotations

import pytest

from channels import registry
from channels.amazon.connector import AmazonConnector
from channels.amazon.policy import AMAZON_POLICY
from channels.amazon.settings import LWA_TOKEN_URL, MARKETPLACES, REGION_HOSTS, SCHEMA, load_settings
from channels.base import AccountConfig
from channels.schema import ConfigError
from macros.policy import check_reply

BASE = {"marketplace_ids": "A1PA6795UKMFR9", "client_id": "amzn1.application-oa2-client.abc"}


def _complete(**changes):
    return AmazonConnector.complete_settings(SCHEMA.parse({**BASE, **changes}), {"client_secret", "refresh_token"})


def test_the_region_and_its_host_follow_the_marketplaces():
    assert _complete() | {} == {
        **SCHEMA.parse(BASE), "region": "eu", "base_url": REGION_HOSTS["eu"], "marketplace_ids": "A1PA6795UKMFR9",
    }  # fmt: skip
    assert (
        _complete(marketplace_ids="ATVPDKIKX0DER a2euq1wtgctbg2")["marketplace_ids"] == "ATVPDKIKX0DER,A2EUQ1WTGCTBG2"
    )
    assert _complete(marketplace_ids="A1VC38T7YXB528")["base_url"] == REGION_HOSTS["fe"]


def test_a_sandbox_or_test_host_is_kept():
    sandbox = "https://sandbox.sellingpartnerapi-eu.amazon.com"

    assert _complete(base_url=sandbox)["base_url"] == sandbox


def test_defaults():
    settings = load_settings(AccountConfig(name="a", kind="amazon", settings=BASE))

    assert settings.token_url == LWA_TOKEN_URL
    assert (settings.use_rdt, settings.buyer_language, settings.initial_days) == (False, False, 30)
    assert (settings.rate_wait_s, settings.timeout_s) == (10.0, 30.0)
    assert settings.orders_api == "2026-01-01"


def test_orders_api_is_one_of_two_versions():
    v0 = load_settings(AccountConfig(name="a", kind="amazon", settings={**BASE, "orders_api": "v0"}))

    assert v0.orders_api == "v0"
    with pytest.raises(ConfigError) as caught:
        load_settings(AccountConfig(name="a", kind="amazon", settings={**BASE, "orders_api": "2024-01-01"}))
    assert caught.value.field == "orders_api" and "2026-01-01, v0" in caught.value.reason
    assert SCHEMA.get("orders_api").help  # the channels page and `channels add --help` explain the choice


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"marketplace_ids": "ATVPDKIKX0DER,A1PA6795UKMFR9"}, "marketplace_ids", "one account per SP-API region"),
        ({"marketplace_ids": "A1PA6795UKMFR0"}, "marketplace_ids", "not an Amazon marketplace id"),
        ({"marketplace_ids": " , "}, "marketplace_ids", "name at least one"),
        ({"region": "na"}, "region", "belong to region 'eu'"),
    ],
)
def test_settings_that_cannot_work_name_the_field(changes, field, reason):
    with pytest.raises(ConfigError) as caught:
        _complete(**changes)

    assert caught.value.field == field
    assert reason in caught.value.reason


def test_every_secret_is_marked_and_every_field_says_where_to_find_it():
    assert {f.name for f in SCHEMA.secret_fields} == {"client_secret", "refresh_token"}
    assert all(f.help for f in SCHEMA if f.name not in {"timeout_s"})
    assert SCHEMA.get("base_url").default == REGION_HOSTS["na"]


def test_every_store_has_its_region_and_currency():
    assert MARKETPLACES["A1PA6795UKMFR9"].region == "eu"
    assert MARKETPLACES["A2Q3Y263D00KWC"].region == "na"  # Brazil is served from the NA host
    assert MARKETPLACES["A39IBJ37TRP1C6"].region == "fe"
    assert MARKETPLACES["A21TJRUUN4KGV"].region == "eu"  # India from the EU host
    assert len(MARKETPLACES) == 23


def test_the_reply_policy_is_registered_for_amazon():
    assert registry.reply_policy("amazon") is AMAZON_POLICY


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Your order 028-6614302-5519340 ships today.", []),
        ("Tracking: https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html", []),
        ("See https://www.amazon.de/gp/your-account/order-history", []),
        ("Details at www.royalmail.com/track-your-item", []),
        ("Our shop: https://lampworks.example.com", ["link"]),
        ("Short link: https://bit.ly/3xYz", ["link"]),
        ("Mail us: help@lampworks.example", ["email_address"]),
        ("Call +44 20 7946 0958", ["phone_number"]),
    ],
)
def test_what_the_policy_allows(text, codes):
    assert [v.code for v in check_reply(AMAZON_POLICY, text) if v.blocking] == codes


def test_html_and_attachments_over_10_mb_are_flagged():
    from macros.policy import AttachmentInfo

    found = check_reply(AMAZON_POLICY, "<b>Hello</b>", [AttachmentInfo("a.pdf", "application/pdf", 11 * 2**20)])

    assert {v.code for v in found} == {"html", "attachments_too_large"}
