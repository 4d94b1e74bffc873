"""Mask, send, restore: one provider call with every protected span kept out of the translator's reach.

No Flask and no database here, so the same round trip serves the task
queue, the composer and the tests against the fakes.  A provider that
enforces a glossary itself for the pair (DeepL, source known) gets the
store's terms as a glossary and they are not masked; everyone else gets
them masked like order numbers.

Long texts (a forwarded e-mail thread) are cut into pieces at paragraph
breaks, then line breaks, then sentence ends, each at most the provider's
``max_chars``: services limit a request's size, and a chat model asked to
translate pages at once summarises instead.  The whitespace around each
piece is kept out of the request and put back, so the translation keeps
the original's paragraphs; blank pieces are not sent at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from helpdesk.translation.base import Glossary, Provider, Translated
from helpdesk.translation.protect import Masked, mask, unmask

_BREAKS = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?。！？])\s+"), re.compile(r"\s+"))


def pieces(text: str, limit: int) -> list[str]:
    """``text`` cut into consecutive pieces of at most ``limit`` characters, at the largest break that fits."""
    if len(text) <= limit:
        return [text]
    for pattern in _BREAKS:
        cuts = [m.end() for m in pattern.finditer(text) if 0 < m.end() < len(text)]
        if not cuts:
            continue
        out, start, last = [], 0, 0
        for cut in [*cuts, len(text)]:
            if cut - start > limit and last > start:
                out.append(text[start:last])
                start = last
            last = cut
        out.append(text[start:])
        if len(out) > 1:
            return [p for piece in out for p in pieces(piece, limit)]
    return [text[i : i + limit] for i in range(0, len(text), limit)]


@dataclass(frozen=True, slots=True)
class _Piece:
    text: int  # which input text it belongs to
    lead: str  # whitespace before it, kept out of the request
    trail: str
    masked: Masked | None  # None: only whitespace, not sent


def _split(texts: Sequence[str], limit: int, terms: Sequence[str], tags: bool) -> list[_Piece]:
    out = []
    for i, text in enumerate(texts):
        for piece in pieces(text, limit):
            core = piece.strip()
            if not core:
                out.append(_Piece(i, piece, "", None))
                continue
            lead, trail = piece[: len(piece) - len(piece.lstrip())], piece[len(piece.rstrip()) :]
            out.append(_Piece(i, lead, trail, mask(core, glossary=terms, tags=tags)))
    return out


def translate_protected(
    provider: Provider,
    texts: Sequence[str],
    source: str | None,
    target: str,
    glossary: Glossary | None = None,
) -> list[Translated]:
    """``texts`` translated by ``provider`` with protected spans restored; ``missing`` names any it lost."""
    by_glossary = bool(glossary and glossary.terms and provider.applies_glossary(source, target))
    masked_terms = () if by_glossary or glossary is None else glossary.terms
    parts = _split(texts, provider.max_chars, masked_terms, provider.handles_tags)
    sent = [p for p in parts if p.masked is not None]
    answers = iter(
        provider.translate(
            [p.masked.text for p in sent if p.masked], source, target, glossary=glossary if by_glossary else None
        )
        if sent
        else []
    )
    text: list[list[str]] = [[] for _ in texts]
    missing: list[list[str]] = [[] for _ in texts]
    characters = [0] * len(texts)
    detected: list[str | None] = [None] * len(texts)
    for part in parts:
        if part.masked is None:
            text[part.text].append(part.lead)
            continue
        answer = next(answers)
        restored, lost = unmask(answer.text.strip(), part.masked)
        text[part.text] += [part.lead, restored, part.trail]
        missing[part.text] += lost
        characters[part.text] += len(part.masked.text)
        detected[part.text] = detected[part.text] or answer.source
    return [
        Translated("".join(text[i]), detected[i] or source, provider.kind, tuple(missing[i]), characters[i])
        for i in range(len(texts))
    ]
