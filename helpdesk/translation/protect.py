"""What must survive translation: spans masked before a text is sent and restored after.

Machine translation rewrites whatever it is given: it regroups digits
("1234567" → "1.234.567"), swaps decimal marks, capitalises SKUs, puts
spaces into ``%(name)s`` and translates brand names that look like words.
So before a text leaves, every span a buyer or a template relies on is
replaced by a token the provider leaves alone, and put back afterwards:

* template placeholders: ``{{ ... }}``, ``{% ... %}``, ``%(x)s``, ``{x}``;
* links and e-mail addresses;
* amounts with a currency (``€12.50``, ``12,50 EUR``, ``US$ 9.99``);
* any word with a digit in it of five characters or more: order numbers
  (``123-4567890-1234567``, ``12-34567-89012``), tracking numbers
  (``1Z999AA10123456784``, ``LX123456789CN``), SKUs (``LAMP-BR-001``);
* the store's glossary of brand and product names (longest first, any case).

Two token styles, by what the provider can be told: providers that take
XML with ``ignore_tags`` (DeepL) get ``<k i="3">original</k>`` and the
rest of the text XML-escaped; the others get numbered sentinels
``⟦3⟧``, which MT engines and LLMs pass through as symbols.  A token
the provider dropped or garbled beyond recognition is reported as missing
(the caller warns the agent) instead of silently losing an order number.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

TAG = "k"

_CODES = "USD|EUR|GBP|JPY|CNY|RMB|AUD|CAD|CHF|PLN|SEK|MXN|BRL|SGD|MYR|THB|IDR|VND"
_CURRENCY = rf"(?:US\$|[$€£¥₹₩]|\b(?:{_CODES})\b)"
_NUMBER = r"\d(?:[\d.,'\u00a0]*\d)?"
_PATTERNS: tuple[str, ...] = (
    r"\{\{.*?\}\}",  # Jinja / Liquid expressions
    r"\{%.*?%\}",  # Jinja statements
    r"%\([A-Za-z_]\w*\)[sdifr]",  # Python %-format
    r"\{[A-Za-z_][\w.]*\}",  # str.format / ICU simple
    r"(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)]",  # links
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",  # e-mail addresses
    rf"{_CURRENCY}\s?{_NUMBER}",  # amounts, currency first
    rf"{_NUMBER}\s?{_CURRENCY}",  # amounts, currency after
    # identifiers: a word of 5+ characters with a digit in it (order, tracking, SKU, invoice numbers)
    r"(?<![\w#/-])#?(?=[\w/-]*\d)[A-Za-z0-9][\w/-]{3,}[A-Za-z0-9](?![\w-])",
)
_BUILTIN = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))
_SENTINEL = re.compile(r"⟦\s*(\d+)\s*⟧")
_TAGGED = re.compile(rf"<{TAG}\s+i\s*=\s*\"(\d+)\"\s*(?:/>|>.*?</{TAG}\s*>)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Masked:
    """A text ready to send, and the originals its tokens stand for (index = token number)."""

    text: str
    spans: tuple[str, ...]
    tags: bool


def _glossary_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    cleaned = sorted({t.strip() for t in terms if t and t.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    return re.compile("|".join(rf"(?<!\w){re.escape(t)}(?!\w)" for t in cleaned), re.IGNORECASE)


def protected_spans(text: str, glossary: Sequence[str] = ()) -> list[tuple[int, int]]:
    """(start, end) of every span to keep, non-overlapping, in order; glossary terms win over patterns."""
    found: list[tuple[int, int]] = []
    pattern = _glossary_pattern(glossary)
    taken = bytearray(len(text))
    for regex in (pattern, _BUILTIN):
        if regex is None:
            continue
        for m in regex.finditer(text):
            start, end = m.span()
            if end > start and not any(taken[start:end]):
                found.append((start, end))
                taken[start:end] = b"\x01" * (end - start)
    return sorted(found)


def mask(text: str, *, glossary: Sequence[str] = (), tags: bool = False) -> Masked:
    """``text`` with every protected span replaced by a numbered token (XML tags when ``tags``)."""
    spans: list[str] = []
    out: list[str] = []
    at = 0
    for start, end in protected_spans(text, glossary):
        plain = text[at:start]
        out.append(html.escape(plain, quote=False) if tags else plain)
        original = text[start:end]
        n = len(spans)
        spans.append(original)
        out.append(f'<{TAG} i="{n}">{html.escape(original, quote=False)}</{TAG}>' if tags else f"⟦{n}⟧")
        at = end
    rest = text[at:]
    out.append(html.escape(rest, quote=False) if tags else rest)
    return Masked("".join(out), tuple(spans), tags)


def unmask(translated: str, masked: Masked) -> tuple[str, tuple[str, ...]]:
    """The translation with the originals put back, and the originals that did not come back."""
    seen: set[int] = set()

    def put_back(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if n >= len(masked.spans):
            return m.group(0)
        seen.add(n)
        return masked.spans[n] if not masked.tags else "\x00" + str(n) + "\x00"

    if masked.tags:
        # Put originals back only after unescaping the rest, so an original containing "&lt;" stays as it was.
        marked = _TAGGED.sub(put_back, translated)
        text = re.sub(r"\x00(\d+)\x00", lambda m: masked.spans[int(m.group(1))], html.unescape(marked))
    else:
        text = _SENTINEL.sub(put_back, translated)
    missing = tuple(s for i, s in enumerate(masked.spans) if i not in seen)
    return text, missing
