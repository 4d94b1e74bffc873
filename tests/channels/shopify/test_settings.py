"""Account set-up: what a seller types is checked and completed before it is stored."""

from __future__ import annotations

import re
from pathlib import Path

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


@pytest.mark.parametrize(
    "secrets",
    [
        {"access_token"},  # a token pasted from an app made in the store admin
        {"access_token", "client_secret"},  # … and the secret that verifies its webhooks
        {"client_secret"},  # a Dev Dashboard app: tokens are requested with the client id and secret
        {"refresh_token", "client_secret"},  # expiring tokens renewed with the app's credentials
    ],
)
def test_each_way_to_a_token_is_accepted(secrets):
    settings = {"shop": "lampworks"} | ({} if secrets == {"access_token"} else {"client_id": "abc"})
    assert complete(settings, secrets)["shop"] == "lampworks.myshopify.com"


@pytest.mark.parametrize(
    ("settings", "secrets", "field"),
    [
        ({"shop": "lampworks"}, set(), "client_id"),
        ({"shop": "lampworks"}, {"client_secret"}, "client_id"),
        ({"shop": "lampworks", "client_id": "abc"}, set(), "client_secret"),
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


def test_the_documented_set_up_commands_use_options_that_exist():
    """Every ``channels add shopify`` example in the docs names real options, one per schema field at most."""
    doc = (Path(__file__).resolve().parents[3] / "docs" / "channels" / "shopify.md").read_text()
    generic = {"--name", "--display-name", "--platform", "--site", "--language", "--timezone", "--poll-interval"}
    generic |= {"--encrypt-secrets", "--test"}
    known = {f.option + ("-env" if f.secret else "") for f in SCHEMA} | generic
    commands = re.findall(r"channels add shopify((?:[^\n]*\\\n)*[^\n]*)", doc)
    assert len(commands) == 3
    for command in commands:
        options = re.findall(r"(--[a-z-]+)", command)
        assert set(options) <= known, set(options) - known
        assert "--shop" in options
        assert len(options) == len(set(options))
    table = set(re.findall(r"^\| `(--[a-z-]+)`", doc, flags=re.MULTILINE))
    assert table == {f.option + ("-env" if f.secret else "") for f in SCHEMA}
