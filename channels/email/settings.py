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

from channels import netguard
from channels.base import AccountConfig, ChannelError
from channels.email.oauth import PROVIDERS, OAuthClient
from channels.schema import ConfigError, ConfigSchema, Field, FieldType

SECURITY = ("ssl", "starttls", "none")
#: The size limit of the strictest big mail provider (Outlook.com 20 MB; Gmail 25 MB, Microsoft 365 35 MB by default).
SMTP_MAX_MESSAGE_BYTES = 20 * 1024 * 1024
#: Room left for the text and HTML parts, headers and MIME boundaries of a reply.
MESSAGE_OVERHEAD_BYTES = 256 * 1024
#: Files per reply: mail has no limit of its own; a reply with more is better sent as an archive.
MAX_REPLY_FILES = 20
PLATFORMS = ("amazon", "walmart", "shopify", "ebay")
DEFAULT_PORTS = {("imap", "ssl"): 993, ("imap", "starttls"): 143, ("imap", "none"): 143}
DEFAULT_PORTS |= {("smtp", "ssl"): 465, ("smtp", "starttls"): 587, ("smtp", "none"): 25}


T, N, B, C, S = FieldType.TEXT, FieldType.INT, FieldType.BOOL, FieldType.CHOICE, FieldType.SECRET

#: What an e-mail account asks for; ``channels add email`` and the admin form are built from it.
SCHEMA = ConfigSchema(
    (
        Field("imap_host", "IMAP server", T, "e.g. imap.gmail.com or outlook.office365.com", required=True),
        Field("imap_port", "IMAP port", N, "Default: 993 for ssl, 143 otherwise.", advanced=True),
        Field("imap_security", "IMAP security", C, default="ssl", choices=SECURITY, advanced=True),
        Field("user", "IMAP login", T, "Usually the mailbox address.", required=True),
        Field("password", "Password", S, "The mailbox (app) password. Not needed with OAuth."),
        Field("oauth2_token", "OAuth access token", S, "A ready XOAUTH2 token kept fresh elsewhere.", advanced=True),
        Field("oauth2_provider", "OAuth provider", C, "Refresh tokens here.", choices=tuple(sorted(PROVIDERS))),
        Field("oauth2_client_id", "OAuth client id", T, "The application the refresh token was issued to."),
        Field("oauth2_token_url", "OAuth token endpoint", T, "When the provider is not one listed.", advanced=True),
        Field("oauth2_scope", "OAuth scope", T, advanced=True),
        Field("oauth2_refresh_token", "OAuth refresh token", S, "Kept fresh; a rotated token is saved."),
        Field("oauth2_client_secret", "OAuth client secret", S),
        Field("folder", "Folder", T, "Folder to read buyer mail from.", default="INBOX"),
        Field("sent_folder", "Sent folder", T, "Also read replies sent from other mail programs here."),
        Field("mark_seen", "Mark mail read", B, "Mark mail read once it is stored.", default=False),
        Field("move_to", "Move to folder", T, "Move mail to this folder once it is stored.", advanced=True),
        Field("idle", "Instant mail (IMAP IDLE)", B, "New mail arrives within seconds.", default=False),
        Field("timeout_s", "Timeout (seconds)", N, default=30, advanced=True),
        Field("smtp_host", "SMTP server", T, "For replies; without it the account only reads."),
        Field("smtp_port", "SMTP port", N, "Default: 465 for ssl, 587 for starttls, 25 for none.", advanced=True),
        Field("smtp_security", "SMTP security", C, default="starttls", choices=SECURITY, advanced=True),
        Field("smtp_user", "SMTP login", T, "Default: the IMAP login.", advanced=True),
        Field("smtp_password", "SMTP password", S, "Default: the IMAP password.", advanced=True),
        Field("from_address", "Reply from", T, "Sender of replies; for Amazon and Walmart the authorised sender."),
        Field("from_name", "Reply from name", T),
        Field("reply_to", "Reply-To", T, advanced=True),
        Field("max_attachment_bytes", "Largest attachment (bytes)", N, default=25 * 1024 * 1024, advanced=True),
        Field(
            "smtp_max_message_bytes", "Largest mail the SMTP server takes (bytes)", N,
            "Replies' files must fit in it once encoded. Default: 20 MB (Outlook.com; Gmail takes 25 MB).",
            default=SMTP_MAX_MESSAGE_BYTES, advanced=True,
        ),
    )
)  # fmt: skip


def reply_attachment_bytes(settings: Mapping[str, object]) -> int:
    """How many bytes of files a reply may carry through this account's SMTP server.

    Mail carries files in base64, which makes them a third larger, and the
    text, HTML and headers need room too: a 20 MB server limit leaves about
    14.7 MB for files.
    """
    limit = _int(settings, "smtp_max_message_bytes", SMTP_MAX_MESSAGE_BYTES)
    return max(0, (limit - MESSAGE_OVERHEAD_BYTES) * 3 // 4)


def complete_settings(settings: dict[str, object], secrets: set[str]) -> dict[str, object]:
    """Checks across fields: a way to log in, whole OAuth settings, a sender for replies."""
    if not secrets & {"password", "oauth2_token", "oauth2_refresh_token"}:
        raise ConfigError(
            "password",
            "give a password, an OAuth refresh token (with the provider and client id) or an OAuth access token",
        )
    if "oauth2_refresh_token" in secrets and not settings.get("oauth2_client_id"):
        raise ConfigError("oauth2_client_id", "an OAuth refresh token needs the client id it was issued to")
    user = str(settings.get("user") or "")
    if not settings.get("from_address") and "@" in user:
        settings["from_address"] = user
    for field in ("imap_host", "smtp_host"):
        try:
            netguard.check_host(str(settings.get(field) or ""))
        except netguard.AddressRefused as exc:
            raise ConfigError(field, str(exc)) from None
    if settings.get("smtp_host") and not settings.get("from_address"):
        raise ConfigError("from_address", "replies need a sender address (the login is not an e-mail address)")
    try:
        load_settings(AccountConfig(name="new", kind="email", settings=settings))
    except SettingsError as exc:
        raise ConfigError("settings", str(exc)) from None
    return settings


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
