"""LibreTranslate: the self-hosted machine translation server (Argos models), with or without an API key.

Wire format (https://docs.libretranslate.com): ``POST /translate`` with JSON
``{q, source, target, format, api_key?}`` where ``q`` may be a list and
``source`` may be ``auto``; the answer is ``{translatedText,
detectedLanguage?: {confidence, language}}`` (lists for a list ``q``).
``POST /detect`` answers ``[{confidence, language}]`` with confidence in
percent; ``GET /languages`` lists ``[{code, name, targets}]``.  Errors are
``{"error": "..."}`` with 400 (bad request), 403 (key refused), 429 (slow
down) or 500.  Servers disagree on Simplified Chinese ("zh" before 1.7,
"zh-Hans" after), so the code is chosen from the server's own list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from helpdesk.translation.base import Detection, Glossary, Language, Provider, ProviderUnreachable, Translated

_VARIANTS = {"zh": ("zh", "zh-Hans", "zh-CN"), "pt": ("pt", "pt-BR", "pb")}


class LibreTranslate(Provider):
    kind = "libretranslate"
    label = "LibreTranslate"
    default_url = "http://127.0.0.1:5000"

    def _keyed(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.settings.api_key:
            body["api_key"] = self.settings.api_key
        return body

    def _code(self, code: str) -> str:
        """Our ISO code as this server spells it (asked once per provider instance, only where servers differ)."""
        variants = _VARIANTS.get(code)
        if not variants:
            return code
        known = self.settings.state.get("codes")
        if known is None:
            known = [lang.code for lang in self.languages()]
            self.settings.state["codes"] = known
        return next((v for v in variants if v in known), code)

    def translate(
        self, texts: Sequence[str], source: str | None, target: str, *, glossary: Glossary | None = None
    ) -> list[Translated]:
        body = self._keyed(
            {
                "q": list(texts),
                "source": self._code(source) if source else "auto",
                "target": self._code(target),
                "format": "text",
            }
        )
        answer = self.call("POST", "/translate", json=body, what="translation").json()
        out = answer.get("translatedText")
        if isinstance(out, str):  # an older server answers a one-element list with a string
            out = [out]
        detected = answer.get("detectedLanguage")
        if isinstance(detected, dict):
            detected = [detected]
        results = []
        for i, text in enumerate(out or []):
            found = detected[i] if isinstance(detected, list) and i < len(detected) else None
            language = found.get("language") if isinstance(found, dict) else source
            results.append(Translated(text, _ours(language), self.kind))
        if len(results) != len(texts):
            raise ProviderUnreachable(f"LibreTranslate answered {len(results)} translations for {len(texts)} texts.")
        return results

    def detect(self, text: str) -> Detection | None:
        answer = self.call("POST", "/detect", json=self._keyed({"q": text}), what="language detection").json()
        if not answer:
            return None
        best = max(answer, key=lambda d: d.get("confidence", 0))
        return Detection(_ours(best["language"]) or best["language"], float(best.get("confidence", 0)) / 100)

    def languages(self) -> list[Language]:
        answer = self.call("GET", "/languages", what="language list").json()
        return [Language(d["code"], d.get("name", d["code"]), tuple(d.get("targets", ()))) for d in answer]


def _ours(code: str | None) -> str | None:
    """A server's code as ours: "zh-Hans" → "zh", "pb" → "pt"."""
    if not code or code == "auto":
        return None
    if code == "pb":
        return "pt"
    return code.split("-")[0].lower()
