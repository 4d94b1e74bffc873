"""Provider kind → class: the one place that lists the translation services (adding one is a line here)."""

from __future__ import annotations

from helpdesk.translation.base import Provider, ProviderSettings
from helpdesk.translation.providers.deepl import DeepL
from helpdesk.translation.providers.libretranslate import LibreTranslate
from helpdesk.translation.providers.openai_chat import OpenAIChat

PROVIDERS: dict[str, type[Provider]] = {
    LibreTranslate.kind: LibreTranslate,
    DeepL.kind: DeepL,
    OpenAIChat.kind: OpenAIChat,
}


def build(kind: str, settings: ProviderSettings) -> Provider:
    """A provider of ``kind``; KeyError for a kind no module provides."""
    return PROVIDERS[kind](settings)
