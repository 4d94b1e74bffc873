"""Fuzzy search over a macro library that stays fast at thousands of macros.

Scoring every macro's whole text against the query (RapidFuzz over 5,000
haystacks) costs 10–70 ms a query; an agent types faster than that.  So
the library is indexed once: every word of every title, tag, description
and body (in the languages asked for) goes into a vocabulary with the
macros it appears in and where (a title word weighs more than a body word).
A query's words are matched against the vocabulary with RapidFuzz (typos,
prefixes), and macros are scored by their best-matching words.  Chinese and
Japanese have no spaces: their runs of characters are indexed as bigrams.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from macros.model import Macro

_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")
WEIGHTS = {"title": 3.0, "tag": 2.5, "key": 2.0, "description": 1.5, "body": 1.0}
MIN_SIMILARITY = 75.0


def words(text: str) -> list[str]:
    """Lower-case words; runs of Chinese, Japanese or Korean characters as overlapping bigrams."""
    out: list[str] = []
    for chunk in _CJK.split(text.lower()):
        out += [w for w in _WORD.findall(chunk) if len(w) > 1]
    for run in _CJK.findall(text):
        out += [run[i : i + 2] for i in range(max(1, len(run) - 1))]
    return out


@dataclass(frozen=True)
class Hit:
    macro: Macro
    score: float


class MacroIndex:
    """The words of a library in some languages, for :meth:`search`."""

    def __init__(self, macros: Sequence[Macro], locales: Sequence[str]) -> None:
        self.macros = list(macros)
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        for n, macro in enumerate(self.macros):
            fields: list[tuple[str, str]] = [("key", macro.key.replace("-", " "))]
            fields += [("tag", tag) for tag in macro.tags]
            for locale in locales:
                fields += [
                    ("title", macro.titles.get(locale, "")),
                    ("description", macro.descriptions.get(locale, "")),
                    ("body", macro.bodies.get(locale, "")),
                ]
            for field, text in fields:
                weight = WEIGHTS[field]
                for word in words(text):
                    if postings[word].get(n, 0.0) < weight:
                        postings[word][n] = weight
        self.postings = dict(postings)
        self.vocabulary = sorted(self.postings)

    def _similar(self, word: str) -> list[tuple[str, float]]:
        """Vocabulary words like ``word``: itself, words it begins (an unfinished word), close spellings."""
        found = {word: 100.0} if word in self.postings else {}
        if len(word) >= 3:
            for candidate, score, _ in process.extract(
                word, self.vocabulary, scorer=fuzz.ratio, score_cutoff=MIN_SIMILARITY, limit=8
            ):
                found[candidate] = max(found.get(candidate, 0.0), score)
            start = bisect_left(self.vocabulary, word)  # words this one begins: the agent is still typing
            for candidate in self.vocabulary[start : start + 16]:
                if not candidate.startswith(word):
                    break
                found.setdefault(candidate, 90.0)
        return list(found.items())

    def search(self, query: str, limit: int = 20) -> list[Hit]:
        asked = words(query)
        if not asked:
            return []
        scores: dict[int, float] = defaultdict(float)
        for word in asked:
            best: dict[int, float] = {}
            for candidate, similarity in self._similar(word):
                for n, weight in self.postings[candidate].items():
                    value = similarity * weight
                    if value > best.get(n, 0.0):
                        best[n] = value
            for n, value in best.items():
                scores[n] += value
        top = sorted(scores.items(), key=lambda item: -item[1])[:limit]
        full = 100.0 * WEIGHTS["title"] * len(asked)
        return [Hit(self.macros[n], round(100.0 * value / full, 1)) for n, value in top]
