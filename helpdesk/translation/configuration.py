"""An admin's choice of translation provider: address, key (sealed at rest), model, monthly cap, and its check.

Several providers may be configured; one is active and receives every
translation.  The key is sealed with :func:`helpdesk.crypto.seal` like a
connector's credentials and never leaves the server again: forms show only
whether one is set, and an empty key field keeps the stored one.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from channels import netguard
from helpdesk import crypto
from helpdesk.accounts.admin_services import audit
from helpdesk.accounts.models import User
from helpdesk.db import utcnow
from helpdesk.outbound import kind_label
from helpdesk.translation import registry
from helpdesk.translation.base import NotConfigured, Provider, ProviderSettings, TranslationError
from helpdesk.translation.models import TranslationProvider
from helpdesk.translation.providers.deepl import DeepL

DOCS = "docs/translation.md"
MAX_CAP = 10**12


class ConfigInvalid(ValueError):
    """Settings that cannot work; the message names the field and what to enter."""


def active(session: Session) -> TranslationProvider | None:
    return session.scalar(sa.select(TranslationProvider).where(TranslationProvider.active.is_(True)))


def by_kind(session: Session, kind: str) -> TranslationProvider | None:
    return session.scalar(sa.select(TranslationProvider).where(TranslationProvider.kind == kind))


def require_active(session: Session) -> TranslationProvider:
    row = active(session)
    if row is None:
        raise NotConfigured(
            _(
                "No translation service is configured. An admin can choose one under Administration → "
                "Translation (see %(docs)s).",
                docs=DOCS,
            )
        )
    return row


def has_key(row: TranslationProvider) -> bool:
    return bool(crypto.unseal(row.secrets_sealed).get("api_key"))


def provider_for(row: TranslationProvider) -> Provider:
    """The provider object for a configured row (key unsealed, state shared so new glossary ids are kept)."""
    key = crypto.unseal(row.secrets_sealed).get("api_key", "")
    settings = ProviderSettings(base_url=row.base_url, api_key=key, model=row.model, state=dict(row.state or {}))
    return registry.build(row.kind, settings)


def keep_state(row: TranslationProvider, provider: Provider) -> None:
    """Write back what the provider learnt (a new glossary id) if it changed."""
    state = dict(provider.settings.state)
    if state != (row.state or {}):
        row.state = state


def _check_url(url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigInvalid(_("The address must start with http:// or https://, e.g. http://127.0.0.1:5000."))
    try:
        netguard.check_url(url)
    except netguard.AddressRefused as exc:
        raise ConfigInvalid(
            _(
                "Service address: %(host)s is a %(kind)s address, inside the helpdesk's own network. Use the "
                "service's public address, or ask the operator to allow it (HELPDESK_ALLOWED_URL_NETWORKS).",
                host=exc.host,
                kind=kind_label(exc.kind),
            )
        ) from None
    return url.rstrip("/")


def configure(
    session: Session,
    actor: User | None,
    *,
    kind: str,
    base_url: str = "",
    api_key: str | None = None,
    clear_key: bool = False,
    model: str = "",
    monthly_char_cap: int | None = None,
    activate: bool = True,
) -> TranslationProvider:
    """Create or change the settings of ``kind`` (and make it the active one); ``api_key`` None keeps the key."""
    cls = registry.PROVIDERS.get(kind)
    if cls is None:
        raise ConfigInvalid(
            _(
                "Unknown translation service %(kind)s; choose one of: %(kinds)s.",
                kind=kind,
                kinds=", ".join(registry.PROVIDERS),
            )
        )
    if monthly_char_cap is not None and not 0 < monthly_char_cap <= MAX_CAP:
        raise ConfigInvalid(_("The monthly cap must be a positive number of characters, or empty for no cap."))
    row = by_kind(session, kind) or TranslationProvider(kind=kind, state={})
    before = crypto.unseal(row.secrets_sealed)
    values = dict(before)
    if clear_key:
        values.pop("api_key", None)
    if api_key:
        values["api_key"] = api_key.strip()
    if cls.needs_key and not values.get("api_key"):
        raise ConfigInvalid(_("%(service)s needs an API key; enter the key from your account page.", service=cls.label))
    if cls.needs_model and not model.strip():
        raise ConfigInvalid(_("Enter the model to use, as the server names it (e.g. qwen2.5:7b for Ollama)."))
    changed_endpoint = row.base_url != _check_url(base_url) or before != values
    row.base_url = _check_url(base_url)
    row.model = model.strip()
    if before != values or row.secrets_sealed is None:
        row.secrets_sealed = crypto.seal(values)
    row.monthly_char_cap = monthly_char_cap
    row.updated_at = utcnow()
    if changed_endpoint:
        row.state = {}  # glossary ids and language codes belong to the old account or server
        row.last_check_at = row.last_check_ok = row.last_check_detail = None
    session.add(row)
    if activate:
        session.execute(sa.update(TranslationProvider).where(TranslationProvider.kind != kind).values(active=False))
        row.active = True
    else:
        row.active = False
    session.flush()
    audit(
        session,
        actor,
        "translation.configured",
        {"provider": kind, "base_url": row.base_url, "model": row.model, "cap": monthly_char_cap, "active": row.active},
    )
    return row


def deactivate(session: Session, actor: User | None) -> TranslationProvider | None:
    """Stop translating (settings are kept for later); the provider that was active."""
    row = active(session)
    if row is not None:
        row.active = False
        audit(session, actor, "translation.disabled", {"provider": row.kind})
        session.flush()
    return row


@dataclass(frozen=True)
class Diagnosis:
    ok: bool
    summary: str  # in the admin's language
    detail: str = ""  # the service's own words, if any


def check_connection(session: Session, row: TranslationProvider) -> Diagnosis:
    """Translate a short sentence through ``row`` and say plainly what works or what to fix (recorded on the row).

    A real translation is the only proof that address, key and model all
    work; it costs a dozen characters, counted like any other.
    """
    from helpdesk.translation.services import explain
    from helpdesk.translation.usage import count

    provider = provider_for(row)
    sample = "Where is my order?"
    try:
        out = provider.translate([sample], "en", "de")[0]
        count(session, row.kind, len(sample))
        summary = _("Connected: %(service)s translated a test sentence.", service=provider.label)
        detail = f"“{sample}” → “{out.text}”"
        if isinstance(provider, DeepL):
            spent, limit = provider.usage()
            said = _("DeepL reports %(used)s of %(limit)s characters used this period.", used=spent, limit=limit)
            detail += " · " + said
        diagnosis = Diagnosis(True, summary, detail)
    except TranslationError as exc:
        diagnosis = Diagnosis(False, explain(exc.kind), str(exc))
    finally:
        provider.close()
    row.last_check_at = utcnow()
    row.last_check_ok = diagnosis.ok
    row.last_check_detail = f"{diagnosis.summary} {diagnosis.detail}".strip()
    keep_state(row, provider)
    return diagnosis
