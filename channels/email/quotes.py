"""Separate what a correspondent newly wrote from quoted history and signature.

Agents read the new text; the full body stays on the message.  The split
happens at the first line that starts history or a signature:

* an attribution line, "On <date>, <name> wrote:" and its German, French,
  Spanish, Italian, Dutch, Portuguese, Swedish, Japanese, Chinese and Korean
  forms, also when the client wrapped it over two or three lines;
* an Outlook separator ("-----Original Message-----" and translations) or an
  Outlook header block ("From: …" followed by "Sent: …"/"Date: …");
* the ``-- `` signature delimiter and "Sent from my iPhone"-style lines;
* a block of ``>`` lines that runs to the end of the text.  Quotes with new
  text after them (inline answers) are kept, because cutting them would
  lose the answers.

If nothing new would remain (a bare forward, say) the whole text counts as new.
"""

from __future__ import annotations

import re

__all__ = ["split_reply"]

_ATTRIBUTION = re.compile(
    r"""^(?:
        On\b.{0,300}\bwrote\s*:?
      | Am\b.{0,300}\bschrieb\b.{0,300}:
      | .{0,300}\bschrieb\s+am\b.{0,300}:
      | .{0,300}\bhat\s+am\b.{0,200}\bgeschrieben\s*:
      | Le\b.{0,300}\bécrit\s*:?
      | .{0,300}\ba\s+écrit\s*:
      | El\b.{0,300}\bescribió\s*:?
      | .{0,300}\bescribió\s*:
      | Il\b.{0,300}\bha\s+scritto\s*:?
      | Op\b.{0,300}\bschreef\b.{0,300}:?
      | (?:Em|No\s+dia)\b.{0,300}\bescreveu\s*:?
      | Den\b.{0,300}\bskrev\b.{0,300}:?
      | .{0,300}(?:さんは書きました|は書きました|が書きました|書きました)\s*[:\uff1a]?
      | \d{4}年\d{1,2}月\d{1,2}日.{0,300}[:\uff1a]
      | .{0,300}(?:写道|寫道)\s*[:\uff1a]?
      | .{0,300}님이\s*작성\s*[:\uff1a]?
    )$""",
    re.VERBOSE | re.IGNORECASE,
)
# Every alternative of _ATTRIBUTION contains one of these words.  Searching
# the lowercased line for them (case-sensitively: an IGNORECASE search is
# ten times slower) rejects almost every line before _ATTRIBUTION, which
# backtracks over up to 300 characters per alternative, has to run.
_ATTRIBUTION_WORD = re.compile(
    r"wrote|schrieb|écrit|escribió|scritto|schreef|escreveu|skrev|書きました|年|写道|寫道|작성"
)
# The only characters that IGNORECASE matches to a letter of those words but
# that str.lower() does not turn into that letter.
_CASE_FOLD_TRAPS = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})
_ATTRIBUTION_START = re.compile(
    r"^(?:On|Am|Le|El|Il|Op|Em|No dia|Den|在|\d{4}年|\d{4}/\d{1,2}/\d{1,2})\b", re.IGNORECASE
)
_SEPARATOR = re.compile(
    r"""^[-_=\s]{2,}\s*(?:
        Original\s+Message|Ursprüngliche\s+Nachricht|Original-Nachricht|Message\s+d'origine|Mensaje\s+original
      | Messaggio\s+originale|Oorspronkelijk\s+bericht|Mensagem\s+original|Ursprungligt\s+meddelande
      | 原始邮件|原始郵件|元のメッセージ|원본\s*메시지
    )\s*[-_=\s]{2,}$""",
    re.VERBOSE | re.IGNORECASE,
)
# Every alternative of _SEPARATOR contains one of these, compared as _ATTRIBUTION_WORD is;
# checking first spares _SEPARATOR's backtracking on long rules of dashes.
_SEPARATOR_WORD = re.compile(r"original|ursprüngliche|origine|oorspronkelijk|ursprungligt|原始|元のメッセージ|원본")
_HEADER_FROM = re.compile(
    r"^\*?\s*(?:From|Von|De|Da|Van|Från|Fra|Od|差出人|送信者|发件人|寄件者|보낸\s*사람)\s*\*?\s*[:\uff1a]\s*\*?\s*\S",
    re.IGNORECASE,
)
_HEADER_SENT = re.compile(
    r"^\*?\s*(?:Sent|Date|Gesendet|Datum|Envoyé|Enviado|Fecha|Inviato|Data|Verzonden|Skickat|Sendt|Wysłano"
    r"|送信日時|日付|发送时间|日期|寄件日期|時間|보낸\s*날짜)\s*\*?\s*[:\uff1a]",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^_{10,}$")
_DEVICE_SIGNATURE = re.compile(
    r"""^(?:
        Sent\s+from\s+my\s+\S.{0,60}
      | Sent\s+from\s+(?:Outlook|Mail|Yahoo\s+Mail|Gmail|Samsung).{0,60}
      | Get\s+Outlook\s+for\s+\S.{0,40}
      | Von\s+meinem\s+\S.{0,60}\s+gesendet
      | Gesendet\s+von\s+(?:meinem\s+)?(?:iPhone|iPad|Android|Samsung|Outlook|Mail).{0,40}
      | Envoyé\s+de\s+mon\s+\S.{0,60}
      | Enviado\s+desde\s+mi\s+\S.{0,60}
      | Enviado\s+do\s+meu\s+\S.{0,60}
      | Inviato\s+da\s+\S.{0,60}
      | Verzonden\s+(?:vanaf|met)\s+(?:mijn\s+)?\S.{0,60}
      | Skickat\s+från\s+min\s+\S.{0,60}
      | \S.{0,40}から送信
      | 发自我的\S.{0,40}
      | 從我的\S.{0,40}傳送
    )$""",
    re.VERBOSE | re.IGNORECASE,
)
# Every line that _SEPARATOR, _DEVICE_SIGNATURE, _HEADER_FROM, _ATTRIBUTION_START
# or the signature delimiter matches starts, after white space, with one of
# these, followed by what those patterns need next (a word boundary, white
# space, a colon).  It is searched for in the folded text (see _fold), so
# the words are lowercase and compared exactly, which is much faster than
# IGNORECASE; after a line break, so that most lines cost one character test.
_MARKER = r"""[^\S\n]*(?:
    [-_=*] | \d{4}[年/] | 差出人 | 送信者 | 发件人 | 寄件者 | 보낸 | 发自我的 | 從我的 | 在
  | (?:sent|get|von|gesendet|envoyé|enviado|inviato|verzonden|skickat)\s
  | (?:from|von|de|da|van|från|fra|od)[\s*:\uff1a]
  | (?:on|am|le|el|il|op|em|den)\b | no\s+dia
)"""
_FIRST_MARKER = re.compile(_MARKER, re.VERBOSE)
_NEXT_MARKER = re.compile(r"\n" + _MARKER, re.VERBOSE)
# The attribution words that may stand anywhere in an attribution line (the
# other attributions start with a word of _MARKER), and "から送信",
# which may stand anywhere in a device signature.
_FREE_WORDS = ("schrieb", "écrit", "escribió", "書きました", "写道", "寫道", "작성", "から送信")
_FREE_WORDS_ASCII = tuple(word for word in _FREE_WORDS if word.isascii())
_LONGEST_MARKER = 400
_HEADER_LOOKAHEAD = 6
_WRAP_LOOKAHEAD = 3


def split_reply(text: str) -> tuple[str, str]:
    """``(new text, quoted history and signature)``; the second part may be empty."""
    if not text:
        return "", ""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text
    lines = normalised.split("\n")
    cut = _find_cut(lines, _candidate_lines(normalised))
    if cut is None:
        return text, ""
    new = "\n".join(lines[:cut]).rstrip()
    if not new.strip():
        return text, ""
    rest = "\n".join(lines[cut:]).strip("\n")
    return new, rest


def _candidate_lines(text: str) -> list[int]:
    """Indexes, in order, of the lines of ``text`` that could start history or a signature.

    Such a line starts with a word of ``_MARKER`` or contains an attribution
    word or "から送信".  A few searches over the whole text find them far
    faster than trying every pattern on every line.
    """
    folded = _fold(text)
    if len(folded) != len(text):  # pragma: no cover - only U+0130 lengthens, and _fold replaces it
        return list(range(text.count("\n") + 1))
    # Offsets of a character in each candidate line: a marker's line starts after its line break.
    positions = [match.start() + 1 for match in _NEXT_MARKER.finditer(folded)]
    if _FIRST_MARKER.match(folded):
        positions.append(0)
    for word in _FREE_WORDS_ASCII if folded.isascii() else _FREE_WORDS:
        start = folded.find(word)
        while start >= 0:
            positions.append(start)
            start = folded.find(word, start + len(word))
    lines: list[int] = []
    line = done = 0
    for position in sorted(positions):
        line += folded.count("\n", done, position)
        done = position
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def _find_cut(lines: list[str], candidates: list[int]) -> int | None:
    """Index of the first line of history or signature, or None.

    Only the ``candidates`` (see :func:`_candidate_lines`) can be marker
    lines; failing those, the first line of a trailing quote is the cut.
    """
    tail = _quoted_tail_start(lines)
    quote = next((index for index in range(tail, len(lines)) if lines[index].strip()), None)
    for index in candidates:
        if quote is not None and index >= quote:
            break
        line = lines[index]
        stripped = line.strip()
        if not stripped:
            continue
        if line in {"-- ", "--"}:
            return index
        if len(stripped) > _LONGEST_MARKER or stripped.startswith(">"):
            continue
        folded = _fold(stripped)
        if _is_attribution(lines, index, stripped, folded):
            return index
        separator = _SEPARATOR_WORD.search(folded) is not None and _SEPARATOR.match(stripped) is not None
        if separator or _DEVICE_SIGNATURE.match(stripped):
            return index
        if _HEADER_FROM.match(stripped) and _header_block_follows(lines, index):
            previous = _previous_content(lines, index)
            if previous is not None and _UNDERSCORES.match(lines[previous].strip()):
                return previous
            return index
    return quote


def _quoted_tail_start(lines: list[str]) -> int:
    """Index where the trailing run of quoted and blank lines begins."""
    start = len(lines)
    for index in range(len(lines) - 1, -1, -1):
        stripped = lines[index].strip()
        if stripped and not stripped.startswith(">"):
            break
        start = index
    return start


def _fold(text: str) -> str:
    """``text`` lowercased so that _ATTRIBUTION_WORD finds what an IGNORECASE search would."""
    if not text.isascii() and ("\u0130" in text or "\u0131" in text or "\u017f" in text):
        text = text.translate(_CASE_FOLD_TRAPS)  # a dict translate costs more than the search: only when needed
    return text.lower()


def _has_attribution_word(text: str) -> bool:
    """Whether ``text`` contains a word _ATTRIBUTION needs, compared as IGNORECASE would."""
    return _ATTRIBUTION_WORD.search(_fold(text)) is not None


def _attribution_match(text: str) -> bool:
    """``_ATTRIBUTION.match``, skipped cheaply for text without an attribution word."""
    return _has_attribution_word(text) and _ATTRIBUTION.match(text) is not None


def _is_attribution(lines: list[str], index: int, stripped: str, folded: str) -> bool:
    """Whether the line ``stripped`` (``folded`` by :func:`_fold`), alone or joined with the next, is an attribution."""
    if _ATTRIBUTION_WORD.search(folded) is not None and _ATTRIBUTION.match(stripped) is not None:
        return True
    if not _ATTRIBUTION_START.match(stripped):
        return False
    joined = stripped
    for following in lines[index + 1 : index + 1 + _WRAP_LOOKAHEAD]:
        part = following.strip()
        if not part or part.startswith(">"):
            return False
        joined = f"{joined} {part}"
        if len(joined) > _LONGEST_MARKER:
            return False
        if _attribution_match(joined):
            return True
    return False


def _header_block_follows(lines: list[str], index: int) -> bool:
    return any(_HEADER_SENT.match(line.strip()) for line in lines[index + 1 : index + 1 + _HEADER_LOOKAHEAD])


def _previous_content(lines: list[str], index: int) -> int | None:
    for previous in range(index - 1, -1, -1):
        if lines[previous].strip():
            return previous
    return None
