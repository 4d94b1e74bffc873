"""Channel accounts: set-up from a connector's schema, connectors built for them, connection tests.

Nothing here knows a platform: the registry names the connector class of an
account's kind, its schema says what the account needs, and the class
checks combinations (``complete_settings``).  The CLI and the admin page are
two faces of these functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from channels import registry
from channels.base import AccountConfig, ChannelError, Connector, Diagnosis, DiagnosisCode, diagnose
from channels.schema import ConfigError
from helpdesk import crypto
from helpdesk.channelaccounts.credentials import DbCredentialStore, MissingSecret
from helpdesk.channelaccounts.models import ChannelAccount

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,119}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class AccountError(ValueError):
    """An account cannot be saved as asked; ``field`` names what to fix."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def connector_class(kind: str) -> type[Connector]:
    return registry.get(kind)


def credential_store(account: ChannelAccount, env: Mapping[str, str] | None = None) -> DbCredentialStore:
    from helpdesk.extensions import db

    return DbCredentialStore(
        db.engine,
        account.id,
        refs=account.secret_refs or {},
        box=crypto.sealer(list(current_app.config["HELPDESK_SETTINGS"].encryption_keys)),
        account_name=account.name,
        env=env,
    )


def account_config(
    account: ChannelAccount, env: Mapping[str, str] | None = None, *, as_loaded: bool = False
) -> AccountConfig:
    """What the account's connector needs: settings, secrets resolved, a store for tokens that change.

    Secrets are read afresh in a connection of the store's own (another
    process may have just rotated a token), unless ``as_loaded``: then they
    come from the row as the caller's session loaded it.  A request that has
    just read the row and only checks a signature wants that: a second pooled
    connection per request lets a burst of concurrent requests, each holding
    one and waiting for another, exhaust the pool and stall until its timeout.
    """
    store = credential_store(account, env)
    return AccountConfig(
        name=account.name,
        kind=account.kind,
        base_url=account.base_url,
        settings=dict(account.settings or {}),
        secrets=store.opened(account.secrets_sealed) if as_loaded else store.get(),
        platform=account.platform,
        site=account.site,
        credentials=store,
    )


def build_connector(account: ChannelAccount) -> Connector:
    """The account's connector (KeyError for an unknown kind, ChannelError for unusable settings)."""
    return connector_class(account.kind)(account_config(account))


# --- set-up --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountInput:
    """What a person (CLI, admin form) gave for an account; text as typed."""

    kind: str
    name: str
    display_name: str | None = None
    platform: str | None = None
    site: str | None = None
    language: str | None = None
    timezone: str | None = None
    settings: Mapping[str, object] | None = None
    secrets: Mapping[str, str] | None = None  # values to seal
    secret_refs: Mapping[str, str] | None = None  # role → environment variable name
    poll_interval_s: int | None = None


def _checked_refs(cls: type[Connector], refs: Mapping[str, str]) -> dict[str, str]:
    known = {f.name for f in cls.schema.secret_fields}
    out = {}
    for role, var in refs.items():
        if role not in known:
            raise AccountError(role, f"is not a secret of a {cls.kind} account")
        if not _ENV_NAME.match(var):
            raise AccountError(role, f"{var!r} is not an environment variable name (give the NAME, not the secret)")
        out[role] = var
    return out


def _checked_secrets(cls: type[Connector], secrets: Mapping[str, str]) -> dict[str, str]:
    known = {f.name for f in cls.schema.secret_fields}
    out = {}
    for role, value in secrets.items():
        if role not in known:
            raise AccountError(role, f"is not a secret of a {cls.kind} account")
        if value:
            out[role] = value
    return out


def _platform(cls: type[Connector], requested: str | None) -> str | None:
    platform = None if requested in (None, "", "none") else requested
    if requested is None:
        return cls.platforms[0]
    if platform not in cls.platforms:
        allowed = ", ".join(p or "none" for p in cls.platforms)
        raise AccountError("platform", f"a {cls.kind} account belongs to one of: {allowed}")
    return platform


def _complete(cls: type[Connector], settings: dict[str, object], secret_roles: set[str]) -> dict[str, object]:
    try:
        settings = cls.complete_settings(settings, secret_roles)
    except ConfigError as exc:
        raise AccountError(exc.field, exc.reason) from None
    missing = cls.schema.missing_secrets(secret_roles)
    if missing:
        raise AccountError(missing[0], "is required")
    return settings


def create_account(session: Session, given: AccountInput) -> ChannelAccount:
    """Check ``given`` against the kind's schema and store a new account (flushed, not committed)."""
    try:
        cls = connector_class(given.kind)
    except KeyError as exc:
        raise AccountError("kind", str(exc).strip('"')) from None
    if not _NAME.match(given.name or ""):
        raise AccountError("name", "use lower-case letters, digits, '.', '_' or '-' (e.g. ebay-uk)")
    if session.scalar(sa.select(ChannelAccount.id).where(ChannelAccount.name == given.name)) is not None:
        raise AccountError("name", f"an account named {given.name!r} already exists")
    try:
        settings = cls.schema.parse(dict(given.settings or {}))
    except ConfigError as exc:
        raise AccountError(exc.field, exc.reason) from None
    refs = _checked_refs(cls, given.secret_refs or {})
    secrets = _checked_secrets(cls, given.secrets or {})
    settings = _complete(cls, settings, set(refs) | set(secrets))
    account = ChannelAccount(
        name=given.name,
        kind=given.kind,
        platform=_platform(cls, given.platform),
        display_name=given.display_name or given.name,
        site=given.site or None,
        default_language=given.language or None,
        timezone=given.timezone or "UTC",
        base_url=str(settings["base_url"]) if settings.get("base_url") else None,
        settings=settings,
        secret_refs=refs,
        secrets_sealed=crypto.seal(secrets),
        poll_interval_s=given.poll_interval_s,
        problems={},
    )
    session.add(account)
    session.flush()
    return account


def update_account(
    session: Session,
    account: ChannelAccount,
    *,
    settings: Mapping[str, object] | None = None,
    secrets: Mapping[str, str] | None = None,
    secret_refs: Mapping[str, str] | None = None,
    forget_secrets: tuple[str, ...] = (),
    **fields: Any,
) -> ChannelAccount:
    """Change some settings or secrets; a secret left empty keeps its stored value."""
    cls = connector_class(account.kind)
    try:
        changed = cls.schema.parse(dict(settings or {}), partial=True)
    except ConfigError as exc:
        raise AccountError(exc.field, exc.reason) from None
    merged = {**(account.settings or {}), **changed}
    refs = {**(account.secret_refs or {}), **_checked_refs(cls, secret_refs or {})}
    sealed = crypto.unseal(account.secrets_sealed)
    sealed.update(_checked_secrets(cls, secrets or {}))
    for role in secret_refs or {}:
        sealed.pop(role, None)  # a new reference replaces a stored value
    for role in forget_secrets:
        sealed.pop(role, None)
        refs.pop(role, None)
    merged = _complete(cls, merged, set(refs) | set(sealed))
    if "platform" in fields:
        account.platform = _platform(cls, fields.pop("platform"))
    for key in ("display_name", "site", "default_language", "timezone", "poll_interval_s", "enabled"):
        if key in fields:
            setattr(account, key, fields.pop(key))
    if fields:
        raise AccountError(next(iter(fields)), "cannot be changed")
    account.settings = merged
    account.base_url = str(merged["base_url"]) if merged.get("base_url") else None
    account.secret_refs = refs
    account.secrets_sealed = crypto.seal(sealed)
    session.flush()
    return account


def secret_status(account: ChannelAccount) -> dict[str, str]:
    """Secret role → "stored" (sealed), "env:NAME" or "missing"; never a value."""
    cls = connector_class(account.kind)
    sealed = set(crypto.unseal(account.secrets_sealed))
    refs = account.secret_refs or {}
    out = {}
    for f in cls.schema.secret_fields:
        if f.name in sealed:
            out[f.name] = "stored"
        elif f.name in refs:
            out[f.name] = f"env:{refs[f.name]}"
        else:
            out[f.name] = "missing"
    return out


def diagnose_account(account: ChannelAccount) -> Diagnosis:
    """Ask the account's connector to try its credentials and capabilities; never raises."""
    try:
        connector = build_connector(account)
    except MissingSecret as exc:
        return Diagnosis(DiagnosisCode.MISCONFIGURED, str(exc))
    except (ChannelError, ConfigError, KeyError) as exc:
        return Diagnosis(DiagnosisCode.MISCONFIGURED, str(exc).strip('"'))
    try:
        return connector.check_connection()
    except ChannelError as exc:
        return Diagnosis(diagnose(exc), str(exc))
    finally:
        connector.close()
