"""Order numbers, tracking numbers, SKUs, amounts, placeholders and glossary terms survive each provider unchanged.

The fakes damage what reaches them unprotected (digits regrouped, words
capitalised, ``{{`` pulled apart), so each test first shows the damage
without masking and then that the masked round trip keeps every span.
"""

from __future__ import annotations

import pytest

from helpdesk.translation.base import Glossary, ProviderSettings
from helpdesk.translation.protect import mask, protected_spans, unmask
from helpdesk.translation.providers.deepl import DeepL
from helpdesk.translation.providers.libretranslate import LibreTranslate
from helpdesk.translation.providers.openai_chat import OpenAIChat
from helpdesk.translation.roundtrip import pieces, translate_protected

PROTECTED = [
    "123-4567890-1234567",  # Amazon order
    "12-34567-89012",  # eBay order
    "1Z999AA10123456784",  # UPS tracking
    "LX123456789CN",  # China Post tracking
    "LAMP-BR-001",  # SKU
    "€12.50",
    "1234,00 EUR",
    "{{ order.number }}",
    "%(name)s",
    "{tracking}",
    "LampWorks Aurora",  # glossary
]
TEXT = (
    "Hallo {{ order.number }}, %(name)s: Ihre Bestellung 123-4567890-1234567 (eBay 12-34567-89012) mit der "
    "Lampe LAMP-BR-001 von LampWorks Aurora kostet €12.50, insgesamt 1234,00 EUR. Sendungsnummer "
    "1Z999AA10123456784 und LX123456789CN, {tracking}. Danke!"
)
GLOSSARY = Glossary("shop-de", ("LampWorks Aurora",))


def _providers(libre, deepl, chat):
    return {
        "libretranslate": LibreTranslate(ProviderSettings(base_url=libre.url)),
        "deepl": DeepL(ProviderSettings(base_url=deepl.url, api_key=deepl.key)),
        "openai": OpenAIChat(ProviderSettings(base_url=chat.url, model="qwen2.5:7b")),
    }


def test_every_kind_of_span_is_found() -> None:
    found = [TEXT[a:b] for a, b in protected_spans(TEXT, GLOSSARY.terms)]
    assert sorted(found) == sorted(PROTECTED)
    assert protected_spans("Ich warte seit 3 Tagen auf 2 Lampen.") == []


@pytest.mark.parametrize("kind", ["libretranslate", "deepl", "openai"])
def test_unprotected_text_is_damaged_by_the_fake(kind, libre, deepl, chat) -> None:
    provider = _providers(libre, deepl, chat)[kind]
    damaged = provider.translate([TEXT], "de", "en")[0].text
    assert "Thanks" in damaged  # it really translates
    survivors = [s for s in PROTECTED if s in damaged]
    assert len(survivors) <= 2, survivors  # (an ID without separators or letters to recase may pass by luck)


@pytest.mark.parametrize("kind", ["libretranslate", "deepl", "openai"])
@pytest.mark.parametrize("source", ["de", None])
def test_protected_spans_survive_the_round_trip(kind, source, libre, deepl, chat) -> None:
    provider = _providers(libre, deepl, chat)[kind]
    out = translate_protected(provider, [TEXT, "Wo ist meine Lampe LAMP-BR-001?"], source, "en", GLOSSARY)
    assert out[0].text.startswith("Hello ") and "Thanks!" in out[0].text and "your order" in out[0].text.lower()
    for span in PROTECTED:
        assert span in out[0].text, (span, out[0].text)
    assert out[1].text == "Where is my lamp LAMP-BR-001?"
    assert out[0].missing == () and out[0].characters > 0


def test_deepl_applies_the_store_glossary_when_the_source_is_known(deepl) -> None:
    provider = DeepL(ProviderSettings(base_url=deepl.url, api_key=deepl.key))
    translate_protected(provider, [TEXT], "de", "en", GLOSSARY)
    body = deepl.requests_to("/v2/translate")[-1].json()
    assert body["glossary_id"] in deepl.glossaries
    assert "LampWorks Aurora" in body["text"][0] and "<k" in body["text"][0]  # the term is DeepL's to keep
    assert deepl.glossaries[body["glossary_id"]]["entries"] == {"LampWorks Aurora": "LampWorks Aurora"}
    translate_protected(provider, [TEXT], "de", "en", GLOSSARY)
    assert len(deepl.requests_to("/v2/glossaries", "POST")) == 1  # reused while the terms are the same
    translate_protected(provider, [TEXT], "de", "en", Glossary("shop-de", ("LampWorks Aurora", "Nordlicht")))
    assert len(deepl.requests_to("/v2/glossaries", "POST")) == 2 and len(deepl.glossaries) == 1  # old one removed


@pytest.mark.parametrize("kind", ["libretranslate", "deepl", "openai"])
def test_a_dropped_token_is_reported_not_hidden(kind, libre, deepl, chat) -> None:
    for fake in (libre, deepl, chat):
        fake.drop_tokens = True
    out = translate_protected(_providers(libre, deepl, chat)[kind], ["Bestellung 123-4567890-1234567"], "de", "en")
    assert out[0].missing == ("123-4567890-1234567",)


def test_xml_masking_escapes_the_rest_and_restores_exactly() -> None:
    text = "a < b & c > d, Bestellung 123-4567890-1234567 <b>"
    masked = mask(text, tags=True)
    assert "&lt;" in masked.text and '<k i="0">123-4567890-1234567</k>' in masked.text
    assert unmask(masked.text, masked) == (text, ())
    sentinel = mask(text)
    assert unmask(sentinel.text.replace("⟦0⟧", "⟦ 0 ⟧"), sentinel) == (text, ())


def test_a_glossary_deleted_at_deepl_is_uploaded_again(deepl) -> None:
    provider = DeepL(ProviderSettings(base_url=deepl.url, api_key=deepl.key))
    translate_protected(provider, ["Die LampWorks Aurora"], "de", "en", GLOSSARY)
    deepl.glossaries.clear()  # removed in DeepL's own dashboard
    out = translate_protected(provider, ["Die LampWorks Aurora"], "de", "en", GLOSSARY)
    assert out[0].text == "The LampWorks Aurora" and len(deepl.glossaries) == 1


def test_long_texts_go_in_pieces_and_keep_their_paragraphs(chat) -> None:
    provider = OpenAIChat(ProviderSettings(base_url=chat.url, model="qwen2.5:7b"))
    paragraph = "Wo ist meine Bestellung 123-4567890-1234567? " * 20  # about 900 characters
    text = f"\n\n{paragraph.strip()}\n\n{paragraph.strip()}\n\n\n{paragraph.strip()}\n"
    [out] = translate_protected(provider, [text], "de", "en")
    assert len(chat.requests_to("/v1/chat/completions")) == 2  # 2,000 characters at most per request
    assert out.text.startswith("\n\nWhere is my order 123-4567890-1234567?") and out.text.endswith("?\n")
    assert out.text.count("\n\n") == 3 and out.text.count("123-4567890-1234567") == 60 and out.missing == ()


def test_blank_texts_are_not_sent(libre) -> None:
    provider = LibreTranslate(ProviderSettings(base_url=libre.url))
    assert [t.text for t in translate_protected(provider, ["  \n", "Danke", ""], "de", "en")] == ["  \n", "Thanks", ""]
    assert libre.requests_to("/translate")[0].json()["q"] == ["Danke"]
    assert translate_protected(provider, [" "], "de", "en")[0].text == " " and len(libre.requests) == 1


def test_pieces_cut_at_the_largest_break_that_fits() -> None:
    assert pieces("short", 10) == ["short"]
    assert pieces("one. two. three.", 10) == ["one. two. ", "three."]
    assert pieces("a\n\nb\nc", 4) == ["a\n\n", "b\nc"]
    assert pieces("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    text = "Satz eins. " * 500
    assert "".join(pieces(text, 300)) == text and max(map(len, pieces(text, 300))) <= 300
