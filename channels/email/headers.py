"""Read header fields the way real mail writes them, not the way RFCs wish.

Everything here is tolerant: encoded words glued to text, split in the middle
of a multi-byte character, with unknown charsets or bad padding; raw 8-bit
headers in UTF-8 or a legacy charset; dates without weekday, zone or sense;
Message-IDs with or without brackets.  Functions return ``None`` or an empty
value rather than raising.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parseaddr, parsedate_tz
from functools import lru_cache

from channels.email.charsets import decode_bytes, decode_header_bytes

__all__ = [
    "clean_text",
    "content_hash",
    "decode_header_value",
    "header_params",
    "header_text",
    "message_ids",
    "normalise_space",
    "parse_address",
    "parse_address_list",
    "parse_date",
    "received_dates",
]

# The text ends at the first "?" either way; a greedy run finds it much faster than a lazy one.
_ENCODED_WORD = re.compile(r"=\?([^?\s]*)\?([bBqQ])\?([^?]*)\?=")
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")
_BAD_QP_ESCAPE = re.compile(rb"=(?![0-9A-Fa-f]{2})")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_LONG_TEXT = 1024
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_ANGLE_ID = re.compile(r"<([^<>]*)>")
_BARE_ADDRESS = re.compile(r"[^\s<>()\"',;:@]+@[^\s<>()\"',;:@]+")
_ANGLE_ADDRESS = re.compile(r"<\s*([^<>\s]+@[^<>\s]+?)\s*>")
_VALID_ID = re.compile(r"^[\x21-\x7e]+@[\x21-\x7e]+$")
_MIN_YEAR = 1980
_COMMENT = re.compile(r"\([^()]*\)")
# ``Mon, 5 Jan 2026 09:14:00 +0100 (CET)``: the shape nearly every Date and
# Received stamp has, read with one match (years of four digits from 1000 on,
# which parsedate_tz takes as they are; every other shape goes through it).
_SIMPLE_DATE = re.compile(
    r"\s*(?:[A-Za-z]{3},\s*)?([0-9]{1,2})\s+([A-Za-z]{3})\s+([1-9][0-9]{3})\s+([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?"
    r"\s+([+-])([0-9]{2})([0-9]{2})(?:\s*\([^()]*\))?\s*\Z"
)
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
_COLON_SPACE = re.compile(r"\s*:\s*")
_PERCENT = re.compile(rb"%([0-9A-Fa-f]{2})")
# One mailbox in the shapes nearly all mail uses: ``addr``, ``addr (Comment)``,
# ``<addr>``, ``Name Words <addr>``, ``"Quoted Name" <addr>`` (also ``<>`` and
# ``<local>``), with plain atoms only.  For these ``parseaddr`` returns the
# parts unchanged (phrase words joined by one space, a comment as the name),
# so they are read with one match instead of its character-by-character
# parser; everything else still goes to ``parseaddr``.
_ATOM = r'[^\s()<>@,:;."\[\]\\]+'
_DOT_ATOM = rf"{_ATOM}(?:\.{_ATOM})*"
_ADDR_SPEC = rf"{_DOT_ATOM}@{_DOT_ATOM}"
_PHRASE_WORD = r'[^\s()<>@,:;"\[\]\\]+'
_DISPLAY_NAME = rf'"(?P<quoted>[^"\\\r\n]*)"|(?P<phrase>{_PHRASE_WORD}(?:[ \t]+{_PHRASE_WORD})*)'
_SIMPLE_MAILBOX = re.compile(
    rf"[ \t]*(?:(?P<bare>{_ADDR_SPEC})(?:[ \t]*\((?P<comment>[^()\\\r\n]*)\))?"
    rf"|(?:{_DISPLAY_NAME})?[ \t]*<(?P<angle>{_DOT_ATOM}(?:@{_DOT_ATOM})?)?>)[ \t]*\Z"
)
_SPACE_CHAR = re.compile(r"\s")
_QUOTED_LOCAL_PART = re.compile(r'"(?:[^"\\\r\n]|\\.)*"')
_LIST_SEPARATOR = re.compile(r"[,;]")
_LIST_SPECIAL = re.compile(r'[",;<>()]')
_SECTION = re.compile(r"^(?P<name>[^*]+)(?:\*(?P<number>\d+))?(?P<extended>\*)?$")


def header_text(value: object) -> str:
    """A header value from ``Message.get`` (text or ``Header``) as text; empty when absent."""
    return "" if value is None else str(value)


def decode_header_value(value: str, hint: str | None = None) -> str:
    """Decode RFC 2047 encoded words and raw 8-bit text; whitespace is unfolded.

    Consecutive encoded words in the same charset are joined as bytes before
    decoding, because senders split multi-byte characters across words.
    ``hint`` is the charset to try first for raw 8-bit header bytes (usually
    the body's charset, which legacy mailers also used in headers).
    """
    if not value:
        return ""
    value = value.replace("\r", "").replace("\n", "")
    if "=?" not in value:
        return clean_text(_decode_raw(value, hint))
    out: list[str] = []
    pending: bytearray = bytearray()
    pending_charset = ""
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        start, end = match.span()
        between = value[position:start]
        if between and not (pending and not between.strip(" \t")):  # white space between words is dropped
            if pending:
                out.append(decode_bytes(bytes(pending), pending_charset))
                pending = bytearray()
            out.append(_decode_raw(between, hint))
        label, kind, text = match.groups()
        charset = label.split("*", 1)[0].lower()
        data = _decode_word(kind, text)
        if pending and charset != pending_charset:
            out.append(decode_bytes(bytes(pending), pending_charset))
            pending = bytearray()
        pending_charset = charset
        pending += data
        position = end
    if pending:
        out.append(decode_bytes(bytes(pending), pending_charset))
    if position < len(value):
        out.append(_decode_raw(value[position:], hint))
    return clean_text("".join(out))


def _decode_word(kind: str, text: str) -> bytes:
    if kind in "bB":
        return _b64_tolerant(text)
    data = text.replace("_", " ").encode("utf-8", "surrogateescape")
    if b"=" not in data:
        return data
    if _BAD_QP_ESCAPE.search(data) is None:
        return binascii.a2b_qp(data)  # the same bytes when every "=" starts an escape, and much faster
    return _QP_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)


def _b64_tolerant(text: str) -> bytes:
    try:  # a well-formed word, as nearly all are, decodes to the same bytes as its cleaned form
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    cleaned = _NOT_BASE64.sub("", text.split("=", 1)[0])
    if len(cleaned) % 4 == 1:
        cleaned = cleaned[:-1]
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return binascii.a2b_base64(cleaned)
    except binascii.Error:
        return b""


def _decode_raw(text: str, hint: str | None) -> str:
    if text.isascii():
        return text
    try:
        data = text.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return clean_text(text)
    return decode_header_bytes(data, hint)


def header_params(value: str, hint: str | None = None) -> dict[str, str]:
    """Parameters of a structured header (``Content-Type``, ``Content-Disposition``).

    Works on the raw header text so 8-bit bytes in values survive to be
    decoded with ``hint``; RFC 2231 continuations and charsets are joined and
    decoded; RFC 2047 encoded words in values (common, though not allowed)
    are decoded too.  Names are lowercased.
    """
    sections: dict[str, dict[int, tuple[bool, str]]] = {}
    for token in _split_params(value.replace("\r", "").replace("\n", ""))[1:]:
        key, sep, raw = token.partition("=")
        if not sep:
            continue
        match = _SECTION.match(key.strip().lower())
        if match is None:
            continue
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        number = int(match.group("number") or 0)
        sections.setdefault(match.group("name").strip(), {}).setdefault(number, (bool(match.group("extended")), raw))
    params: dict[str, str] = {}
    for name, numbered in sections.items():
        charset = hint
        data = bytearray()
        for index, (extended, section) in enumerate(numbered[number] for number in sorted(numbered)):
            value = section
            if extended:
                if index == 0 and value.count("'") >= 2:
                    declared, _, value = value.split("'", 2)
                    charset = declared or hint
                encoded = value.encode("utf-8", "surrogateescape")
                data += _PERCENT.sub(lambda m: bytes([int(m.group(1), 16)]), encoded)
            else:
                data += value.encode("utf-8", "surrogateescape")
        text = decode_bytes(bytes(data), charset)
        params[name] = decode_header_value(text, hint) if "=?" in text else clean_text(text)
    return params


def _split_params(value: str) -> list[str]:
    """Split at semicolons outside quoted strings; quotes and escapes stay in the tokens."""
    if "\\" not in value:
        return _split_unescaped(value)
    tokens: list[str] = []
    current: list[str] = []
    quoted = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            tokens.append("".join(current))
            current = []
            continue
        current.append(char)
    tokens.append("".join(current))
    return tokens


def _split_unescaped(value: str) -> list[str]:
    """:func:`_split_params` for a value without backslashes: every other quote-delimited piece is quoted."""
    if '"' not in value:
        return value.split(";")
    tokens = [""]
    for index, piece in enumerate(value.split('"')):
        if index % 2:
            tokens[-1] += '"' + piece
            continue
        first, *rest = piece.split(";")
        tokens[-1] += '"' + first if index else first
        tokens.extend(rest)
    return tokens


def clean_text(text: str) -> str:
    """Drop NULs and control characters; replace lone surrogates.

    Databases reject NUL in text columns and UTF-8 cannot carry surrogates, so
    neither may leave the parser.
    """
    if text.isprintable():
        return text  # no control character, and surrogates are not printable
    if not text.isascii():
        if _SURROGATE.search(text):
            text = _SURROGATE.sub("\ufffd", text)
    elif len(text) > _LONG_TEXT:
        # Deleting bytes is several times faster than a regex search over a long body.
        data = text.encode("ascii")
        if len(data.translate(None, _CONTROL_BYTES)) == len(data):
            return text
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    return text


def normalise_space(text: str) -> str:
    """Collapse runs of whitespace to one space and trim."""
    return " ".join(text.split())  # str.split() splits at what ``\s`` matches, without a regex


def parse_address(value: str, hint: str | None = None) -> tuple[str | None, str | None]:
    """``(display name, lowercased address)`` of the first mailbox in a header.

    The structure is parsed before the display name is decoded, because a
    decoded name may contain commas, quotes or angle brackets.
    """
    if not value or not value.strip():
        return None, None
    name, found = _mailbox(value.replace("\r", "").replace("\n", " "))
    display = normalise_space(decode_header_value(name, hint)).strip("\"' ") if name else ""
    if found is None:
        return (display or None), None
    address = _address_text(found, hint)
    if display.lower().strip("<>") == address or ("@" in display and " " not in display):
        display = ""
    return (display or None), (address or None)


def _mailbox(value: str) -> tuple[str, str | None]:
    """The undecoded display name and plausible address (or None) of the first mailbox in unfolded ``value``."""
    if "@" in value:  # without one no parser finds a plausible address, and parseaddr is slow
        name, found = _stdlib_address(value)
        if _plausible_address(found):
            return name, found
    name, found = _regex_address(value)
    return name, (found if _plausible_address(found) else None)


def _address_text(found: str, hint: str | None) -> str:
    """The lowercased address; plain ASCII (unfolded, so without line breaks) has nothing to decode."""
    plain = found.isascii() and "=?" not in found
    text = clean_text(found) if plain else clean_text(decode_header_value(found, hint))
    return text.strip().strip(".").lower()


def _stdlib_address(value: str) -> tuple[str, str]:
    """``email.utils.parseaddr``, answered directly for the common simple shapes."""
    simple = _SIMPLE_MAILBOX.match(value)
    if simple is not None:
        bare, comment, quoted, phrase, angle = simple.group("bare", "comment", "quoted", "phrase", "angle")
        if bare is not None:
            return comment or "", bare
        name = quoted if quoted is not None else " ".join(phrase.split()) if phrase else ""
        return name, angle or ""
    try:
        return parseaddr(value)
    except (IndexError, ValueError, TypeError):
        return "", ""


def _regex_address(value: str) -> tuple[str, str]:
    angle = _ANGLE_ADDRESS.search(value)
    if angle:
        name = value[: angle.start()].strip().strip(",;").strip()
        return name, angle.group(1)
    bare = _BARE_ADDRESS.search(value)
    if bare:
        rest = (value[: bare.start()] + value[bare.end() :]).strip()
        return rest.strip("()").strip(), bare.group(0)
    return (value.split("<", 1)[0].strip() or value.strip()), ""


def _plausible_address(address: str | None) -> bool:
    """Something on both sides of the last ``@``, and no white space or other ``@`` outside quotes.

    A quoted local part may hold both: ``"first last"@example.com`` and
    ``"user@internal"@example.com`` are valid addresses, kept quoted as
    the parser returns them.
    """
    if not address:
        return False
    local, _, domain = address.rpartition("@")
    if not local or not domain.strip(".") or _SPACE_CHAR.search(domain) is not None:
        return False
    if local[0] == '"' and _QUOTED_LOCAL_PART.fullmatch(local) is not None:
        return True
    return "@" not in local and _SPACE_CHAR.search(local) is None


def parse_address_list(values: Iterable[str], hint: str | None = None) -> list[str]:
    """Lowercased addresses of every mailbox in address-list headers, without repeats.

    Only the addresses are wanted, so display names are not decoded.
    """
    found: dict[str, None] = {}
    for value in values:
        for chunk in _split_address_list(value):
            if not chunk.strip():
                continue
            _, mailbox = _mailbox(chunk.replace("\r", "").replace("\n", " "))
            address = _address_text(mailbox, hint) if mailbox is not None else ""
            if address:
                found[address] = None
    return list(found)


def _split_address_list(value: str) -> list[str]:
    """Split at commas that are outside quotes, comments and angle brackets."""
    if '"' not in value and "(" not in value and "<" not in value:
        # Nothing opens a quote, comment or bracket: every comma and semicolon splits.
        return [chunk for chunk in _LIST_SEPARATOR.split(value) if chunk.strip()]
    chunks: list[str] = []
    start = 0
    quoted, depth, angle = False, 0, False
    for special in _LIST_SPECIAL.finditer(value):  # the characters that change state; others are just kept
        char = special.group()
        if char == '"':
            if depth == 0:
                quoted = not quoted
        elif not quoted:
            if char == "(":
                depth += 1
            elif char == ")":
                depth = max(0, depth - 1)
            elif char == "<":
                angle = True
            elif char == ">":
                angle = False
            elif depth == 0 and not angle:
                chunks.append(value[start : special.start()])
                start = special.end()
    chunks.append(value[start:])
    return [chunk for chunk in chunks if chunk.strip()]


def parse_date(value: str | None) -> datetime | None:
    """An aware UTC datetime from a Date-style header, or None if it is nonsense."""
    if not value:
        return None
    simple = _SIMPLE_DATE.match(value)
    if simple is not None:
        return _simple_date(simple)
    if "(" in value:
        value = _COMMENT.sub(" ", value)
    try:
        parts = parsedate_tz(_COLON_SPACE.sub(":", value.strip()))
    except (TypeError, ValueError, IndexError):
        return None
    if parts is None:
        return None
    offset = parts[9] or 0
    try:
        moment = datetime(*parts[:6], tzinfo=timezone(timedelta(seconds=offset)))
    except (ValueError, OverflowError):
        return None
    if moment.year < _MIN_YEAR:
        return None
    return moment.astimezone(UTC)


def _simple_date(match: re.Match[str]) -> datetime | None:
    """``parse_date`` of a date in the RFC 5322 shape, with the stdlib's arithmetic but not its tokenising."""
    day, month, year, hour, minute, second, sign, zone_hours, zone_minutes = match.groups()
    number = _MONTHS.get(month.lower())
    if number is None:
        return None
    offset = int(zone_hours) * 3600 + int(zone_minutes) * 60
    try:
        moment = datetime(
            int(year),
            number,
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            tzinfo=_zone(-offset if sign == "-" else offset),
        )
    except (ValueError, OverflowError):
        return None
    if moment.year < _MIN_YEAR:
        return None
    return moment.astimezone(UTC)


@lru_cache(maxsize=256)
def _zone(offset: int) -> timezone:
    """The fixed-offset zone of ``offset`` seconds; a handful of them stamp nearly all mail."""
    return timezone(timedelta(seconds=offset))


def received_dates(values: Iterable[str]) -> Iterator[datetime]:
    """Dates stamped by the relays in ``Received`` headers (after the last ``;``), read as they are asked for."""
    for value in values:
        _, sep, stamp = value.rpartition(";")
        if sep:
            moment = parse_date(stamp)
            if moment is not None:
                yield moment


def message_ids(value: str | None) -> list[str]:
    """Message-IDs in a header, brackets stripped, in order, without repeats.

    Bracketed ids are preferred; a header without brackets falls back to the
    whitespace-separated tokens that look like ``left@right``.
    """
    if not value:
        return []
    found = [token.strip() for token in _ANGLE_ID.findall(value)]
    if not found:
        found = [token.strip("<>,;") for token in value.split()]
    seen: dict[str, None] = {}
    for token in found:
        cleaned = clean_text(token).replace(" ", "")
        if cleaned and _VALID_ID.match(cleaned) and cleaned not in seen:
            seen[cleaned] = None
    return list(seen)


def content_hash(*parts: str) -> str:
    """A stable hex id over text parts, for mail without a usable Message-ID."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()
