"""Mask, send, restore: one provider call with every protected span kept out of the translator's reach.

No Flask and no database here, so the same round trip serves the task
queue, the composer and the tests against the fakes.  A provider that
enforces a glossary itself for the pair (DeepL, source known) gets the
store's terms as a glossary and they are not masked; everyone else gets
them masked like order numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from helpdesk.translation.base import Glossary, Provider, Translated
from helpdesk.translation.protect import mask, unmask


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
    masked = [mask(text, glossary=masked_terms, tags=provider.handles_tags) for text in texts]
    answers = provider.translate([m.text for m in masked], source, target, glossary=glossary if by_glossary else None)
    out = []
    for m, answer in zip(masked, answers, strict=True):
        text, missing = unmask(answer.text, m)
        out.append(replace(answer, text=text, missing=missing, characters=len(m.text)))
    return out
