"""The desk's side on SQLite and PostgreSQL: sealed keys, the monthly counter and cap, cached message translations."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from helpdesk.audit.models import AuditEvent
from helpdesk.tickets.models import Message
from helpdesk.translation import configuration, glossary, services, usage
from helpdesk.translation.base import NotConfigured, QuotaExceeded
from helpdesk.translation.models import MessageTranslation, TranslationProvider
from helpdesk.translation.tasks import translate_message_task

GERMAN = "Hallo, wo ist meine Bestellung 123-4567890-1234567? Die LampWorks Aurora ist noch nicht angekommen."


@pytest.fixture
def message_id(session, make_account, make_message) -> int:
    """A German buyer message, stored by the ingest pipeline."""
    from helpdesk.ingest.pipeline import ingest

    make_account(name="shop-de")
    ingest(session, [make_message(body_text=GERMAN)], source="test")
    session.commit()
    return session.scalar(sa.select(Message.id))


def _libre(session, url: str, **kw) -> TranslationProvider:
    row = configuration.configure(session, None, kind="libretranslate", base_url=url, **kw)
    session.commit()
    return row


def test_nothing_pretends_to_translate_without_a_provider(session) -> None:
    with pytest.raises(NotConfigured, match="No translation service is configured") as refused:
        services.translate_draft(session, "Hallo", "de", "en", None)
    assert "docs/translation.md" in str(refused.value)


def test_the_key_is_sealed_and_kept_when_the_field_is_left_empty(session, deepl) -> None:
    configuration.configure(session, None, kind="deepl", base_url=deepl.url, api_key=deepl.key)
    session.commit()
    row = configuration.active(session)
    assert deepl.key not in (row.secrets_sealed or "") and configuration.has_key(row)
    configuration.configure(session, None, kind="deepl", base_url=deepl.url, api_key=None, monthly_char_cap=5000)
    session.commit()
    assert configuration.provider_for(row).settings.api_key == deepl.key
    with pytest.raises(configuration.ConfigInvalid, match="needs an API key"):
        configuration.configure(session, None, kind="deepl", clear_key=True)
    actions = session.scalars(sa.select(AuditEvent.action)).all()
    assert actions.count("translation.configured") == 2
    assert all(deepl.key not in str(e.data) for e in session.scalars(sa.select(AuditEvent)))


def test_one_provider_is_active_at_a_time(session, libre, chat) -> None:
    _libre(session, libre.url)
    configuration.configure(session, None, kind="openai", base_url=chat.url, model="qwen2.5:7b")
    session.commit()
    assert configuration.active(session).kind == "openai"
    assert session.scalar(sa.select(sa.func.count()).where(TranslationProvider.active.is_(True))) == 1
    with pytest.raises(configuration.ConfigInvalid, match="http"):
        configuration.configure(session, None, kind="libretranslate", base_url="ftp://x")
    with pytest.raises(configuration.ConfigInvalid, match="Unknown translation service"):
        configuration.configure(session, None, kind="google")


def test_drafts_are_counted_per_provider_and_month_and_capped(session, libre, make_account) -> None:
    store = make_account(name="shop-de")
    glossary.add_terms(session, None, store, "LampWorks Aurora")
    _libre(session, libre.url, monthly_char_cap=300)
    out = services.translate_draft(session, GERMAN, "de", "en", store.id)
    session.commit()
    assert "123-4567890-1234567" in out.text and "LampWorks Aurora" in out.text and out.text.startswith("Hello")
    first = usage.used(session, "libretranslate")
    assert first == out.characters > 0
    services.translate_draft(session, "Danke", "de", "en", store.id)
    session.commit()
    [month] = usage.this_month(session)
    assert (month.provider, month.characters, month.requests, month.cap) == ("libretranslate", first + 5, 2, 300)
    with pytest.raises(QuotaExceeded, match="allowance is used up"):
        services.translate_draft(session, GERMAN * 3, "de", "en", store.id)
    assert len(libre.requests_to("/translate")) == 2  # refused before anything was sent


def test_a_message_translation_is_cached_per_target_and_provider(session, libre, message_id) -> None:
    _libre(session, libre.url)

    row = services.translate_message(message_id, "en")
    assert row.status == "done" and row.text.startswith("Hello, where is my order 123-4567890-1234567?")
    assert row.source_language == "de" and row.provider == "libretranslate" and row.missing == []
    assert session.get(Message, message_id).body_text == GERMAN  # the original is never replaced
    again = services.translate_message(message_id, "en")
    assert again.id == row.id and len(libre.requests_to("/translate")) == 1
    services.translate_message(message_id, "zh")
    assert session.scalar(sa.select(sa.func.count()).select_from(MessageTranslation)) == 2


def test_rate_limits_are_retried_later_and_refused_keys_fail_with_a_reason(session, libre_keyed, message_id) -> None:
    _libre(session, libre_keyed.url, api_key="lt-key-1")

    libre_keyed.rate_limit_next(retry_after=30)
    row = services.translate_message(message_id, "en")
    assert (row.status, row.attempts, row.error_kind) == ("pending", 1, "rate_limited")
    assert "Too many request" in row.error
    assert translate_message_task(row.id).get() == "done"  # the scheduled retry, run now
    session.expire_all()
    assert session.get(MessageTranslation, row.id).text.startswith("Hello")

    configuration.configure(session, None, kind="libretranslate", base_url=libre_keyed.url, api_key="revoked")
    session.commit()
    services.translate_message(message_id, "ja")
    failed = session.scalar(sa.select(MessageTranslation).where(MessageTranslation.target == "ja"))
    assert (failed.status, failed.error_kind, failed.attempts) == ("failed", "auth", 1)
    assert "API key" in services.explain(failed.error_kind)

    configuration.configure(session, None, kind="libretranslate", base_url=libre_keyed.url, api_key="lt-key-1")
    session.commit()
    retried = services.translate_message(message_id, "ja")  # asked again after the fix: tried again
    assert retried.id == failed.id and retried.status == "done"


def test_an_outage_gives_up_after_the_last_attempt(session, libre, message_id) -> None:
    _libre(session, libre.url)
    libre.server_error_next(path="/translate")
    libre.faults[-1].times = services.MAX_ATTEMPTS
    row = services.translate_message(message_id, "en")
    for _ in range(services.MAX_ATTEMPTS):  # each job is the scheduled retry, run now
        if row.status != "pending":
            break
        translate_message_task(row.id).get()
        session.expire_all()
        row = session.get(MessageTranslation, row.id)
    assert (row.status, row.attempts, row.error_kind) == ("failed", services.MAX_ATTEMPTS, "unreachable")
    assert usage.used(session, "libretranslate") == 0  # nothing was translated, nothing counted


def test_glossary_terms_are_per_store(session, make_account) -> None:
    de, jp = make_account(name="shop-de"), make_account(name="shop-jp")
    assert glossary.add_terms(session, None, de, "LampWorks Aurora\nNordlicht, lampworks aurora") == [
        "LampWorks Aurora",
        "Nordlicht",
    ]
    assert glossary.add_terms(session, None, de, "Nordlicht") == []
    session.commit()
    assert glossary.for_store(session, jp.id) is None
    assert glossary.for_store(session, de.id).terms == ("LampWorks Aurora", "Nordlicht")
    term = glossary.terms(session, de.id)[0]
    assert glossary.remove_term(session, None, jp, term.id) is None
    assert glossary.remove_term(session, None, de, term.id) == "LampWorks Aurora"
    with pytest.raises(glossary.GlossaryInvalid):
        glossary.add_terms(session, None, de, " , ")


def test_a_finished_translation_is_announced_to_the_ticket_and_webhooks(session, libre, message_id) -> None:
    from helpdesk.api.events import PAYLOADS
    from helpdesk.outbox.models import OutboxEvent

    _libre(session, libre.url)
    row = services.translate_message(message_id, "en")
    libre.fail_next(400, path="/translate", body={"error": "xx is not supported"})
    failed = services.translate_message(message_id, "ja")
    events = [
        p
        for e in session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id))
        if e.name == "message.translated"
        for p in e.payloads
    ]
    assert [(e["translation_id"], e["target"], e["status"]) for e in events] == [
        (row.id, "en", "done"),
        (failed.id, "ja", "failed"),
    ]
    message = session.get(Message, message_id)
    assert events[0]["ticket_id"] == message.ticket_id and events[0]["provider"] == "libretranslate"
    for payload in events:
        PAYLOADS["message.translated"].model_validate(payload)
        assert set(payload) <= set(PAYLOADS["message.translated"].model_fields)


def test_a_job_lost_in_a_crash_is_queued_again(session, libre, message_id) -> None:
    from datetime import timedelta

    from helpdesk.db import utcnow
    from helpdesk.translation.tasks import requeue_stranded

    _libre(session, libre.url)
    row, queue = services.request_translation(session, message_id, "en")
    session.commit()  # committed, then the process died before the job was queued
    assert queue and requeue_stranded() == 0  # not overdue yet: its job may still be on its way
    row.next_attempt_at = utcnow() - timedelta(minutes=10)
    session.commit()
    assert services.stranded(session) == [row.id]
    assert requeue_stranded() == 1
    session.expire_all()
    assert session.get(MessageTranslation, row.id).status == "done" and services.stranded(session) == []


def test_the_counter_starts_again_each_month(session, libre) -> None:
    import time_machine

    _libre(session, libre.url, monthly_char_cap=12)
    with time_machine.travel("2026-11-30 23:59:00+00:00", tick=False):
        services.translate_draft(session, "Danke Danke", "de", "en", None)
        session.commit()
        with pytest.raises(QuotaExceeded):
            services.translate_draft(session, "Danke", "de", "en", None)
    with time_machine.travel("2026-12-01 00:00:01+00:00", tick=False):
        assert services.translate_draft(session, "Danke", "de", "en", None).text == "Thanks"
        session.commit()
        assert [(u.provider, u.characters) for u in usage.this_month(session)] == [("libretranslate", 5)]
    assert usage.used(session, "libretranslate", at=usage_month("2026-11")) == 11


def usage_month(month: str):
    from datetime import UTC, datetime

    return datetime.strptime(month + "-15", "%Y-%m-%d").replace(tzinfo=UTC)
