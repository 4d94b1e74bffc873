"""Account set-up: what a seller types is checked and completed before it is stored."""

from __future__ import annotations

import pytest

from channels.base import AccountConfig
from channels.schema import ConfigError, FieldType
from channels.shopify.connector import ShopifyConnector
from channels.shopify.settings import SCHEMA, load_settings


def complete(settings: dict, secrets: set[str]) -> dict:
    return ShopifyConnector.complete_settings(SCHEMA.parse(settings), secrets)


@pytest.mark.parametrize(
    "typed",
    ["lampworks", "LampWorks.myshopify.com", "https://lampworks.myshopify.com/admin", " lampworks.myshopify.com "],
)
def test_the_store_domain_is_normalised_and_the_api_host_follows_it(typed):
    settings = complete({"shop": typed}, {"access_token"})
    assert settings["shop"] == "lampworks.myshopify.com"
    assert settings["base_url"] == "https://lampworks.myshopify.com"
    assert settings["api_version"] == "2026-01"


def test_a_given_api_address_is_kept():
    settings = complete({"shop": "lampworks", "base_url": "http://127.0.0.1:8765"}, {"access_token"})
    assert settings["base_url"] == "http://127.0.0.1:8765"


def test_expiring_tokens_need_the_apps_client_id_and_secret():
    settings = complete({"shop": "lampworks", "client_id": "abc"}, {"refresh_token", "client_secret"})
    assert settings["client_id"] == "abc"


@pytest.mark.parametrize(
    ("settings", "secrets", "field"),
    [
        ({"shop": "lampworks"}, set(), "access_token"),
        ({"shop": "lampworks"}, {"client_secret"}, "access_token"),
        ({"shop": "lampworks"}, {"refresh_token", "client_secret"}, "client_id"),
        ({"shop": "lampworks", "client_id": "abc"}, {"refresh_token"}, "client_secret"),
        ({"shop": "lampworks.example.com"}, {"access_token"}, "shop"),
        ({"shop": "lampworks", "api_version": "2026-02"}, {"access_token"}, "api_version"),
        ({"shop": "lampworks", "history_days": "0"}, {"access_token"}, "history_days"),
    ],
)
def test_combinations_that_cannot_work_name_the_field(settings, secrets, field):
    with pytest.raises(ConfigError) as caught:
        complete(settings, secrets)
    assert caught.value.field == field


def test_the_schema_marks_secrets_and_explains_every_field():
    secret = {f.name for f in SCHEMA if f.type is FieldType.SECRET}
    assert secret == {"access_token", "refresh_token", "client_secret", "previous_client_secret"}
    for field in SCHEMA:
        assert field.help, field.name
    assert SCHEMA.get("base_url").default == "https://{shop}"


def test_json_settings_may_give_a_fractional_timeout():
    account = AccountConfig(name="x", kind="shopify", settings={"shop": "lampworks", "timeout_s": 0.5})
    settings = load_settings(account)
    assert settings.timeout_s == 0.5
    assert settings.base_url == "https://lampworks.myshopify.com"
    assert settings.graphql_path == "/admin/api/2026-01/graphql.json"
