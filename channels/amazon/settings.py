"""An Amazon SP-API account's settings: region, marketplaces, the LWA client, what to read and how.

The account's settings are free-form JSON; this module is the one place that
knows their keys for Amazon, fills in what follows from others (the region
from the marketplaces, the regional host from the region) and refuses
combinations that cannot work, so the client can trust them.

Secrets (``client_secret``, ``refresh_token``) are never settings: they are
read from the account's credential store when a token is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from channels.base import AccountConfig
from channels.email.relay import AMAZON_SITES
from channels.schema import ConfigError, ConfigSchema, Field, FieldType, base_url_field

REGION_HOSTS: dict[str, str] = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"  # noqa: S105 - an address, not a secret
_NA = {"US", "CA", "MX", "BR"}
_FE = {"JP", "AU", "SG"}


@dataclass(frozen=True, slots=True)
class Marketplace:
    """One Amazon store: its marketplace id, web domain, country, currency, default language and SP-API region."""

    id: str
    domain: str
    country: str
    currency: str
    language: str | None
    region: str


def _region(country: str) -> str:
    return "na" if country in _NA else "fe" if country in _FE else "eu"


#: marketplace id → store; one table with the relay-mail parser, which keys the same stores by mail domain.
MARKETPLACES: dict[str, Marketplace] = {
    site.marketplace_id: Marketplace(
        site.marketplace_id, f"amazon.{tld}", site.country, site.currency, site.language, _region(site.country)
    )
    for tld, site in AMAZON_SITES.items()
    if site.marketplace_id
}

#: the Orders API versions an account can read orders with; the first is the default
ORDERS_2026, ORDERS_V0 = "2026-01-01", "v0"
ORDERS_APIS = (ORDERS_2026, ORDERS_V0)

T, N, B, C, S, U = FieldType.TEXT, FieldType.INT, FieldType.BOOL, FieldType.CHOICE, FieldType.SECRET, FieldType.URL

#: What an Amazon account asks for; ``channels add amazon`` and the admin form are built from it.
SCHEMA = ConfigSchema(
    (
        Field(
            "marketplace_ids", "Marketplace ids", T,
            "The stores this seller account sells in, comma-separated, e.g. A1PA6795UKMFR9 (amazon.de), "
            "A13V1IB3VIYZZH (amazon.fr). All of one region; add a second account for another region.",
            required=True,
        ),
        Field(
            "region", "Region", C,
            "na (Americas), eu (Europe, Middle East, India, South Africa) or fe (Japan, Australia, Singapore). "
            "Default: the region of the marketplaces.",
            choices=tuple(REGION_HOSTS),
        ),
        Field(
            "client_id", "LWA client id", T,
            "Seller Central → Apps and Services → Develop Apps → your app → LWA credentials → View: "
            "the Client identifier (amzn1.application-oa2-client.…).",
            required=True,
        ),
        Field(
            "client_secret", "LWA client secret", S,
            "Shown next to the client identifier. Amazon makes you rotate it every 180 days; store the new one here.",
            required=True,
        ),
        Field(
            "refresh_token", "Refresh token", S,
            "From authorising the app for this seller account (Develop Apps → Authorize app, or your app's consent "
            "page). It starts with Atzr| and lasts a year; authorise again when Amazon asks.",
            required=True,
        ),
        Field(
            "use_restricted_data_token", "Read buyer e-mail and address", B,
            "Read the buyer's e-mail alias, name and shipping address. Needs the restricted roles "
            "(Direct-to-Consumer Delivery, Tax Invoicing); Orders API v0 also asks for a Restricted Data Token, "
            "2026-01-01 needs only the roles. Without it orders are not linked to the buyer's relay mail by "
            "address, only by order number.",
            default=False,
        ),
        Field(
            "buyer_language", "Buyer's language", B,
            "Look up each buyer's preferred language with the Messaging API (Buyer Communication role), so "
            "replies and templates use it. Costs one call per new buyer.",
            default=False, advanced=True,
        ),
        Field(
            "orders_api", "Orders API", C,
            "Which version of Amazon's Orders API reads orders. 2026-01-01 returns each order with its lines in "
            "one call and reads buyer data without a Restricted Data Token; v0 costs one more call per order and "
            "is deprecated by Amazon (to be removed in March 2027). Choose v0 only if your app cannot use "
            "2026-01-01 yet.",
            default=ORDERS_2026, choices=ORDERS_APIS, advanced=True,
        ),
        Field("initial_days", "First sync (days back)", N, "How far back the first sync reads orders.", default=30,
              advanced=True),
        Field(
            "rate_wait_s", "Longest wait for quota (seconds)", N,
            "How long one page may wait for Amazon's per-call quota before it stops and continues at the next poll.",
            default=10, advanced=True,
        ),
        Field("timeout_s", "Timeout (seconds)", N, default=30, advanced=True),
        Field(
            "token_url", "LWA token endpoint", U, "Login with Amazon's token endpoint; change only for a test server.",
            default=LWA_TOKEN_URL, advanced=True,
        ),
        base_url_field(
            REGION_HOSTS["na"],
            help="The SP-API host. Leave it to follow the region; change it for the sandbox or a local test server.",
        ),
    )
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class AmazonSettings:
    """Everything the SP-API client needs for one seller account in one region."""

    marketplaces: tuple[Marketplace, ...]
    region: str
    base_url: str
    token_url: str
    client_id: str
    use_rdt: bool = False
    buyer_language: bool = False
    orders_api: str = ORDERS_2026
    initial_days: int = 30
    rate_wait_s: float = 10.0
    timeout_s: float = 30.0

    @property
    def marketplace_ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.marketplaces)


def _value(settings: Mapping[str, object], key: str) -> Any:
    """One setting as its schema field types it (ConfigError names it), or the field's default.

    A number given by code (not typed by a person) may carry a fraction: a
    test's half-second timeout.
    """
    field = SCHEMA.get(key)
    assert field is not None, key
    raw = settings.get(key)
    if field.type is FieldType.INT and isinstance(raw, float):
        if raw < 0:
            raise ConfigError(key, "must not be negative")
        return raw
    value = field.parse(raw)
    return field.default if value is None else value


def parse_marketplaces(raw: str | None) -> tuple[Marketplace, ...]:
    """The stores named by ``raw`` (comma- or space-separated ids), all of one region."""
    ids = [part for part in (raw or "").replace(",", " ").split() if part]
    if not ids:
        raise ConfigError("marketplace_ids", "name at least one marketplace id, e.g. A1PA6795UKMFR9 for amazon.de")
    found = []
    for mid in dict.fromkeys(ids):
        market = MARKETPLACES.get(mid.upper())
        if market is None:
            raise ConfigError("marketplace_ids", f"{mid!r} is not an Amazon marketplace id this helpdesk knows")
        found.append(market)
    regions = {m.region for m in found}
    if len(regions) > 1:
        raise ConfigError(
            "marketplace_ids", f"mixes regions ({', '.join(sorted(regions))}); use one account per SP-API region"
        )
    return tuple(found)


def load_settings(account: AccountConfig) -> AmazonSettings:
    """Validate and complete an Amazon account's settings (ConfigError names the field)."""
    s = account.settings
    marketplaces = parse_marketplaces(_value(s, "marketplace_ids"))
    region = _value(s, "region") or marketplaces[0].region
    if marketplaces[0].region != region:
        raise ConfigError("region", f"the marketplaces belong to region {marketplaces[0].region!r}, not {region!r}")
    client_id = _value(s, "client_id")
    if not client_id:
        raise ConfigError("client_id", "is required (the LWA client identifier of your SP-API app)")
    base_url = account.base_url or _value(s, "base_url")
    if base_url.rstrip("/") in REGION_HOSTS.values():
        base_url = REGION_HOSTS[region]  # a production host follows the region; a sandbox or test host stays
    return AmazonSettings(
        marketplaces=marketplaces,
        region=region,
        base_url=base_url.rstrip("/"),
        token_url=_value(s, "token_url"),
        client_id=client_id,
        use_rdt=_value(s, "use_restricted_data_token"),
        buyer_language=_value(s, "buyer_language"),
        orders_api=_value(s, "orders_api"),
        initial_days=int(_value(s, "initial_days")),
        rate_wait_s=float(_value(s, "rate_wait_s")),
        timeout_s=float(_value(s, "timeout_s")) or 30.0,
    )


def complete_settings(settings: dict[str, object]) -> dict[str, object]:
    """The region from the marketplaces and the host from the region, stored so the account page shows them."""
    loaded = load_settings(AccountConfig(name="new", kind="amazon", settings=settings))
    settings["marketplace_ids"] = ",".join(loaded.marketplace_ids)
    settings["region"] = loaded.region
    settings["base_url"] = loaded.base_url
    return settings
