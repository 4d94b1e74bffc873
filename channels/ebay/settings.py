"""An eBay account's settings: the schema a seller fills in, and the typed view the connector reads.

The App ID is eBay's OAuth client id and the Cert ID its client secret, so
the notification keys (``app_id``, ``cert_id``) default to them; only the
Dev ID is extra, and only push verification needs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from channels.base import AccountConfig
from channels.ebay.sites import MARKETPLACES, SITES
from channels.schema import ConfigError, ConfigSchema, Field, FieldType, base_url_field

PRODUCTION = "https://api.ebay.com"
REST, TRADING = "rest", "trading"

SCOPE_BASE = "https://api.ebay.com/oauth/api_scope"
SCOPE_MESSAGE = "https://api.ebay.com/oauth/api_scope/commerce.message"
SCOPE_FULFILLMENT = "https://api.ebay.com/oauth/api_scope/sell.fulfillment"
SCOPE_FULFILLMENT_READONLY = "https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly"
DEFAULT_SCOPES = f"{SCOPE_BASE} {SCOPE_MESSAGE} {SCOPE_FULFILLMENT}"

T, N, B, C, S = FieldType.TEXT, FieldType.INT, FieldType.BOOL, FieldType.CHOICE, FieldType.SECRET

#: What an eBay account asks for; ``channels add ebay`` and the admin form are built from it.
SCHEMA = ConfigSchema(
    (
        Field("client_id", "App ID (client id)", T, "developer.ebay.com → Application Keys: the Production App ID.",
              required=True),
        Field("client_secret", "Cert ID (client secret)", S, "Application Keys: the Production Cert ID.",
              required=True),
        Field("refresh_token", "Refresh token", S, "The user token's refresh token from the seller's consent "
              "(User Tokens page, or your own consent flow). It lasts about 18 months.", required=True),
        Field("marketplace_id", "Marketplace", C, "The eBay site you sell on; it sets the API's marketplace header.",
              default="EBAY_US", choices=MARKETPLACES),
        Field("seller_username", "Your eBay user ID", T, "Tells your own messages apart and routes notifications. "
              "Learnt from your orders when empty."),
        Field("messages_api", "Messages API", C, "rest: the Message API (all member messages). trading: the "
              "older GetMemberMessages questions, for apps without the commerce.message scope.",
              default=REST, choices=(REST, TRADING)),
        Field("skip_cases", "Skip returns and item-not-received", B, "Do not bring in return and "
              "item-not-received requests (the Post-Order API; the sandbox has none).", default=False),
        Field("dev_id", "Dev ID", T, "Application Keys: the Dev ID. Only needed for platform notifications."),
        Field("app_id", "Notification App ID", T, "Only when notifications are signed with another keyset's "
              "App ID. Default: the client id.", advanced=True),
        Field("cert_id", "Notification Cert ID", S, "Only when notifications are signed with another keyset's "
              "Cert ID. Default: the client secret.", advanced=True),
        Field("site_id", "Trading site id", N, "Numeric Trading API site. Default: the marketplace's.",
              advanced=True),
        Field("scopes", "OAuth scopes", T, "Space-separated scopes the refresh token was granted.",
              default=DEFAULT_SCOPES, advanced=True),
        Field("initial_days", "First sync (days)", N, "How far back the first sync reads messages, orders and "
              "cases.", default=14, advanced=True),
        Field("timeout_s", "Timeout (seconds)", N, default=30, advanced=True),
        base_url_field(PRODUCTION, help="https://api.ebay.com, or https://api.sandbox.ebay.com for the sandbox."),
    )
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class EbaySettings:
    """Everything the connector needs to reach one seller account."""

    base_url: str
    client_id: str
    marketplace_id: str
    site_id: int
    seller_username: str | None
    messages_api: str
    cases: bool
    dev_id: str | None
    app_id: str
    scopes: tuple[str, ...]
    initial_days: int
    timeout_s: float


def _text(settings: Mapping[str, object], key: str) -> str | None:
    value = settings.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(key, f"must be text, not {type(value).__name__}")
    return value.strip()


def _number(settings: Mapping[str, object], key: str, default: float) -> float:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(key, "must be a number")
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(key, f"must be a number, not {value!r}") from None
    if number <= 0:
        raise ConfigError(key, "must be more than 0")
    return number


def _site(value: object) -> int:
    """A Trading site id: a whole number, 0 (the US) included."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise ConfigError("site_id", f"must be a whole number such as 3 (UK) or 0 (US), not {value!r}")
    return int(value)


def _choice(settings: Mapping[str, object], key: str, default: str, choices: tuple[str, ...]) -> str:
    value = _text(settings, key) or default
    if value not in choices:
        raise ConfigError(key, f"must be one of {', '.join(choices)}, not {value!r}")
    return value


def load_settings(account: AccountConfig) -> EbaySettings:
    """Validate and default an eBay account's settings (ConfigError names the bad key)."""
    s = account.settings
    client_id = _text(s, "client_id")
    if not client_id:
        raise ConfigError("client_id", "is required: the App ID from developer.ebay.com → Application Keys")
    marketplace = _choice(s, "marketplace_id", "EBAY_US", MARKETPLACES)
    site_id = s.get("site_id")
    scopes = tuple((_text(s, "scopes") or DEFAULT_SCOPES).split())
    return EbaySettings(
        base_url=(account.base_url or _text(s, "base_url") or PRODUCTION).rstrip("/"),
        client_id=client_id,
        marketplace_id=marketplace,
        site_id=_site(site_id) if site_id is not None else SITES[marketplace].site_id,
        seller_username=_text(s, "seller_username"),
        messages_api=_choice(s, "messages_api", REST, (REST, TRADING)),
        cases=not s.get("skip_cases", False),
        dev_id=_text(s, "dev_id"),
        app_id=_text(s, "app_id") or client_id,
        scopes=scopes,
        initial_days=int(_number(s, "initial_days", 14)),
        timeout_s=_number(s, "timeout_s", 30.0),
    )


def complete_settings(settings: dict[str, object], secrets: set[str]) -> dict[str, object]:
    """Derived defaults (the Trading site of the marketplace) and checks across fields."""
    marketplace = str(settings.get("marketplace_id") or "EBAY_US")
    if settings.get("site_id") is None and marketplace in SITES:
        settings["site_id"] = SITES[marketplace].site_id
    scopes = str(settings.get("scopes") or DEFAULT_SCOPES).split()
    if settings.get("messages_api", REST) == REST and SCOPE_MESSAGE not in scopes:
        raise ConfigError("scopes", f"the Message API needs {SCOPE_MESSAGE}; add it or choose messages_api trading")
    load_settings(AccountConfig(name="new", kind="ebay", settings=settings))
    return settings
