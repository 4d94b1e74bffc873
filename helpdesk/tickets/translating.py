"""Translation on the ticket page: which buyer messages to offer it for, the reply's language, what the agent wrote.

The agent reads in their UI language and answers in the buyer's: a buyer
message whose language (stored at ingest, else detected now) is not the
agent's gets a Translate control, and the cached translation
(:func:`helpdesk.translation.services.translate_message`) is shown under the
original, which is never replaced.  The reply's language is the one the
macros choose for the ticket (``macros.locale.choose``), so a macro and a
translated draft never disagree, and its reason is shown beside the button.
A translated reply keeps the agent's own text on the outgoing message
(``Message.meta``), for leads to read what was meant; delivery sends only
``body_text``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.tickets.models import Message, Ticket
from helpdesk.translation import configuration, registry
from helpdesk.translation.models import MessageTranslation
from macros.locale import LocaleChoice, choose

#: The locales a reply can be translated into: the macro library's (so the composer and macros agree).
REPLY_LOCALES = ("en", "de", "fr", "es", "it", "ja", "zh_Hans", "pt_BR", "pl", "nl", "ar", "th", "id", "vi")
#: ``Message.meta`` keys of a translated reply: the agent's own text and its language, and the language sent.
WRITTEN_TEXT = "written_text"
WRITTEN_LANGUAGE = "written_language"
TRANSLATED_TO = "translated_to"


def language_code(locale: str | None) -> str:
    """The ISO 639-1 code providers take: ``zh_Hans`` → ``zh``, ``pt_BR`` → ``pt``, ``en-GB`` → ``en``."""
    return (locale or "en").replace("-", "_").split("_")[0].lower() or "en"


def agent_language(user: User) -> str:
    return language_code(str(user.locale or "en"))


def message_language(message: Message) -> str | None:
    """The stored language, else what the detector says now (None when the text says too little)."""
    if message.language:
        return language_code(message.language)
    try:
        from macros.language import detect
    except ImportError:  # the detector is optional
        return None
    found = detect(message.display_text or "")
    return found.language if found is not None else None


@dataclass(frozen=True)
class Reading:
    """What one buyer message offers: its language and its translation into the agent's, if asked for."""

    source: str | None
    translation: MessageTranslation | None


@dataclass
class PageTranslation:
    """The ticket page's translation state: the agent's language, the provider, each buyer message's reading."""

    target: str
    provider: str | None
    provider_label: str
    readings: dict[int, Reading] = field(default_factory=dict)

    @property
    def configured(self) -> bool:
        return self.provider is not None


def page_state(session: Session, messages: Sequence[Message], agent: User) -> PageTranslation:
    """One query for every translation on the page; a message in the agent's own language offers nothing."""
    target = agent_language(agent)
    active = configuration.active(session)
    provider = active.kind if active else None
    label = registry.PROVIDERS[provider].label if provider in registry.PROVIDERS else (provider or "")
    state = PageTranslation(target, provider, label)
    buyers = [m for m in messages if m.direction == "in" and not m.is_internal]
    cached: dict[int, MessageTranslation] = {}
    if provider and buyers:
        cached = {
            row.message_id: row
            for row in session.scalars(
                sa.select(MessageTranslation).where(
                    MessageTranslation.message_id.in_([m.id for m in buyers]),
                    MessageTranslation.target == target,
                    MessageTranslation.provider == provider,
                )
            )
        }
    for m in buyers:
        source = message_language(m)
        if source != target or m.id in cached:
            state.readings[m.id] = Reading(source, cached.get(m.id))
    return state


def reply_language(session: Session, ticket: Ticket) -> LocaleChoice:
    """The buyer's locale for a reply, chosen as a macro's would be (detected, customer, site, store)."""
    from helpdesk.channelaccounts.models import ChannelAccount
    from helpdesk.customers.models import Customer
    from helpdesk.macros.services import detected_language

    customer = session.get(Customer, ticket.customer_id)
    account = session.get(ChannelAccount, ticket.channel_account_id)
    return choose(
        REPLY_LOCALES,
        detected=detected_language(session, ticket),
        customer=customer.language if customer else None,
        site=ticket.site or (account.site if account else None),
        store=account.default_language if account else None,
    )


def keep_written_text(message: Message, written: str, written_language: str, sent_language: str) -> None:
    """Store what the agent wrote beside the translation that leaves; agents and leads see it, the buyer never."""
    message.meta = {
        **(message.meta or {}),
        WRITTEN_TEXT: written.strip(),
        WRITTEN_LANGUAGE: written_language,
        TRANSLATED_TO: sent_language,
    }


def missing_locale(session: Session, ticket: Ticket, choice: LocaleChoice) -> str | None:
    """The buyer's language when the macro variant chosen is in another one (the macro has none in theirs).

    The chooser falls back to the site's or store's language, or English,
    when the buyer's is missing; that variant is the nearest the macro has,
    and the composer offers it machine-translated.  A locale the agent picked
    by hand is taken as meant.
    """
    if choice.reason == "chosen":
        return None
    from helpdesk.macros.services import detected_language

    wanted = choice.wanted or detected_language(session, ticket)
    if wanted and language_code(wanted) != language_code(choice.locale):
        return wanted
    return None
