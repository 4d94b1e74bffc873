"""Administration → Translation and its command-line twin: admins only, the key never shown back, plain diagnoses."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk.audit.models import AuditEvent
from helpdesk.translation import configuration, glossary
from helpdesk.translation.models import GlossaryTerm, TranslationProvider
from tests.test_cli import run
from tests.web import compiled_translations, fresh_globals_per_request, login, post, world

__all__ = ["compiled_translations", "fresh_globals_per_request", "world"]
PAGE = "/admin/translation/"


@pytest.fixture
def admin(make_user: Any) -> Any:
    return make_user("admin@example.test", name="Ada", role="admin")


def test_agents_and_leads_get_404(client: Any, session: Any, world: Any) -> None:
    for who in (world.eu, world.lead):
        login(client, who)
        for path in (PAGE, PAGE + "guide"):
            assert client.get(path).status_code == 404, (who.email, path)
        for path in (PAGE, PAGE + "test", PAGE + "off", f"{PAGE}glossary/{world.de.id}"):
            assert post(client, path, {"kind": "libretranslate", "terms": "X"}).status_code == 404, (who.email, path)
        post(client, "/logout", {})
    assert client.get(PAGE).status_code == 302  # strangers are sent to sign in
    assert session.scalar(sa.select(sa.func.count()).select_from(TranslationProvider)) == 0


def test_without_a_provider_the_page_says_so_and_links_the_guide(client: Any, admin: Any, world: Any) -> None:
    login(client, admin)
    html = client.get(PAGE).get_data(as_text=True)
    assert "No translation service is configured." in html and 'href="/admin/translation/guide"' in html
    guide = client.get(PAGE + "guide").get_data(as_text=True)
    assert "docker run" in guide and "libretranslate/libretranslate" in guide
    assert "/admin/translation/" in client.get("/admin/").get_data(as_text=True)


def test_an_admin_configures_deepl_tests_it_and_never_sees_the_key_again(
    client: Any, session: Any, admin: Any, world: Any, deepl: Any
) -> None:
    login(client, admin)
    refused = post(client, PAGE, {"kind": "deepl", "base_url": deepl.url, "cap": "many"}, PAGE)
    assert refused.status_code == 422 and "positive number" in refused.get_data(as_text=True)
    no_key = post(client, PAGE, {"kind": "deepl", "base_url": deepl.url}, PAGE)
    assert no_key.status_code == 422 and "needs an API key" in no_key.get_data(as_text=True)

    saved = post(
        client,
        PAGE,
        {"kind": "deepl", "base_url": deepl.url, "api_key": deepl.key, "cap": "100,000", "activate": "1"},
        PAGE,
    )
    assert saved.status_code == 302
    html = client.get(PAGE + "?kind=deepl").get_data(as_text=True)
    assert deepl.key not in html and "set; leave empty to keep it" in html
    assert "Translations go to DeepL." in html

    tested = post(client, PAGE + "test", {"kind": "deepl"}, PAGE)
    assert tested.status_code == 302
    html = client.get(PAGE).get_data(as_text=True)
    assert "Connected: DeepL translated a test sentence." in html and "characters used this period" in html
    assert "100,000" in html and "18" in html  # the test sentence was counted

    deepl.key = "rotated:fx"  # the account's key was replaced at DeepL
    post(client, PAGE + "test", {"kind": "deepl"}, PAGE)
    html = client.get(PAGE).get_data(as_text=True)
    assert "refused its API key" in html
    row = session.scalar(sa.select(TranslationProvider))
    assert row.last_check_ok is False and row.monthly_char_cap == 100_000
    assert all(
        "rotated" not in str(e.data) and "0c3f" not in str(e.data) for e in session.scalars(sa.select(AuditEvent))
    )


def test_an_unreachable_server_is_diagnosed_plainly(
    client: Any, session: Any, admin: Any, world: Any, libre: Any
) -> None:
    login(client, admin)
    url = libre.url
    libre.stop()
    post(client, PAGE, {"kind": "libretranslate", "base_url": url, "activate": "1"}, PAGE)
    post(client, PAGE + "test", {}, PAGE)
    html = client.get(PAGE).get_data(as_text=True)
    assert "did not answer" in html and "Check that it is running" in html
    post(client, PAGE + "off", {}, PAGE)
    assert "No translation service is configured." in client.get(PAGE).get_data(as_text=True)
    post(client, PAGE, {"kind": "libretranslate", "base_url": url, "activate": "1"}, PAGE)
    assert configuration.active(session).kind == "libretranslate"
    post(client, PAGE, {"kind": "libretranslate", "base_url": url}, PAGE)  # "send translations here" unticked
    session.expire_all()
    assert configuration.active(session) is None


def test_the_glossary_editor(client: Any, session: Any, admin: Any, world: Any) -> None:
    login(client, admin)
    post(client, f"{PAGE}glossary/{world.de.id}", {"terms": "LampWorks Aurora\nNordlicht"}, PAGE)
    html = client.get(f"{PAGE}?store={world.de.id}").get_data(as_text=True)
    assert "LampWorks Aurora" in html and "Nordlicht" in html
    assert "LampWorks" not in client.get(f"{PAGE}?store={world.jp.id}").get_data(as_text=True)
    term = session.scalar(sa.select(GlossaryTerm).where(GlossaryTerm.term == "Nordlicht"))
    assert post(client, f"{PAGE}glossary/{world.jp.id}/{term.id}/delete", {}, PAGE).status_code == 404
    assert post(client, f"{PAGE}glossary/{world.de.id}/{term.id}/delete", {}, PAGE).status_code == 302
    assert [t.term for t in glossary.terms(session, world.de.id)] == ["LampWorks Aurora"]
    assert post(client, f"{PAGE}glossary/999999", {"terms": "x"}, PAGE).status_code == 404


def test_chinese_admins_read_the_page_in_chinese(
    client: Any, session: Any, make_user: Any, world: Any, compiled_translations: Any
) -> None:
    li = make_user("li@example.test", name="Li", role="admin", locale="zh_Hans")
    login(client, li)
    html = client.get(PAGE).get_data(as_text=True)
    assert "未配置翻译服务" in html


def test_the_command_line_twin(app: Any, session: Any, world: Any, libre_keyed: Any) -> None:
    none = run(app, "translation", "test")
    assert none.exit_code != 0 and "No active translation provider" in none.output
    missing = run(app, "translation", "configure", "--provider", "libretranslate", "--key-env", "NOPE")
    assert missing.exit_code != 0 and "NOPE is not set" in missing.output
    configured = run(
        app,
        *("translation", "configure", "--provider", "libretranslate", "--url", libre_keyed.url),
        *("--key-env", "LT_KEY", "--cap", "50000"),
        env={"LT_KEY": "lt-key-1"},
    )
    assert configured.exit_code == 0, configured.output
    assert "libretranslate: active; key set." in configured.output
    tested = run(app, "translation", "test")
    assert tested.exit_code == 0 and tested.output.startswith("OK Connected")

    assert run(app, "translation", "glossary", "add", "shop-de", "LampWorks Aurora").exit_code == 0
    assert run(app, "translation", "glossary", "list", "shop-de").output.strip() == "LampWorks Aurora"
    said = run(
        app, "translation", "translate", "--to", "en", "--store", "shop-de", "Die LampWorks Aurora kostet €12.50"
    )
    assert said.exit_code == 0 and said.output.strip() == "The LampWorks Aurora costs €12.50", said.output
    report = run(app, "translation", "usage")
    assert "libretranslate" in report.output and "of 50,000" in report.output
    assert run(app, "translation", "glossary", "remove", "shop-de", "lampworks aurora").exit_code == 0
    assert run(app, "translation", "glossary", "add", "nowhere", "X").exit_code != 0

    session.expire_all()
    assert "lt-key-1" not in (configuration.active(session).secrets_sealed or "")
    assert run(app, "translation", "off").output.startswith("Translation is off")
    assert configuration.active(session) is None
