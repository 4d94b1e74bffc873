"""One mailbox account's settings, read once from :class:`~channels.base.AccountConfig`.

``ChannelAccount.settings`` is free-form JSON; this module is the single
place that knows its keys for the email channel, gives them defaults and
refuses values that cannot work, so the IMAP and SMTP code can trust them.
Secrets are never settings: they arrive already resolved in
``AccountConfig.secrets`` under the roles ``password``, ``smtp_password``,
``oauth2_token`` (a ready access token) or ``oauth2_refresh_token`` and
``oauth2_client_secret`` (turned into access tokens by :mod:`channels.email.oauth`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from channels.base import AccountConfig, ChannelError
from channels.email.oauth import PROVIDERS, OAuthClient

SECURITY = ("ssl", "starttls", "none")
PLATFORMS = ("amazon", "walmart", "shopify", "ebay")
DEFAULT_PORTS = {("imap", "ssl"): 993, ("imap", "starttls"): 143, ("imap", "none"): 143}
DEFAULT_PORTS |= {("smtp", "ssl"): 465, ("smtp", "starttls"): 587, ("smtp", "none"): 25}


class SettingsError(ChannelError):
    """The account's settings cannot work; the message names the key."""


@dataclass(frozen=True, slots=True)
class EmailSettings:
    """Everything the email connector needs to reach one mailbox."""

    imap_host: str
    imap_port: int
    imap_security: str
    user: str
    folder: str = "INBOX"
    sent_folder: str | None = None
    mark_seen: bool = False
    move_to: str | None = None
    idle: bool = False
    timeout_s: float = 30.0
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str | None = None
    from_address: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    max_attachment_bytes: int = 25 * 1024 * 1024
    oauth_client: OAuthClient | None = None

    @property
    def sender_domain(self) -> str:
        """The domain of the sending address; it names our Message-IDs."""
        address = self.from_address or self.user
        return address.rpartition("@")[2] or "localhost"


def _text(settings: Mapping[str, object], key: str, default: str | None = None) -> str | None:
    value = settings.get(key, default)
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise SettingsError(f"setting {key!r} must be text, not {type(value).__name__}")
    return value


def _int(settings: Mapping[str, object], key: str, default: int) -> int:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SettingsError(f"setting {key!r} must be a whole number")
    try:
        return int(value)
    except ValueError:
        raise SettingsError(f"setting {key!r} must be a whole number, not {value!r}") from None


def _security(settings: Mapping[str, object], key: str, default: str) -> str:
    value = (_text(settings, key, default) or default).lower()
    if value not in SECURITY:
        raise SettingsError(f"setting {key!r} must be one of {', '.join(SECURITY)}, not {value!r}")
    return value


def load_settings(account: AccountConfig) -> EmailSettings:
    """Validate and default an email account's settings (SettingsError names the bad key)."""
    s = account.settings
    host = _text(s, "imap_host")
    user = _text(s, "user")
    if not host:
        raise SettingsError(f"account {account.name!r} has no imap_host")
    if not user:
        raise SettingsError(f"account {account.name!r} has no user")
    imap_security = _security(s, "imap_security", "ssl")
    smtp_security = _security(s, "smtp_security", "starttls")
    return EmailSettings(
        imap_host=host,
        imap_port=_int(s, "imap_port", DEFAULT_PORTS["imap", imap_security]),
        imap_security=imap_security,
        user=user,
        folder=_text(s, "folder", "INBOX") or "INBOX",
        sent_folder=_text(s, "sent_folder"),
        mark_seen=bool(s.get("mark_seen", False)),
        move_to=_text(s, "move_to"),
        idle=bool(s.get("idle", False)),
        timeout_s=float(_int(s, "timeout_s", 30)),
        smtp_host=_text(s, "smtp_host"),
        smtp_port=_int(s, "smtp_port", DEFAULT_PORTS["smtp", smtp_security]),
        smtp_security=smtp_security,
        smtp_user=_text(s, "smtp_user"),
        from_address=_text(s, "from_address"),
        from_name=_text(s, "from_name"),
        reply_to=_text(s, "reply_to"),
        max_attachment_bytes=_int(s, "max_attachment_bytes", 25 * 1024 * 1024),
        oauth_client=_oauth_client(s),
    )


def _oauth_client(settings: Mapping[str, object]) -> OAuthClient | None:
    """The token endpoint to refresh at: ``oauth2_provider`` fills in a known one, explicit keys win."""
    provider = _text(settings, "oauth2_provider")
    if provider is not None and provider not in PROVIDERS:
        raise SettingsError(f"setting 'oauth2_provider' must be one of {', '.join(PROVIDERS)}, not {provider!r}")
    url, scope = PROVIDERS[provider] if provider else (None, None)
    url = _text(settings, "oauth2_token_url", url)
    client_id = _text(settings, "oauth2_client_id")
    if url is None and client_id is None:
        return None
    if url is None or client_id is None:
        raise SettingsError("OAuth refresh needs both 'oauth2_client_id' and 'oauth2_token_url' (or 'oauth2_provider')")
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise SettingsError(f"setting 'oauth2_token_url' must be an https:// address, not {url!r}")
    return OAuthClient(url, client_id, _text(settings, "oauth2_scope", scope))
