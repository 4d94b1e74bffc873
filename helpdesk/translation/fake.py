"""Loopback fakes of LibreTranslate, DeepL and an OpenAI-compatible chat endpoint, for tests and the demo.

Each speaks its service's documented envelopes, authentication and error
bodies (see the provider modules) on 127.0.0.1, and really transforms text
with :class:`PseudoTranslator`: a small deterministic dictionary for the
languages the tests use (German, English, Chinese) and, for every other
word, the damage real machine translation does to what it should have left
alone: digits regrouped and decimal marks swapped (``1234567`` →
``1.234.567``, ``12.50`` → ``12,50``), words capitalised (``LampWorks`` →
``Lampworks``, ``LAMP-BR-001`` → ``Lamp-Br-001``), ``{{`` and ``%(`` pulled
apart.  A protected span that reaches a fake unmasked therefore comes back
changed, and a test of protection can fail.

What each fake leaves alone is what its real service leaves alone:
sentinels ``⟦n⟧`` (all three), ``<k>`` elements under ``tag_handling=xml``
with ``ignore_tags`` naming them (DeepL), and a DeepL glossary's terms.
Faults (429 with ``Retry-After``, 5xx, slow answers) come from
:class:`channels.fake.FakeServer`; the quota (DeepL 456) and keys are state.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from channels.fake import FakeRequest, FakeResponse, FakeServer

_WORDS: dict[tuple[str, str], dict[str, str]] = {
    ("de", "en"): {
        "wo": "where", "ist": "is", "meine": "my", "mein": "my", "bestellung": "order", "paket": "parcel",
        "lampe": "lamp", "danke": "thanks", "hallo": "hello", "ihre": "your", "wird": "will be",
        "versendet": "shipped", "wurde": "was", "versandt": "sent", "mit": "with", "und": "and", "nicht": "not",
        "angekommen": "arrived", "noch": "still", "ich": "I", "habe": "have", "die": "the", "der": "the",
        "das": "the", "kaputt": "broken", "bitte": "please", "heute": "today", "morgen": "tomorrow",
        "kostet": "costs", "für": "for", "sendungsnummer": "tracking number", "artikel": "item",
    },
    ("en", "de"): {
        "where": "wo", "is": "ist", "my": "meine", "order": "Bestellung", "parcel": "Paket", "lamp": "Lampe",
        "thanks": "danke", "thank": "danke", "you": "Ihnen", "hello": "hallo", "your": "Ihre",
        "shipped": "versendet", "was": "wurde", "with": "mit", "and": "und", "not": "nicht", "today": "heute",
        "tomorrow": "morgen", "the": "die", "item": "Artikel", "please": "bitte", "for": "für",
        "has": "hat", "been": "wurde", "tracking": "Sendungs", "number": "nummer",
    },
    ("de", "zh"): {
        "wo": "哪里", "ist": "是", "meine": "我的", "bestellung": "订单", "paket": "包裹", "lampe": "灯",
        "danke": "谢谢", "hallo": "您好", "nicht": "没有", "angekommen": "到达", "noch": "还",
        "kaputt": "坏了", "bitte": "请", "artikel": "商品",
    },
    ("en", "zh"): {
        "where": "哪里", "is": "是", "my": "我的", "order": "订单", "parcel": "包裹", "lamp": "灯",
        "thanks": "谢谢", "hello": "您好", "your": "您的", "shipped": "已发货", "today": "今天",
    },
}  # fmt: skip
# Chinese has no spaces between words: phrases are replaced longest first.
_PHRASES: dict[tuple[str, str], dict[str, str]] = {
    ("zh", "de"): {
        "您好": "Hallo ", "您的订单": "Ihre Bestellung ", "订单": "Bestellung ", "已发货": "wurde versandt ",
        "今天": "heute ", "明天": "morgen ", "谢谢": "Danke ", "包裹": "Paket ", "灯": "Lampe ",
        "很抱歉": "Es tut uns leid ", "退款": "Rückerstattung ", "运单号": "Sendungsnummer ",
    },
    ("zh", "en"): {
        "您好": "Hello ", "您的订单": "your order ", "订单": "order ", "已发货": "has shipped ", "今天": "today ",
        "谢谢": "thanks ", "包裹": "parcel ", "灯": "lamp ", "很抱歉": "we are sorry ", "退款": "refund ",
        "运单号": "tracking number ",
    },
}  # fmt: skip
_CJK = re.compile(r"[\u3400-\u9fff]")
_TOKEN = re.compile(r"[^\W\d_]+|\d+(?:[.,]\d+)*", re.UNICODE)
SENTINEL = re.compile(r"⟦\d+⟧")


def _regroup(number: str) -> str:
    """What MT does to a number it should have kept: thousands grouped with dots, the decimal mark a comma."""
    whole, _, fraction = re.sub(r"[.,](\d{1,2})$", r"#\1", number).partition("#")
    digits = re.sub(r"\D", "", whole)
    grouped = f"{int(digits):,}".replace(",", ".") if digits else whole
    return grouped + ("," + fraction if fraction else "")


class PseudoTranslator:
    """Deterministic "translation": dictionary words translated, everything else damaged as MT damages it."""

    def detect(self, text: str) -> tuple[str, float]:
        if _CJK.search(text):
            return "zh", 0.95
        words = [w.lower() for w in _TOKEN.findall(text)]
        known: dict[str, set[str]] = {}
        for (src, _), table in _WORDS.items():
            known.setdefault(src, set()).update(table)
        scores = {src: sum(w in vocabulary for w in words) for src, vocabulary in known.items()}
        best = max(scores, key=lambda k: scores[k])
        return (best, 0.9) if scores[best] else ("en", 0.3)

    def free(self, text: str, source: str, target: str, *, at_start: bool = True) -> str:
        """Translate a stretch that nothing protects."""
        if source == target:
            return text
        phrases = _PHRASES.get((source, target))
        if phrases:
            for zh in sorted(phrases, key=len, reverse=True):
                text = text.replace(zh, phrases[zh])
        text = text.replace("{{", "{ {").replace("}}", "} }").replace("%(", "% (")
        table = _WORDS.get((source, target), {})

        def word(m: re.Match[str]) -> str:
            token = m.group(0)
            if token[0].isdigit():
                return _regroup(token)
            if _CJK.search(token):
                return token
            found = table.get(token.lower())
            if found is None:
                return token.capitalize()
            before = m.string[: m.start()].rstrip()
            sentence_start = before[-1] in ".!?:" if before else at_start
            return found[0].upper() + found[1:] if sentence_start else found

        return _TOKEN.sub(word, text)

    def translate(
        self,
        text: str,
        source: str | None,
        target: str,
        *,
        keep: re.Pattern[str] | None = SENTINEL,
        glossary: dict[str, str] | None = None,
        drop_kept: bool = False,
    ) -> tuple[str, str]:
        """(translation, source): kept spans (``keep`` matches, glossary terms) pass unchanged."""
        source = source or self.detect(text)[0]
        patterns = [p.pattern for p in (keep,) if p is not None]
        if glossary:
            patterns += [rf"(?<!\w){re.escape(t)}(?!\w)" for t in sorted(glossary, key=len, reverse=True)]
        if not patterns:
            return self.free(text, source, target), source
        splitter = re.compile("|".join(f"(?:{p})" for p in patterns), re.DOTALL)
        out, at = [], 0
        for m in splitter.finditer(text):
            out.append(self.free(text[at : m.start()], source, target, at_start=at == 0))
            kept = m.group(0)
            if glossary and kept in glossary:
                kept = glossary[kept]
            out.append("" if drop_kept else kept)
            at = m.end()
        out.append(self.free(text[at:], source, target, at_start=at == 0))
        return "".join(out), source


PSEUDO = PseudoTranslator()


class _TranslationFake(FakeServer):
    """Shared parts: the pseudo translator, a switch to drop tokens as a careless engine would."""

    def __init__(self, port: int = 0) -> None:
        super().__init__(port=port)
        self.translator = PSEUDO
        #: Drop protected tokens from answers (to test that a lost order number is reported, not hidden).
        self.drop_tokens = False
        self.characters = 0


class FakeLibreTranslate(_TranslationFake):
    """LibreTranslate; ``api_keys`` empty means the server runs without ``--api-keys``."""

    platform = "libretranslate"

    def __init__(self, *, api_keys: tuple[str, ...] = (), chinese_code: str = "zh-Hans", port: int = 0) -> None:
        super().__init__(port=port)
        self.api_keys = set(api_keys)
        self.codes = ["en", "de", chinese_code, "ja", "fr", "es"]
        self.add_route("POST", r"/translate", self._translate)
        self.add_route("POST", r"/detect", self._detect)
        self.add_route("GET", r"/languages", self._languages)

    def _refused(self, body: dict[str, Any]) -> FakeResponse | None:
        if self.api_keys and body.get("api_key") not in self.api_keys:
            return FakeResponse.json(
                {"error": "Invalid API key. Please contact the server operator to obtain an API key"}, 403
            )
        return None

    def _ours(self, code: str) -> str:
        return "zh" if code.startswith("zh") else code

    def _translate(self, request: FakeRequest) -> FakeResponse:
        body = request.json() or {}
        refused = self._refused(body)
        if refused:
            return refused
        q, source, target = body.get("q"), body.get("source"), body.get("target")
        if q is None or q == "":
            return FakeResponse.json({"error": "Invalid request: missing q parameter"}, 400)
        if not target:
            return FakeResponse.json({"error": "Invalid request: missing target parameter"}, 400)
        for code in (source, target):
            if code not in (*self.codes, "auto", None):
                return FakeResponse.json({"error": f"{code} is not supported"}, 400)
        texts = q if isinstance(q, list) else [q]
        self.characters += sum(len(t) for t in texts)
        out, detected = [], []
        for text in texts:
            given = None if source in (None, "auto") else self._ours(source)
            done, found = self.translator.translate(text, given, self._ours(target), drop_kept=self.drop_tokens)
            out.append(done)
            detected.append({"confidence": 90.0, "language": found})
        answer: dict[str, Any] = {"translatedText": out if isinstance(q, list) else out[0]}
        if source in (None, "auto"):
            answer["detectedLanguage"] = detected if isinstance(q, list) else detected[0]
        return FakeResponse.json(answer)

    def _detect(self, request: FakeRequest) -> FakeResponse:
        body = request.json() or {}
        refused = self._refused(body)
        if refused:
            return refused
        if not body.get("q"):
            return FakeResponse.json({"error": "Invalid request: missing q parameter"}, 400)
        language, confidence = self.translator.detect(body["q"])
        return FakeResponse.json([{"confidence": confidence * 100, "language": language}])

    def _languages(self, request: FakeRequest) -> FakeResponse:
        names = {"en": "English", "de": "German", "ja": "Japanese", "fr": "French", "es": "Spanish"}
        return FakeResponse.json(
            [
                {"code": c, "name": names.get(c, "Chinese"), "targets": [t for t in self.codes if t != c]}
                for c in self.codes
            ]
        )

    def rate_limit_next(self, retry_after: float = 2.0, *, path: str | None = None) -> None:
        self.fail_next(
            429,
            path=path,
            headers={"Retry-After": str(int(retry_after))},
            body={"error": "Too many request limits violation"},
        )


class FakeDeepL(_TranslationFake):
    """DeepL API for one key, with a character quota and glossaries."""

    platform = "deepl"

    def __init__(self, *, key: str = "", character_limit: int = 500_000, port: int = 0) -> None:
        super().__init__(port=port)
        self.key = key or f"{secrets.token_hex(16)}:fx"
        self.character_limit = character_limit
        self.glossaries: dict[str, dict[str, Any]] = {}
        self.add_route("POST", r"/v2/translate", self._auth(self._translate))
        self.add_route("GET", r"/v2/usage", self._auth(self._usage))
        self.add_route("GET", r"/v2/languages", self._auth(self._languages))
        self.add_route("POST", r"/v2/glossaries", self._auth(self._create_glossary))
        self.add_route("GET", r"/v2/glossaries", self._auth(self._list_glossaries))
        self.add_route("DELETE", r"/v2/glossaries/(?P<gid>[^/]+)", self._auth(self._delete_glossary))

    def _auth(self, handler: Callable[[FakeRequest], FakeResponse]) -> Callable[[FakeRequest], FakeResponse]:
        def checked(request: FakeRequest) -> FakeResponse:
            if request.headers.get("authorization") != f"DeepL-Auth-Key {self.key}":
                return FakeResponse.json({"message": "Wrong auth key"}, 403)
            return handler(request)

        return checked

    def _translate(self, request: FakeRequest) -> FakeResponse:
        body = request.json() or {}
        texts, target = body.get("text"), body.get("target_lang")
        if not isinstance(texts, list) or not texts:
            return FakeResponse.json({"message": "Parameter 'text' not specified."}, 400)
        if not target:
            return FakeResponse.json({"message": "Value for 'target_lang' not supported."}, 400)
        if target.upper() in ("EN", "PT"):
            return FakeResponse.json(
                {"message": f"targetLang='{target.lower()}' is deprecated, please use a variant"}, 400
            )
        sent = sum(len(t) for t in texts)
        if self.characters + sent > self.character_limit:
            return FakeResponse.json({"message": "Quota exceeded"}, 456)
        self.characters += sent
        glossary = None
        if body.get("glossary_id"):
            found = self.glossaries.get(body["glossary_id"])
            if found is None:
                return FakeResponse.json({"message": "Glossary not found"}, 404)
            if not body.get("source_lang"):
                return FakeResponse.json({"message": "Use of a glossary requires the source_lang parameter"}, 400)
            glossary = found["entries"]
        keep = None
        if body.get("tag_handling") == "xml":
            ignored = "|".join(re.escape(t) for t in body.get("ignore_tags") or [])
            # tags themselves survive; ignored tags survive with their content
            keep = re.compile(
                (rf"<(?:{ignored})\b[^>]*?(?:/>|>.*?</(?:{ignored})>)|" if ignored else "") + r"<[^>]+>", re.DOTALL
            )
        source = (body.get("source_lang") or "").lower() or None
        target_ours = target.lower().split("-")[0]
        rows = []
        for text in texts:
            done, found = self.translator.translate(
                text, source, target_ours, keep=keep, glossary=glossary, drop_kept=self.drop_tokens
            )
            rows.append({"detected_source_language": found.upper(), "text": done})
        return FakeResponse.json({"translations": rows})

    def _usage(self, request: FakeRequest) -> FakeResponse:
        return FakeResponse.json({"character_count": self.characters, "character_limit": self.character_limit})

    def _languages(self, request: FakeRequest) -> FakeResponse:
        names = {"DE": "German", "EN-US": "English (American)", "ZH-HANS": "Chinese (simplified)", "JA": "Japanese"}
        return FakeResponse.json(
            [{"language": k, "name": v, "supports_formality": k == "DE"} for k, v in names.items()]
        )

    def _create_glossary(self, request: FakeRequest) -> FakeResponse:
        body = request.json() or {}
        if body.get("entries_format") != "tsv" or not body.get("entries"):
            return FakeResponse.json({"message": "Invalid glossary entries provided"}, 400)
        entries = dict(line.split("\t", 1) for line in body["entries"].splitlines() if "\t" in line)
        gid = secrets.token_hex(8)
        self.glossaries[gid] = {
            "glossary_id": gid,
            "name": body.get("name", ""),
            "source_lang": body.get("source_lang"),
            "target_lang": body.get("target_lang"),
            "entries": entries,
        }
        info = {k: v for k, v in self.glossaries[gid].items() if k != "entries"}
        return FakeResponse.json({**info, "ready": True, "entry_count": len(entries)}, 201)

    def _list_glossaries(self, request: FakeRequest) -> FakeResponse:
        return FakeResponse.json(
            {"glossaries": [{k: v for k, v in g.items() if k != "entries"} for g in self.glossaries.values()]}
        )

    def _delete_glossary(self, request: FakeRequest) -> FakeResponse:
        if self.glossaries.pop(request.params["gid"], None) is None:
            return FakeResponse.json({"message": "Glossary not found"}, 404)
        return FakeResponse.empty(204)

    def rate_limit_next(self, retry_after: float = 2.0, *, path: str | None = None) -> None:
        self.fail_next(
            429, path=path, headers={"Retry-After": str(int(retry_after))}, body={"message": "Too many requests"}
        )


_TARGET = re.compile(r"\(language code: ([a-z-]+)\)")
_SOURCE = re.compile(r"message from (\w+) into")


class FakeChatCompletions(_TranslationFake):
    """An OpenAI-compatible server (as Ollama, vLLM or llama.cpp serve one) with one model."""

    platform = "openai"

    def __init__(self, *, model: str = "qwen2.5:7b", api_key: str = "", think: bool = False, port: int = 0) -> None:
        super().__init__(port=port)
        self.model = model
        self.api_key = api_key
        #: Answer as a reasoning model does, with a <think> preamble the provider must remove.
        self.think = think
        self.add_route("POST", r"/v1/chat/completions", self._complete)

    @staticmethod
    def _error(status: int, message: str, kind: str) -> FakeResponse:
        return FakeResponse.json({"error": {"message": message, "type": kind, "code": None}}, status)

    def _complete(self, request: FakeRequest) -> FakeResponse:
        if self.api_key and request.headers.get("authorization") != f"Bearer {self.api_key}":
            return self._error(401, "Incorrect API key provided.", "invalid_request_error")
        body = request.json() or {}
        if body.get("model") != self.model:
            return self._error(404, f"model '{body.get('model')}' not found", "not_found_error")
        messages = body.get("messages") or []
        system = next((m["content"] for m in messages if m.get("role") == "system"), "")
        user = next((m["content"] for m in messages if m.get("role") == "user"), "")
        self.characters += len(user)
        target = _TARGET.search(system)
        if target is None:  # the detection prompt
            content = self.translator.detect(user)[0]
        else:
            named = _SOURCE.search(system)
            source = {"German": "de", "English": "en", "Chinese": "zh"}.get(named.group(1)) if named else None
            content, _ = self.translator.translate(
                user, source, target.group(1).split("-")[0], drop_kept=self.drop_tokens
            )
        if self.think:
            content = f"<think>The user wants a translation. Tokens stay.</think>\n{content}"
        return FakeResponse.json(
            {
                "id": "chatcmpl-" + secrets.token_hex(6),
                "object": "chat.completion",
                "model": self.model,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": (len(system) + len(user)) // 4, "completion_tokens": len(content) // 4},
            }
        )

    def rate_limit_next(self, retry_after: float = 2.0, *, path: str | None = None) -> None:
        self.fail_next(
            429,
            path=path,
            headers={"Retry-After": str(int(retry_after))},
            body={
                "error": {
                    "message": "Rate limit reached for requests",
                    "type": "requests",
                    "code": "rate_limit_exceeded",
                }
            },
        )


FAKES: dict[str, type[_TranslationFake]] = {
    "libretranslate": FakeLibreTranslate,
    "deepl": FakeDeepL,
    "openai": FakeChatCompletions,
}


def main(argv: list[str] | None = None) -> None:
    """``python -m helpdesk.translation.fake KIND --port N``: one fake in the foreground, for trying the UI by hand."""
    import argparse
    import time

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("kind", choices=sorted(FAKES))
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    fake = FAKES[args.kind](port=args.port).start()
    hint = {
        "libretranslate": f"--provider libretranslate --url {fake.url}",
        "deepl": f"--provider deepl --url {fake.url} --key-env KEY  (KEY={getattr(fake, 'key', '')})",
        "openai": f"--provider openai --url {fake.url} --model qwen2.5:7b",
    }[args.kind]
    print(f"fake {args.kind} on {fake.url}; configure it with: flask --app wsgi helpdesk translation configure {hint}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
