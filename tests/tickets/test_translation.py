"""Translation on the ticket page, on SQLite and PostgreSQL, against the loopback LibreTranslate fake.

A Chinese-UI agent reads a German buyer message in Chinese, writes in
Chinese and sends the (edited) German translation; the ticket keeps both.
Store visibility, the "no service" notice, an unreachable service, search
by the translation's words, machine-translated macros and the team's
automatic translation are covered too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk.db import utcnow
from helpdesk.inbox.queries import visibility
from helpdesk.inbox.search import search_ticket_ids
from helpdesk.tickets.models import Message
from helpdesk.translation import configuration
from helpdesk.translation.fake import FakeLibreTranslate
from helpdesk.translation.models import MessageTranslation, TranslationStatus
from tests.tickets.test_reply import OutboxConnector, outbox_ticket  # noqa: F401 - fixture
from tests.web import csrf_token, login, post

GERMAN = "Hallo, wo ist meine Bestellung? Die Lampe ist kaputt."


@pytest.fixture(autouse=True)
def _nothing_sent_yet() -> None:
    OutboxConnector.sent = []
    OutboxConnector.FAILURES = []


@pytest.fixture
def libre() -> Iterator[FakeLibreTranslate]:
    with FakeLibreTranslate(chinese_code="zh") as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def configured(session: Any, libre: FakeLibreTranslate) -> FakeLibreTranslate:
    configuration.configure(session, None, kind="libretranslate", base_url=libre.url)
    session.commit()
    return libre


@pytest.fixture
def chinese_agent(session: Any, world: Any) -> Any:
    world.eu.locale = "zh_Hans"
    session.commit()
    return world.eu


@pytest.fixture
def german_ticket(world: Any, make_ticket: Any) -> Any:
    world.de.kind = "test-outbox"
    return make_ticket(body_text=GERMAN, language="de")


def _buyer_message(session: Any, ticket: Any) -> Message:
    return session.scalar(sa.select(Message).where(Message.ticket_id == ticket.id, Message.direction == "in"))


def _translate(client: Any, ticket: Any, message_id: int) -> Any:
    page = f"/tickets/{ticket.id}"
    return post(client, f"{page}/messages/{message_id}/translate", {}, page)


def test_a_buyer_message_is_translated_under_the_original(
    client: Any, session: Any, chinese_agent: Any, german_ticket: Any, configured: Any
) -> None:
    login(client, chinese_agent)
    page = client.get(f"/tickets/{german_ticket.id}").get_data(as_text=True)
    assert "translate-button" in page
    message = _buyer_message(session, german_ticket)

    answer = _translate(client, german_ticket, message.id)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["status"] == TranslationStatus.DONE
    assert "订单" in answer.json["text"] and answer.json["source"] == "de"

    page = client.get(f"/tickets/{german_ticket.id}").get_data(as_text=True)
    assert GERMAN in page, "the original must stay on the page"
    assert answer.json["text"] in page
    assert "LibreTranslate" in page
    fragment = client.get(f"/tickets/{german_ticket.id}/messages/{message.id}").get_data(as_text=True)
    assert answer.json["text"] in fragment and GERMAN in fragment

    # inbox search finds the ticket by a word of its translation, and still by the original's
    visible = visibility(chinese_agent, None)
    assert search_ticket_ids(session, "订单", visible) == [german_ticket.id]
    assert search_ticket_ids(session, "Bestellung", visible) == [german_ticket.id]
    assert client.get("/?q=订单").status_code == 200


def test_a_message_in_the_agents_own_language_offers_nothing(
    client: Any, session: Any, world: Any, make_ticket: Any, configured: Any
) -> None:
    ticket = make_ticket(body_text="Where is my order? It has not arrived yet.", language="en")
    login(client, world.eu)
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "translate-button" not in page


def test_another_stores_message_is_404_and_strangers_sign_in(
    client: Any, session: Any, world: Any, german_ticket: Any, configured: Any
) -> None:
    message = _buyer_message(session, german_ticket)
    token = csrf_token(client, "/login")
    stranger = client.post(f"/tickets/{german_ticket.id}/messages/{message.id}/translate", data={"csrf_token": token})
    assert stranger.status_code == 302 and "/login" in stranger.headers["Location"]

    login(client, world.asia_agent)  # serves the Japanese store only
    page = f"/tickets/{german_ticket.id}"
    token = csrf_token(client, "/")
    for path in (f"{page}/messages/{message.id}/translate", f"{page}/draft/translate"):
        assert client.post(path, data={"csrf_token": token, "text": "你好"}).status_code == 404
    assert session.scalar(sa.select(sa.func.count()).select_from(MessageTranslation)) == 0

    login(client, world.eu)
    no_csrf = client.post(f"{page}/messages/{message.id}/translate")
    assert no_csrf.status_code == 400
    assert _translate(client, german_ticket, 999_999).status_code == 404


def test_without_a_service_the_page_says_so_and_links_the_guide(
    client: Any, session: Any, chinese_agent: Any, german_ticket: Any
) -> None:
    login(client, chinese_agent)
    page = client.get(f"/tickets/{german_ticket.id}").get_data(as_text=True)
    assert "/translation/guide" in page
    message = _buyer_message(session, german_ticket)
    answer = _translate(client, german_ticket, message.id)
    assert answer.status_code == 409
    assert answer.json["help_url"].endswith("/translation/guide")
    assert client.get("/translation/guide").status_code == 200


def test_a_draft_is_translated_edited_and_sent_and_the_ticket_keeps_both(
    client: Any, session: Any, chinese_agent: Any, german_ticket: Any, configured: Any
) -> None:
    login(client, chinese_agent)
    page = f"/tickets/{german_ticket.id}"
    answer = post(client, f"{page}/draft/translate", {"text": "您好，您的订单今天已发货。"}, page)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["target"] == "de" and "Bestellung" in answer.json["text"]

    edited = answer.json["text"].strip() + " Viele Grüße"
    sent = post(
        client,
        f"{page}/reply",
        {"body": "您好，您的订单今天已发货。", "translation": edited, "translation_target": "de"},
        page,
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)
    session.expire_all()
    out = session.scalar(sa.select(Message).where(Message.ticket_id == german_ticket.id, Message.direction == "out"))
    assert out.body_text == edited
    assert out.meta["written_text"] == "您好，您的订单今天已发货。"
    assert OutboxConnector.sent[-1].body_text == edited
    assert "您好" not in OutboxConnector.sent[-1].body_text

    shown = client.get(page).get_data(as_text=True)
    assert edited in shown and "您好，您的订单今天已发货。" in shown


def test_the_platform_policy_is_checked_on_the_translation_that_leaves(
    client: Any, session: Any, chinese_agent: Any, german_ticket: Any, configured: Any
) -> None:
    login(client, chinese_agent)
    page = f"/tickets/{german_ticket.id}"
    german_ticket.platform = "amazon"
    session.commit()
    refused = post(
        client,
        f"{page}/reply",
        {"body": "请给我发邮件", "translation": "Schreiben Sie mir an jonas@example.com", "translation_target": "de"},
        page,
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "jonas@example.com" in html and "请给我发邮件" in html, "draft and translation are both kept"
    assert OutboxConnector.sent == []


def test_an_unreachable_service_keeps_the_draft_and_says_what_to_do(
    client: Any, session: Any, chinese_agent: Any, german_ticket: Any, libre: FakeLibreTranslate
) -> None:
    configuration.configure(session, None, kind="libretranslate", base_url="http://127.0.0.1:9")
    session.commit()
    login(client, chinese_agent)
    page = f"/tickets/{german_ticket.id}"
    answer = post(client, f"{page}/draft/translate", {"text": "您好"}, page)
    assert answer.status_code == 503
    assert answer.json["kind"] == "unreachable" and answer.json["error"]
    empty = post(client, f"{page}/draft/translate", {"text": "  "}, page)
    assert empty.status_code == 422 and empty.json["error"]
    too_long = post(client, f"{page}/draft/translate", {"text": "x" * 20_001}, page)
    assert too_long.status_code == 422 and "20000" in too_long.json["error"].replace(",", "")


def test_a_macro_missing_the_buyers_locale_is_machine_translated(
    client: Any, session: Any, chinese_agent: Any, make_ticket: Any, configured: Any
) -> None:
    from helpdesk.macros import services as macro_services

    # a Swedish buyer on the German store: no macro has Swedish, the German variant is the nearest
    ticket = make_ticket(body_text="Hej, var är min beställning? Den har inte kommit än.", language="sv")
    key = next(iter(macro_services.library(session)))
    configured.codes.append("sv")  # a LibreTranslate with the Swedish model installed
    login(client, chinese_agent)
    page = f"/tickets/{ticket.id}"
    preview = client.get(f"{page}/macros/{key}").json
    assert preview["wanted"] == "sv" and preview["translate_url"] and preview["translate_label"]
    answer = post(client, preview["translate_url"], {}, page)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["machine_translated"] is True and answer.json["from_locale"] == preview["locale"]
    assert answer.json["text"] and answer.json["note"]

    chosen = client.get(f"{page}/macros/{key}?locale={preview['locale']}").json
    assert chosen["translate_url"] is None, "a locale the agent picked is taken as meant"


def test_a_team_turns_on_automatic_translation_and_new_messages_arrive_translated(
    app: Any, client: Any, session: Any, world: Any, make_message: Any, configured: Any
) -> None:
    from helpdesk.ingest.pipeline import ingest
    from helpdesk.outbox.relay import Relay

    login(client, world.eu)
    assert post(client, f"/teams/{world.europe.id}/auto-translate", {"language": "zh"}).status_code == 404
    login(client, world.lead)
    assert client.get(f"/admin/teams/{world.europe.id}").status_code == 200
    saved = post(
        client, f"/teams/{world.europe.id}/auto-translate", {"language": "zh"}, f"/admin/teams/{world.europe.id}"
    )
    assert saved.status_code == 302
    bad = post(
        client, f"/teams/{world.europe.id}/auto-translate", {"language": "xx"}, f"/admin/teams/{world.europe.id}"
    )
    assert bad.status_code == 302
    session.expire_all()
    assert world.europe.auto_translate_to == "zh"

    ingest(session, [make_message(body_text=GERMAN, sent_at=utcnow(), external_id="new-1")], source="test")
    session.commit()
    Relay(app).run_once()
    session.expire_all()
    row = session.scalar(sa.select(MessageTranslation))
    assert row is not None and row.target == "zh" and row.status == TranslationStatus.DONE
    assert "订单" in (row.text or "")


def test_the_cli_twin_sets_and_clears_the_team_setting(app: Any, session: Any, world: Any) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["helpdesk", "teams", "auto-translate", "Europe", "--to", "zh"])
    assert result.exit_code == 0, result.output
    assert "translated into zh" in result.output
    result = runner.invoke(args=["helpdesk", "teams", "auto-translate", "Europe", "--to", "klingon"])
    assert result.exit_code != 0 and "Choose one of these languages" in result.output
    result = runner.invoke(args=["helpdesk", "teams", "auto-translate", "Europe", "--to", "off"])
    assert result.exit_code == 0 and "off" in result.output
    session.expire_all()
    assert world.europe.auto_translate_to is None


def test_a_pending_translation_shows_progress_and_a_failed_one_says_why(
    client: Any, session: Any, world: Any, german_ticket: Any, configured: Any
) -> None:
    message = _buyer_message(session, german_ticket)
    row = MessageTranslation(message_id=message.id, target="en", provider="libretranslate", missing=[])
    session.add(row)
    session.commit()
    login(client, world.eu)
    fragment = client.get(f"/tickets/{german_ticket.id}/messages/{message.id}").get_data(as_text=True)
    assert 'data-status="pending"' in fragment and "Translating into English with LibreTranslate" in fragment

    row.status, row.error_kind, row.error = TranslationStatus.FAILED, "auth", "LibreTranslate refused the API key"
    session.commit()
    fragment = client.get(f"/tickets/{german_ticket.id}/messages/{message.id}").get_data(as_text=True)
    assert "refused its API key" in fragment and "Try again" in fragment
    again = _translate(client, german_ticket, message.id)  # the admin fixed the key: asking again starts over
    assert again.status_code == 200 and again.json["status"] == TranslationStatus.DONE
    assert again.json["text"] and "Bestellung" not in again.json["text"]
