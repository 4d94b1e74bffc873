"""DeepL API (Free and Pro), with tag handling for protected spans and glossaries for brand names.

Wire format (https://developers.deepl.com/docs): ``POST /v2/translate`` with
``Authorization: DeepL-Auth-Key KEY`` and JSON ``{text: [...], target_lang,
source_lang?, tag_handling?, ignore_tags?, glossary_id?}`` →
``{translations: [{detected_source_language, text}]}``; ``GET /v2/usage`` →
``{character_count, character_limit}``; ``GET /v2/languages?type=target``;
glossaries ``POST /v2/glossaries`` ``{name, source_lang, target_lang,
entries, entries_format: "tsv"}`` → ``{glossary_id, ...}``.  Keys of the
free plan end in ``:fx`` and only work on ``api-free.deepl.com``.  Errors:
403 key refused, 429 too many requests, **456 quota exceeded**, 5xx.

Protected spans travel as ``<k>`` elements with ``tag_handling=xml`` and
``ignore_tags=k``, so DeepL neither translates nor moves their content
apart.  A store's glossary becomes a DeepL glossary (each term mapped to
itself) when the source language is known (DeepL glossaries are per
language pair); its id is kept in the provider's state and replaced when the
terms change.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from typing import Any

from helpdesk.translation.base import (
    BadRequest,
    Detection,
    Glossary,
    Language,
    Provider,
    ProviderUnreachable,
    Translated,
    TranslationError,
)
from helpdesk.translation.protect import TAG

FREE_HOST = "https://api-free.deepl.com"
PRO_HOST = "https://api.deepl.com"
#: Our code → DeepL's target code where DeepL wants a variant.
_TARGETS = {"en": "EN-US", "pt": "PT-BR", "zh": "ZH-HANS"}
#: How much of a text is sent to learn its language (DeepL has no detection call: it is a translation).
DETECT_SAMPLE = 200


def host_for_key(key: str) -> str:
    """The API host a key works on: keys of the free plan end in ``:fx``."""
    return FREE_HOST if key.strip().endswith(":fx") else PRO_HOST


def target_code(code: str) -> str:
    return _TARGETS.get(code.lower(), code.upper())


class DeepL(Provider):
    kind = "deepl"
    label = "DeepL"
    handles_tags = True
    needs_key = True

    def base_url(self) -> str:
        return (self.settings.base_url or host_for_key(self.settings.api_key)).rstrip("/")

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"DeepL-Auth-Key {self.settings.api_key}"}

    def applies_glossary(self, source: str | None, target: str) -> bool:
        return bool(source) and source != target

    def translate(
        self, texts: Sequence[str], source: str | None, target: str, *, glossary: Glossary | None = None
    ) -> list[Translated]:
        body: dict[str, Any] = {
            "text": list(texts),
            "target_lang": target_code(target),
            "tag_handling": "xml",
            "ignore_tags": [TAG],
        }
        if source:
            body["source_lang"] = source.upper()
        if glossary and glossary.terms and source and self.applies_glossary(source, target):
            body["glossary_id"] = self._glossary_id(glossary, source, target)
        try:
            answer = self.call("POST", "/v2/translate", json=body, headers=self._auth(), what="translation").json()
        except BadRequest:
            if "glossary_id" not in body or not source or glossary is None:
                raise
            # the glossary was deleted at DeepL (by hand, or the account changed): upload it again, once
            self.settings.state.get("glossaries", {}).pop(self._glossary_key(glossary, source, target), None)
            body["glossary_id"] = self._glossary_id(glossary, source, target)
            answer = self.call("POST", "/v2/translate", json=body, headers=self._auth(), what="translation").json()
        rows = answer.get("translations") or []
        if len(rows) != len(texts):
            raise ProviderUnreachable(f"DeepL answered {len(rows)} translations for {len(texts)} texts.")
        return [
            Translated(row["text"], (row.get("detected_source_language") or source or "").lower() or None, self.kind)
            for row in rows
        ]

    @staticmethod
    def _glossary_key(glossary: Glossary, source: str, target: str) -> str:
        return f"{glossary.name}:{source.lower()}:{target.lower()}"

    def _glossary_id(self, glossary: Glossary, source: str, target: str) -> str:
        """The DeepL glossary for these terms and this pair, created once and replaced when the terms change."""
        key = self._glossary_key(glossary, source, target)
        digest = hashlib.sha256("\n".join(sorted(glossary.terms)).encode()).hexdigest()[:16]
        known = self.settings.state.setdefault("glossaries", {})
        kept = known.get(key)
        if kept and kept.get("digest") == digest:
            return str(kept["id"])
        entries = "\n".join(f"{t}\t{t}" for t in sorted(set(glossary.terms)) if "\t" not in t and "\n" not in t)
        created = self.call(
            "POST",
            "/v2/glossaries",
            json={
                "name": f"helpdesk {key}",
                "source_lang": source.lower(),
                "target_lang": target.lower().split("-")[0],
                "entries": entries,
                "entries_format": "tsv",
            },
            headers=self._auth(),
            what="glossary upload",
        ).json()
        if kept:  # the old terms' glossary is of no further use; a failure to delete it costs nothing
            with contextlib.suppress(TranslationError):
                self.call("DELETE", f"/v2/glossaries/{kept['id']}", headers=self._auth(), what="glossary removal")
        known[key] = {"id": created["glossary_id"], "digest": digest}
        return str(created["glossary_id"])

    def detect(self, text: str) -> Detection | None:
        sample = text[:DETECT_SAMPLE]
        if not sample.strip():
            return None
        found = self.translate([sample], None, "en")[0].source
        return Detection(found, 1.0) if found else None

    def languages(self) -> list[Language]:
        answer = self.call(
            "GET", "/v2/languages", params={"type": "target"}, headers=self._auth(), what="language list"
        ).json()
        return [Language(d["language"].lower(), d.get("name", d["language"])) for d in answer]

    def usage(self) -> tuple[int, int]:
        """(characters used, characters allowed) this billing period, as DeepL counts them."""
        answer = self.call("GET", "/v2/usage", headers=self._auth(), what="usage").json()
        return int(answer.get("character_count", 0)), int(answer.get("character_limit", 0))
