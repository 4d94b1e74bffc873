"""The desk's translation calls: texts through the active provider, drafts, cached message translations.

Everything here goes through :func:`translate_texts`: the monthly cap is
checked, protected spans are masked (:mod:`.roundtrip`), the characters
sent are counted, and what the provider learnt (a DeepL glossary id) is
kept.  Messages are translated in the task queue
(:mod:`helpdesk.translation.tasks`), never on the ingest path, and cached per
message, target language and provider; a rate limit or an outage is tried
again with growing waits, anything else fails at once with a reason the
agent can read in their own language (:func:`explain`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpdesk.db import utcnow
from helpdesk.events import publish
from helpdesk.tickets.models import Message, Ticket
from helpdesk.translation import configuration, glossary, usage
from helpdesk.translation.base import (
    NotConfigured,
    RateLimited,
    Translated,
    TranslationError,
)
from helpdesk.translation.models import MessageTranslation, TranslationStatus
from helpdesk.translation.protect import mask
from helpdesk.translation.roundtrip import translate_protected

#: Attempts of one message translation before it is given up (about 10 s, 20 s, 40 s … 5 min apart).
MAX_ATTEMPTS = 6
#: The longest wait between attempts, whatever a service's Retry-After asks.
MAX_WAIT_S = 3600.0
#: A pending translation this long past its due time lost its job (jobs start within seconds).
STRANDED_AFTER = timedelta(minutes=5)


def explain(kind: str) -> str:
    """What a failure means and what to do next, in the current user's language."""
    sentences = {
        "unreachable": _(
            "The translation service did not answer. It may be down or its address wrong; the helpdesk tries "
            "again by itself, and an admin can test the connection under Administration → Translation."
        ),
        "auth": _(
            "The translation service refused its API key. An admin can enter a valid key under Administration → "
            "Translation."
        ),
        "rate_limited": _(
            "The translation service asked us to slow down; the translation is tried again by itself in a moment."
        ),
        "quota": _(
            "The translation allowance is used up for this period (the service's plan or this desk's monthly cap). "
            "An admin can raise the cap or change the plan."
        ),
        "bad_request": _("The translation service refused this text or language pair; the reason it gave is below."),
        "not_configured": _(
            "No translation service is configured. An admin can choose one under Administration → Translation "
            "(see %(docs)s).",
            docs=configuration.DOCS,
        ),
        "lost": _("The message no longer exists."),
    }
    return sentences.get(kind, _("The translation failed; the reason the service gave is below."))


def translate_texts(
    session: Session, texts: Sequence[str], source: str | None, target: str, store_id: int | None = None
) -> list[Translated]:
    """``texts`` through the active provider, protected spans intact, counted against the month's cap."""
    row = configuration.require_active(session)
    terms = glossary.for_store(session, store_id)
    planned = sum(len(mask(t).text) for t in texts)
    usage.ensure_within_cap(session, row, planned)
    provider = configuration.provider_for(row)
    try:
        out = translate_protected(provider, texts, source, target, terms)
    finally:
        provider.close()
        configuration.keep_state(row, provider)
    usage.count(session, row.kind, sum(t.characters for t in out))
    return out


def translate_draft(session: Session, text: str, source: str | None, target: str, store_id: int | None) -> Translated:
    """The composer's draft in the buyer's language, now; typed errors leave the draft where it is."""
    if not text.strip():
        return Translated(text, source, "", characters=0)
    return translate_texts(session, [text], source, target, store_id)[0]


# --- message translations (cached, in the task queue) ---------------------------------------------------


def cached(session: Session, message_id: int, target: str, provider: str) -> MessageTranslation | None:
    return session.scalar(
        sa.select(MessageTranslation).where(
            MessageTranslation.message_id == message_id,
            MessageTranslation.target == target,
            MessageTranslation.provider == provider,
        )
    )


def request_translation(session: Session, message_id: int, target: str) -> tuple[MessageTranslation, bool]:
    """The cached row for the active provider, created ``pending`` if missing; (row, whether a job is needed).

    A failed row asked for again is reset to pending (the agent pressed
    Translate again after the admin fixed the key).  Flushes, never commits.
    """
    provider = configuration.require_active(session).kind
    row = cached(session, message_id, target, provider)
    if row is None:
        row = MessageTranslation(
            message_id=message_id, target=target, provider=provider, missing=[], next_attempt_at=utcnow()
        )
        try:
            with session.begin_nested():  # another agent may ask for the same translation at the same moment
                session.add(row)
        except IntegrityError:
            row = cached(session, message_id, target, provider)
            assert row is not None
            return row, False
        return row, True
    if row.status == TranslationStatus.FAILED:
        row.status, row.attempts, row.error, row.error_kind = TranslationStatus.PENDING, 0, None, None
        row.updated_at = row.next_attempt_at = utcnow()
        session.flush()
        return row, True
    return row, False


def translate_message(message_id: int, target: str) -> MessageTranslation:
    """Boundary call for a request: the cached translation, or a pending one whose job is queued after the commit."""
    from helpdesk.extensions import db
    from helpdesk.translation.tasks import translate_message_task

    row, queue = request_translation(db.session, message_id, target)
    row_id = row.id
    db.session.commit()
    if queue:
        translate_message_task(row_id)
        db.session.expire_all()  # an inline job (immediate mode) wrote the row in its own transaction
    found = db.session.get(MessageTranslation, row_id)
    assert found is not None
    return found


@dataclass(frozen=True)
class Outcome:
    """What a job did: done, failed, or ``retry_in`` seconds to wait before the next attempt."""

    status: str
    retry_in: float | None = None


def _backoff(attempt: int) -> float:
    from helpdesk.webhooks.retries import backoff

    return min(backoff(attempt), MAX_WAIT_S)


def run_message_translation(session: Session, translation_id: int) -> Outcome:
    """One attempt at a pending translation; the row records the result. Flushes, the job commits."""
    row = session.get(MessageTranslation, translation_id)
    if row is None or row.status != TranslationStatus.PENDING:
        return Outcome(row.status if row else TranslationStatus.FAILED)
    message = session.get(Message, row.message_id)
    row.attempts += 1
    row.updated_at = utcnow()
    if message is None:
        return _fail(session, row, None, "lost", "")
    text = message.stripped_text or message.body_text or ""
    try:
        active = configuration.active(session)
        if active is None or active.kind != row.provider:
            raise NotConfigured(f"{row.provider} is no longer the active translation service")
        out = translate_texts(session, [text], message.language, row.target, message.channel_account_id)[0]
    except TranslationError as exc:
        if not exc.retryable or row.attempts >= MAX_ATTEMPTS:
            return _fail(session, row, message, exc.kind, str(exc))
        row.error_kind, row.error = exc.kind, str(exc)
        wait = exc.retry_after_s if isinstance(exc, RateLimited) and exc.retry_after_s else None
        delay = min(wait, MAX_WAIT_S) if wait else _backoff(row.attempts)
        row.next_attempt_at = utcnow() + timedelta(seconds=delay)
        return Outcome(TranslationStatus.PENDING, delay)
    row.status = TranslationStatus.DONE
    row.next_attempt_at = None
    row.text = out.text
    row.source_language = out.source or message.language
    row.missing = list(out.missing)
    row.error = row.error_kind = None
    _announce(session, row, message)
    return Outcome(TranslationStatus.DONE)


def _fail(session: Session, row: MessageTranslation, message: Message | None, kind: str, detail: str) -> Outcome:
    row.status, row.error_kind, row.error = TranslationStatus.FAILED, kind, detail
    row.next_attempt_at = None
    if message is not None:
        _announce(session, row, message)
    return Outcome(TranslationStatus.FAILED)


def stranded(session: Session, grace: timedelta = STRANDED_AFTER) -> list[int]:
    """Pending translations whose job should have run ``grace`` ago: lost between a commit and the queue."""
    return list(
        session.scalars(
            sa.select(MessageTranslation.id)
            .where(
                MessageTranslation.status == TranslationStatus.PENDING,
                MessageTranslation.next_attempt_at < utcnow() - grace,
            )
            .order_by(MessageTranslation.next_attempt_at)
            .limit(500)
        )
    )


def _announce(session: Session, row: MessageTranslation, message: Message) -> None:
    """``message.translated`` for the ticket's room (the page shows it) and webhooks, with the job's commit."""
    session.flush()
    ticket = session.get(Ticket, message.ticket_id)
    publish(
        session,
        "message.translated",
        {
            "ticket_id": message.ticket_id,
            "message_id": message.id,
            "channel_account_id": message.channel_account_id,
            "team_id": ticket.team_id if ticket else None,
            "translation_id": row.id,
            "target": row.target,
            "provider": row.provider,
            "status": row.status,
        },
    )
