"""Each provider against a loopback fake of its documented API: envelopes, keys, errors, timeouts, rate limits."""

from __future__ import annotations

import pytest

from helpdesk.translation.base import (
    AuthRefused,
    BadRequest,
    ProviderSettings,
    ProviderUnreachable,
    QuotaExceeded,
    RateLimited,
)
from helpdesk.translation.providers.deepl import FREE_HOST, PRO_HOST, DeepL, host_for_key
from helpdesk.translation.providers.libretranslate import LibreTranslate
from helpdesk.translation.providers.openai_chat import OpenAIChat, clean_answer

GERMAN = "Hallo, wo ist meine Bestellung? Das Paket ist noch nicht angekommen."


# --- LibreTranslate ------------------------------------------------------------------------------------


def test_libretranslate_translates_a_batch_and_names_the_detected_language(libre) -> None:
    provider = LibreTranslate(ProviderSettings(base_url=libre.url))
    out = provider.translate([GERMAN, "Danke!"], None, "en")
    assert [t.text for t in out] == [
        "Hello, where is my order? The parcel is still not arrived.",
        "Thanks!",
    ]
    assert {t.source for t in out} == {"de"} and {t.provider for t in out} == {"libretranslate"}
    sent = libre.requests_to("/translate")[0].json()
    assert sent["source"] == "auto" and sent["format"] == "text" and sent["q"] == [GERMAN, "Danke!"]
    assert "api_key" not in sent


def test_libretranslate_spells_chinese_as_the_server_does(libre, libre_keyed) -> None:
    LibreTranslate(ProviderSettings(base_url=libre.url)).translate(["Danke"], "de", "zh")
    assert libre.requests_to("/translate")[0].json()["target"] == "zh-Hans"
    LibreTranslate(ProviderSettings(base_url=libre_keyed.url, api_key="lt-key-1")).translate(["Danke"], "de", "zh")
    assert libre_keyed.requests_to("/translate")[0].json()["target"] == "zh"


def test_libretranslate_with_an_api_key(libre_keyed) -> None:
    with pytest.raises(AuthRefused, match="Invalid API key"):
        LibreTranslate(ProviderSettings(base_url=libre_keyed.url)).translate(["Danke"], "de", "en")
    keyed = LibreTranslate(ProviderSettings(base_url=libre_keyed.url, api_key="lt-key-1"))
    assert keyed.translate(["Danke"], "de", "en")[0].text == "Thanks"
    assert libre_keyed.requests_to("/translate")[-1].json()["api_key"] == "lt-key-1"
    assert keyed.detect(GERMAN).language == "de"
    with pytest.raises(AuthRefused):
        LibreTranslate(ProviderSettings(base_url=libre_keyed.url, api_key="wrong")).detect(GERMAN)


def test_libretranslate_detect_and_languages(libre) -> None:
    provider = LibreTranslate(ProviderSettings(base_url=libre.url))
    found = provider.detect(GERMAN)
    assert found is not None and found.language == "de" and 0 < found.confidence <= 1
    codes = {lang.code for lang in provider.languages()}
    assert {"en", "de", "zh-Hans"} <= codes


def test_libretranslate_errors_are_typed(libre) -> None:
    provider = LibreTranslate(ProviderSettings(base_url=libre.url))
    with pytest.raises(BadRequest, match="xx is not supported"):
        provider.translate(["Danke"], "de", "xx")
    libre.rate_limit_next(retry_after=7)
    with pytest.raises(RateLimited) as limited:
        provider.translate(["Danke"], "de", "en")
    assert limited.value.retry_after_s == 7 and limited.value.retryable
    libre.server_error_next()
    with pytest.raises(ProviderUnreachable, match="500"):
        provider.translate(["Danke"], "de", "en")


def test_an_unreachable_or_slow_server_is_reported_as_such(libre) -> None:
    slow = LibreTranslate(ProviderSettings(base_url=libre.url, timeout_s=0.2))
    libre.slow_next(1.0)
    with pytest.raises(ProviderUnreachable, match="did not answer"):
        slow.translate(["Danke"], "de", "en")
    url = libre.url
    libre.stop()
    with pytest.raises(ProviderUnreachable, match="Check that it is running"):
        LibreTranslate(ProviderSettings(base_url=url)).translate(["Danke"], "de", "en")


# --- DeepL ---------------------------------------------------------------------------------------------


def test_deepl_host_follows_the_key() -> None:
    assert host_for_key("abc:fx") == FREE_HOST
    assert host_for_key("abc") == PRO_HOST
    assert DeepL(ProviderSettings(api_key="k:fx")).base_url() == FREE_HOST
    assert DeepL(ProviderSettings(api_key="k")).base_url() == PRO_HOST


def test_deepl_translates_with_its_auth_header_and_variant_codes(deepl) -> None:
    provider = DeepL(ProviderSettings(base_url=deepl.url, api_key=deepl.key))
    out = provider.translate([GERMAN], None, "en")
    assert out[0].text.startswith("Hello, where is my order?") and out[0].source == "de"
    request = deepl.requests_to("/v2/translate")[0]
    assert request.headers["authorization"] == f"DeepL-Auth-Key {deepl.key}"
    body = request.json()
    assert body["target_lang"] == "EN-US" and body["tag_handling"] == "xml" and body["ignore_tags"] == ["k"]
    assert "source_lang" not in body
    provider.translate(["Danke"], "de", "zh")
    body = deepl.requests_to("/v2/translate")[-1].json()
    assert (body["target_lang"], body["source_lang"]) == ("ZH-HANS", "DE")


def test_deepl_refuses_a_wrong_key_and_reports_its_quota(deepl) -> None:
    with pytest.raises(AuthRefused, match="Wrong auth key"):
        DeepL(ProviderSettings(base_url=deepl.url, api_key="nope:fx")).translate(["Danke"], "de", "en")
    provider = DeepL(ProviderSettings(base_url=deepl.url, api_key=deepl.key))
    deepl.character_limit = deepl.characters + 10
    with pytest.raises(QuotaExceeded, match="quota"):
        provider.translate(["Das ist ein langer Text über eine Lampe."], "de", "en")
    assert provider.usage() == (deepl.characters, deepl.character_limit)
    deepl.rate_limit_next(retry_after=3)
    with pytest.raises(RateLimited) as limited:
        provider.translate(["Danke"], "de", "en")
    assert limited.value.retry_after_s == 3


def test_deepl_detects_through_a_short_translation_and_lists_languages(deepl) -> None:
    provider = DeepL(ProviderSettings(base_url=deepl.url, api_key=deepl.key))
    assert provider.detect(GERMAN * 10).language == "de"
    assert len(deepl.requests_to("/v2/translate")[0].json()["text"][0]) == 200
    assert {"de", "en-us", "zh-hans"} <= {lang.code for lang in provider.languages()}


# --- OpenAI-compatible --------------------------------------------------------------------------------


def test_chat_completions_are_asked_for_a_translation_only(chat) -> None:
    provider = OpenAIChat(ProviderSettings(base_url=chat.url, model="qwen2.5:7b"))
    out = provider.translate([GERMAN], "de", "en")
    assert out[0].text == "Hello, where is my order? The parcel is still not arrived."
    body = chat.requests_to("/v1/chat/completions")[0].json()
    assert body["model"] == "qwen2.5:7b" and body["temperature"] == 0
    system = body["messages"][0]["content"]
    assert "translation only" in system and "from German into English" in system and "⟦0⟧" in system
    assert "authorization" not in chat.requests_to("/v1/chat/completions")[0].headers


def test_chat_completions_base_url_may_end_in_v1_and_keys_are_bearer(chat) -> None:
    chat.api_key = "sk-local"
    with pytest.raises(AuthRefused, match="Incorrect API key"):
        OpenAIChat(ProviderSettings(base_url=chat.url, model="qwen2.5:7b")).translate(["Danke"], "de", "en")
    keyed = OpenAIChat(ProviderSettings(base_url=chat.url + "/v1", api_key="sk-local", model="qwen2.5:7b"))
    assert keyed.translate(["Danke"], "de", "en")[0].text == "Thanks"
    assert chat.requests_to("/v1/chat/completions")[-1].headers["authorization"] == "Bearer sk-local"


def test_chat_completions_errors(chat) -> None:
    with pytest.raises(BadRequest, match="not found"):
        OpenAIChat(ProviderSettings(base_url=chat.url, model="llama9")).translate(["Danke"], "de", "en")
    with pytest.raises(BadRequest, match="No model"):
        OpenAIChat(ProviderSettings(base_url=chat.url)).translate(["Danke"], "de", "en")
    provider = OpenAIChat(ProviderSettings(base_url=chat.url, model="qwen2.5:7b"))
    chat.rate_limit_next(retry_after=4)
    with pytest.raises(RateLimited, match="Rate limit reached") as limited:
        provider.translate(["Danke"], "de", "en")
    assert limited.value.retry_after_s == 4


def test_a_reasoning_models_preamble_is_removed(chat) -> None:
    chat.think = True
    provider = OpenAIChat(ProviderSettings(base_url=chat.url, model="qwen2.5:7b"))
    assert provider.translate(["Danke"], "de", "en")[0].text == "Thanks"
    assert provider.detect(GERMAN).language == "de"
    assert clean_answer("```\nHallo\n```") == "Hallo"
