"""Any OpenAI-compatible chat-completions endpoint: Ollama, vLLM, llama.cpp's server, or a hosted model.

Wire format: ``POST {base}/v1/chat/completions`` with an optional
``Authorization: Bearer KEY`` and ``{model, messages, temperature}`` →
``{choices: [{message: {content}}], usage: {prompt_tokens,
completion_tokens}}``; errors are ``{"error": {"message": ...}}`` with 401
(key), 429 (rate), 404 (unknown model on most servers) or 5xx.  The base URL
is the server's root (``http://127.0.0.1:11434`` for Ollama); a URL that
already ends in ``/v1`` is accepted too.

A chat model is asked for the translation only, at temperature 0, one text
per request (batching several texts into one answer invites the model to
merge or skip them).  The prompt tells it to copy the ``⟦n⟧`` tokens as
they are; reasoning models' ``<think>…</think>`` preambles and code fences
around the answer are removed.  Detection asks the model for a code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from babel import Locale, UnknownLocaleError

from helpdesk.translation.base import BadRequest, Detection, Glossary, Language, Provider, Translated

_THINK = re.compile(r"^\s*<think>.*?</think>\s*", re.DOTALL)
_FENCE = re.compile(r"^```[\w-]*\n(.*?)\n```$", re.DOTALL)
_CODE = re.compile(r"\b([a-z]{2})\b")

SYSTEM_PROMPT = (
    "You are a translation engine for a customer-service desk. Translate the user's message {source}into "
    "{target_name} (language code: {target}). Reply with the translation only: no explanations, notes, "
    "quotes or alternatives. Copy every token written like ⟦0⟧ exactly as it is, in the place it belongs. "
    "Keep line breaks."
)
DETECT_PROMPT = "Name the language of the user's message as a two-letter ISO 639-1 code. Reply with the code only."
#: The languages a chat model is offered in the admin's list (any model can be asked for others).
COMMON = ("ar", "de", "en", "es", "fr", "id", "it", "ja", "ko", "nl", "pl", "pt", "ru", "sv", "th", "tr", "vi", "zh")


def language_name(code: str) -> str:
    """The English name of a language, which a model understands better than a code."""
    try:
        return Locale.parse(code.replace("-", "_")).get_display_name("en") or code
    except (ValueError, UnknownLocaleError):
        return code


def clean_answer(content: str) -> str:
    """The translation out of what a chat model said (no reasoning preamble, no code fence)."""
    text = _THINK.sub("", content).strip()
    fenced = _FENCE.match(text)
    return fenced.group(1) if fenced else text


class OpenAIChat(Provider):
    kind = "openai"
    label = "OpenAI-compatible endpoint"
    needs_model = True
    max_chars = 2000  # a small local model keeps to the text better a few paragraphs at a time
    default_url = "http://127.0.0.1:11434"

    def _path(self) -> str:
        return "/chat/completions" if self.base_url().endswith("/v1") else "/v1/chat/completions"

    def _ask(self, system: str, user: str, what: str) -> str:
        if not self.settings.model:
            raise BadRequest("No model is configured for the OpenAI-compatible endpoint; enter one (e.g. qwen2.5:7b).")
        headers = {"Authorization": f"Bearer {self.settings.api_key}"} if self.settings.api_key else {}
        body: dict[str, Any] = {
            "model": self.settings.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "temperature": 0,
        }
        answer = self.call("POST", self._path(), json=body, headers=headers, what=what).json()
        try:
            return str(answer["choices"][0]["message"]["content"] or "")
        except (KeyError, IndexError, TypeError):
            raise BadRequest(f"The endpoint's answer has no message: {str(answer)[:200]}") from None

    def translate(
        self, texts: Sequence[str], source: str | None, target: str, *, glossary: Glossary | None = None
    ) -> list[Translated]:
        given = f"from {language_name(source)} " if source else ""
        system = SYSTEM_PROMPT.format(source=given, target_name=language_name(target), target=target)
        return [
            Translated(
                clean_answer(self._ask(system, text, "translation")) if text.strip() else text, source, self.kind
            )
            for text in texts
        ]

    def detect(self, text: str) -> Detection | None:
        said = clean_answer(self._ask(DETECT_PROMPT, text[:500], "language detection")).lower()
        found = _CODE.search(said)
        return Detection(found.group(1), 0.5) if found else None

    def languages(self) -> list[Language]:
        return [Language(code, language_name(code)) for code in COMMON]
