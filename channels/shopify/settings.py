"""A Shopify account's settings: the schema a seller fills in, checked once into :class:`ShopifySettings`.

Three ways to an Admin API token are supported, told apart by the secrets
an account has (:func:`channels.shopify.client.auth_mode`):

* a Dev Dashboard app installed on the seller's own store: ``client_id`` and
  ``client_secret`` only; the helpdesk requests a token (about 24 hours) with
  them whenever it needs one (Shopify's client-credentials grant);
* an *expiring* offline token (the rule for public apps from 2026): it lives
  an hour and is renewed with a 90-day ``refresh_token`` that Shopify
  replaces at every refresh; the rotated token is written back through the
  account's credential store at once;
* a *non-expiring* ``access_token`` (``shpat_…``) of an app made in the store
  admin before 2026, sent as it is.

``client_secret`` also verifies webhooks: Shopify signs every delivery with
the app's client secret (or, for webhooks made by hand in the store admin,
with the key shown next to them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from channels.base import AccountConfig
from channels.schema import ConfigError, ConfigSchema, Field, FieldType, base_url_field

DEFAULT_API_VERSION = "2026-01"
#: ``base_url`` default: the store's own host, filled in from ``shop``.
SHOP_URL = "https://{shop}"
_SHOP = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
_VERSION = re.compile(r"^(?:\d{4}-(?:01|04|07|10)|unstable)$")
#: The oldest quarterly version whose webhook subscriptions take ``uri`` (older ones ``callbackUrl``).
URI_SUBSCRIPTIONS_SINCE = "2025-10"

T, N, S = FieldType.TEXT, FieldType.INT, FieldType.SECRET

SCHEMA = ConfigSchema(
    (
        Field("shop", "Store domain", T, "Your store's myshopify.com address, e.g. lampworks.myshopify.com "
              "(Shopify admin → Settings → Domains lists it).", required=True),
        Field("access_token", "Admin API access token", S, "Only for an app made in the store admin before 2026: "
              "its token (starts with shpat_). Leave empty for a Dev Dashboard app or with a refresh token."),
        Field("refresh_token", "Refresh token", S, "For expiring offline tokens: the refresh token your app "
              "received at install. The helpdesk renews the access token and saves each new refresh token."),
        Field("client_id", "App client ID", T, "The app's Client ID (Dev Dashboard → your app → Settings). "
              "With the client secret and no token, the helpdesk requests its own tokens."),
        Field("client_secret", "App client secret", S, "The app's Client secret (next to the Client ID). It "
              "obtains tokens and verifies webhooks. For webhooks made by hand under Settings → Notifications → "
              "Webhooks with a pasted token, give the signing key shown there instead."),
        Field("previous_client_secret", "Previous client secret", S, "While you rotate the client secret, "
              "webhooks signed with the old one are still accepted if it is given here.", advanced=True),
        Field("api_version", "Admin API version", T, "A quarterly version such as 2026-01. Shopify supports "
              "each for about a year.", default=DEFAULT_API_VERSION, advanced=True),
        Field("history_days", "First sync (days back)", N, "How far back the first sync reads orders. Without "
              "the read_all_orders scope Shopify shows only the last 60 days.", default=60, advanced=True),
        Field("overlap_s", "Re-read window (seconds)", N, "Orders changed this long before the last one read are "
              "read again, because Shopify's order search lags a little behind changes.", default=120,
              advanced=True),
        Field("timeout_s", "Timeout (seconds)", N, "How long to wait for Shopify to answer one call.", default=30,
              advanced=True),
        base_url_field(SHOP_URL, help="Where the Admin API is reached; {shop} stands for the store domain. "
                       "Change it only for a local test server."),
    )
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ShopifySettings:
    """Everything the connector needs to reach one store."""

    shop: str
    base_url: str
    api_version: str = DEFAULT_API_VERSION
    client_id: str | None = None
    history_days: int = 60
    overlap_s: int = 120
    timeout_s: float = 30.0

    @property
    def graphql_path(self) -> str:
        return f"/admin/api/{self.api_version}/graphql.json"

    @property
    def uri_subscriptions(self) -> bool:
        """Whether this API version's webhook subscriptions take ``uri`` rather than ``callbackUrl``."""
        return self.api_version == "unstable" or self.api_version >= URI_SUBSCRIPTIONS_SINCE


def normalise_shop(value: str) -> str:
    """``https://LampWorks.myshopify.com/`` or ``lampworks`` → ``lampworks.myshopify.com``."""
    shop = value.strip().lower().removeprefix("https://").removeprefix("http://").split("/")[0]
    if shop and "." not in shop:
        shop += ".myshopify.com"
    if not _SHOP.match(shop):
        raise ConfigError(
            "shop", f"must be the store's myshopify.com domain (e.g. lampworks.myshopify.com), not {value!r}"
        )
    return shop


def complete_settings(settings: dict[str, object], secrets: set[str]) -> dict[str, object]:
    """A way to authenticate, the parts a refresh needs, a known API version, the host filled in."""
    settings["shop"] = shop = normalise_shop(str(settings.get("shop") or ""))
    version = str(settings.get("api_version") or DEFAULT_API_VERSION)
    if not _VERSION.match(version):
        raise ConfigError(
            "api_version", f"must look like 2026-01 (year and quarter month) or unstable, not {version!r}"
        )
    if "access_token" not in secrets or "refresh_token" in secrets:  # tokens are obtained with the app's credentials
        way = "a refresh token is renewed" if "refresh_token" in secrets else "without a token, one is requested"
        if not settings.get("client_id"):
            raise ConfigError("client_id", f"{way} with the app's client ID (or give an Admin API access token)")
        if "client_secret" not in secrets:
            raise ConfigError(
                "client_secret", f"{way} with the app's client secret (or give an Admin API access token)"
            )
    for name, least in (("history_days", 1), ("overlap_s", 0), ("timeout_s", 1)):
        value = settings.get(name)
        if isinstance(value, int) and value < least:
            raise ConfigError(name, f"must be at least {least}")
    base = str(settings.get("base_url") or SHOP_URL)
    settings["base_url"] = base.replace("{shop}", shop).rstrip("/")
    return settings


def _int(settings: Mapping[str, object], key: str, default: int) -> int:
    value = settings.get(key)
    if value is None or isinstance(value, bool):
        return default
    try:
        return int(str(value))
    except ValueError:
        raise ConfigError(key, f"must be a whole number, not {value!r}") from None


def load_settings(account: AccountConfig) -> ShopifySettings:
    """The account's settings, checked; the account's ``base_url`` (a sandbox, a fake) wins over the setting."""
    s = account.settings
    shop = normalise_shop(str(s.get("shop") or ""))
    version = str(s.get("api_version") or DEFAULT_API_VERSION)
    if not _VERSION.match(version):
        raise ConfigError("api_version", f"must look like 2026-01, not {version!r}")
    base = account.base_url or str(s.get("base_url") or SHOP_URL)
    client_id = s.get("client_id")
    return ShopifySettings(
        shop=shop,
        base_url=base.replace("{shop}", shop).rstrip("/"),
        api_version=version,
        client_id=str(client_id) if client_id else None,
        history_days=max(1, _int(s, "history_days", 60)),
        overlap_s=max(0, _int(s, "overlap_s", 120)),
        timeout_s=_seconds(s.get("timeout_s")),
    )


def _seconds(value: object) -> float:
    """A timeout; fractions are allowed where settings come as JSON (tests use half a second)."""
    if value is None or isinstance(value, bool):
        return 30.0
    try:
        seconds = float(str(value))
    except ValueError:
        raise ConfigError("timeout_s", f"must be a number of seconds, not {value!r}") from None
    if seconds <= 0:
        raise ConfigError("timeout_s", "must be more than 0 seconds")
    return seconds
