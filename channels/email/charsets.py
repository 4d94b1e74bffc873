"""Turn mail bytes into text whatever charset label they carry.

Mail charset labels lie: ``us-ascii`` on Big5 text, ``iso-8859-1`` on UTF-8,
``uft-8``, ``gb2312`` on GBK, Shift_JIS and ISO-2022-JP written by Windows
with NEC and IBM extensions.  Decoding therefore walks a chain and never raises:

1. the declared label, mapped to the superset codec mail clients really use;
2. UTF-8, because it almost never decodes text by accident;
3. a statistical guess (``chardet``), when that library is installed;
4. the declared codec with replacement characters if it got nearly all of it;
5. Windows-1252, and Latin-1 for the five bytes it leaves undefined.

Between 2 and 3, UTF-8 with a few broken sequences (a name cut off in the
middle of a character) is accepted when the valid multi-byte characters
clearly outnumber the broken ones.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

__all__ = ["codecs_for", "decode_bytes", "decode_header_bytes", "detect_codec"]

# Labels seen in mail mapped to the codecs whose repertoire covers what the
# senders really wrote; the first codec that decodes strictly wins.
_ALIASES: dict[str, tuple[str, ...]] = {
    "utf8": ("utf-8",),
    "uft8": ("utf-8",),
    "utf": ("utf-8",),
    "unicode11utf8": ("utf-8",),
    "xunicode20utf8": ("utf-8",),
    "utf7": ("utf-7",),
    "unicode11utf7": ("utf-7",),
    "usascii": ("ascii",),
    "ascii": ("ascii",),
    "ansix341968": ("ascii",),
    "iso646us": ("ascii",),
    "us": ("ascii",),
    "iso88591": ("cp1252", "latin-1"),
    "latin1": ("cp1252", "latin-1"),
    "l1": ("cp1252", "latin-1"),
    "iso885915": ("iso8859-15",),
    "latin9": ("iso8859-15",),
    "iso88598i": ("iso8859-8",),
    "iso88596i": ("iso8859-6",),
    "iso88598e": ("iso8859-8",),
    "iso88596e": ("iso8859-6",),
    "tis620": ("cp874", "tis-620"),
    "windows874": ("cp874",),
    "iso885911": ("cp874", "iso8859-11"),
    "gb2312": ("gb18030",),
    "gb231280": ("gb18030",),
    "csgb2312": ("gb18030",),
    "euccn": ("gb18030",),
    "xeuccn": ("gb18030",),
    "gbk": ("gb18030",),
    "xgbk": ("gb18030",),
    "cp936": ("gb18030",),
    "ms936": ("gb18030",),
    "windows936": ("gb18030",),
    "chinese": ("gb18030",),
    "gb18030": ("gb18030",),
    "big5": ("cp950", "big5hkscs"),
    "big5hkscs": ("big5hkscs", "cp950"),
    "cnbig5": ("cp950", "big5hkscs"),
    "xxbig5": ("cp950", "big5hkscs"),
    "csbig5": ("cp950", "big5hkscs"),
    "cp950": ("cp950", "big5hkscs"),
    "ksc56011987": ("cp949",),
    "ksc5601": ("cp949",),
    "ksc56011989": ("cp949",),
    "ksc5601_1987": ("cp949",),
    "euckr": ("cp949",),
    "cseuckr": ("cp949",),
    "korean": ("cp949",),
    "xwindows949": ("cp949",),
    "windows949": ("cp949",),
    "uhc": ("cp949",),
    "cp949": ("cp949",),
    "iso2022kr": ("iso2022_kr",),
    "shiftjis": ("cp932", "shift_jis_2004"),
    "sjis": ("cp932", "shift_jis_2004"),
    "xsjis": ("cp932", "shift_jis_2004"),
    "mskanji": ("cp932", "shift_jis_2004"),
    "csshiftjis": ("cp932", "shift_jis_2004"),
    "windows31j": ("cp932",),
    "cp932": ("cp932",),
    "eucjp": ("euc_jp", "euc_jis_2004", "cp932"),
    "xeucjp": ("euc_jp", "euc_jis_2004"),
    "cseucpkdfmtjapanese": ("euc_jp", "euc_jis_2004"),
    "iso2022jp": ("iso2022_jp_2", "iso2022_jp_ext", "iso2022_jp_ms", "iso2022_jp_3"),
    "csiso2022jp": ("iso2022_jp_2", "iso2022_jp_ext", "iso2022_jp_ms", "iso2022_jp_3"),
    "iso2022jp2": ("iso2022_jp_2", "iso2022_jp_3"),
    "iso2022jp3": ("iso2022_jp_3",),
    "koi8r": ("koi8-r",),
    "koi8u": ("koi8-u",),
    "cskoi8r": ("koi8-r",),
    "xmaccyrillic": ("mac-cyrillic",),
    "macintosh": ("mac-roman",),
}

_WINDOWS = re.compile(r"^(?:windows|win|xcp|cp|ms)(125\d)$")
_ISO8859 = re.compile(r"^(?:iso)?8859(\d{1,2})$")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_ISO2022_ESCAPE = re.compile(rb"\x1b\$[@B(]|\x1b\(I")

# Codecs that succeed on almost any input; a strict success proves nothing.
_PERMISSIVE = frozenset({"latin-1", "iso8859-1"})
_ISO2022_JP = ("iso2022_jp_2", "iso2022_jp_ext", "iso2022_jp_ms", "iso2022_jp_3")
# Not a Python codec: ISO-2022-JP as Windows writes it, see _decode_iso2022_jp_ms.
_ISO2022_JP_MS = "iso2022_jp_ms"
_JIS_DESIGNATION = re.compile(rb"\x1b(\$[@B]|\([BJI]|&@)")
_JIS_X_0208 = (b"$@", b"$B")
_JIS_KATAKANA = b"(I"
# Codecs in which pure 7-bit bytes do not simply mean ASCII text.
_ASCII_UNSAFE = frozenset({"utf-7", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "hz"})
_DETECT_SAMPLE = 64 * 1024
_MAX_REPLACEMENT_SHARE = 0.02
_UTF8_EVIDENCE = 4
# U+0080-U+009F in UTF-8: 0xC2 is only ever a lead byte, so this finds exactly those.
_UTF8_C1_CONTROL = re.compile(rb"\xc2[\x80-\x9f]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Raw 8-bit header bytes are tried in these when neither detection nor the
# body's label gives a plausible reading, most used first.
_CJK_CODECS = ("gb18030", "cp932", "cp950", "cp949", "euc_jp")
# Two 8-bit bytes in a row: double-byte text has them, Latin text with a few accents rarely does.
_HIGH_PAIR = re.compile(rb"[\x80-\xff]{2}")
_HIGH_BYTES = bytes(range(0x80, 0x100))
# Fewer 8-bit bytes than this (about four double-byte characters) make a short header text.
_SHORT_HEADER = 8
# Symbols CJK text uses freely (dashes, quotes, ※, arrows, Ⅰ, ①, ■, ★): no evidence either way.
_NEUTRAL_SYMBOLS = re.compile(r"[\u2010-\u203f\u2150-\u21ff\u2460-\u24ff\u25a0-\u26ff]")


@lru_cache(maxsize=512)
def codecs_for(label: str | None) -> tuple[str, ...]:
    """Python codecs to try, in order, for a charset label; empty if unknown.

    Only real text codecs are returned, so a label such as ``base64`` or
    ``rot13`` (which Python knows as byte transforms) counts as unknown.
    """
    if not label:
        return ()
    cleaned = label.strip().strip("\"'").lower()
    if "'" in cleaned:  # RFC 2231 leftovers: charset'lang'
        cleaned = cleaned.split("'", 1)[0]
    key = _NOT_ALNUM.sub("", cleaned)
    if not key:
        return ()
    if key in _ALIASES:
        return _ALIASES[key]
    windows = _WINDOWS.match(key)
    if windows:
        return (f"cp{windows.group(1)}",)
    iso = _ISO8859.match(key)
    if iso:
        return _real_codecs((f"iso8859-{iso.group(1)}",))
    return _real_codecs((cleaned, key))


def _real_codecs(names: tuple[str, ...]) -> tuple[str, ...]:
    for name in names:
        try:
            info = codecs.lookup(name)
        except (LookupError, ValueError):
            continue
        if getattr(info, "_is_text_encoding", True):
            return (info.name,)
    return ()


def detect_codec(data: bytes) -> str | None:
    """A statistical guess at the codec of undeclared or mislabelled bytes."""
    if _ISO2022_ESCAPE.search(data):
        return _ISO2022_JP[0]
    try:  # imported on first need: only mail without a usable label pays for loading it
        import chardet
        from chardet.enums import EncodingEra
    except ImportError:  # pragma: no cover - chardet is a declared dependency
        return None
    # Mail is written in web-era and ISO charsets; DOS, Mac and mainframe code
    # pages only produce confident nonsense on short samples.
    result = chardet.detect(data[:_DETECT_SAMPLE], encoding_era=EncodingEra.MODERN_WEB | EncodingEra.LEGACY_ISO)
    guessed = codecs_for(result.get("encoding"))
    return guessed[0] if guessed else None


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode ``data`` following the chain in the module docstring; never raises."""
    if not data:
        return ""
    has_high = not data.isascii()
    candidates = codecs_for(declared)
    if not has_high:
        if b"\x1b" in data and _ISO2022_ESCAPE.search(data):
            if not any(codec.startswith("iso2022") for codec in candidates):
                candidates = _ISO2022_JP + candidates
        elif not candidates or candidates[0] not in _ASCII_UNSAFE:
            return data.decode("ascii")
    elif candidates and _single_byte(candidates[0]):
        # Mislabelled UTF-8 is far more common than Latin text that happens to be valid UTF-8.
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if not _UTF8_C1_CONTROL.search(data):  # faster than searching the text for U+0080-U+009F
                return text
    for codec in candidates:
        if codec in _PERMISSIVE and codec != candidates[0]:
            continue
        try:
            return _decode(data, codec)
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        damaged = _damaged_utf8(data)
        if damaged is not None:
            return damaged
    guessed = detect_codec(data) if has_high else None
    if guessed:
        try:
            return data.decode(guessed)
        except (UnicodeDecodeError, LookupError):
            pass
    for codec in candidates:
        text = _decode(data, codec, "replace")
        if text.count("\ufffd") <= max(1, int(len(text) * _MAX_REPLACEMENT_SHARE)):
            return text
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _decode(data: bytes, codec: str, errors: str = "strict") -> str:
    """``data.decode(codec, errors)``, for the codecs of :func:`codecs_for` (one of which Python lacks)."""
    if codec != _ISO2022_JP_MS:
        return data.decode(codec, errors)
    try:
        return _decode_iso2022_jp_ms(data, errors)
    except UnicodeDecodeError:
        if errors == "strict":
            raise
        return data.decode("iso2022_jp_ext", errors)


def _decode_iso2022_jp_ms(data: bytes, errors: str) -> str:
    """ISO-2022-JP as Windows writes it (code page 50220): JIS X 0208 with the NEC and IBM rows.

    Japanese mail labelled iso-2022-jp is full of characters Python's
    iso2022_jp codecs reject: NEC's row 13 (①, Ⅰ, ㈱, ㍉) and the IBM
    extensions in rows 89 to 92 (髙, 﨑).  Every double-byte character is
    moved to its Shift_JIS code, where cp932 has them all, and JIS X 0201
    katakana to its Shift_JIS byte; ASCII and JIS Roman pass through.  Any
    other designation (JIS X 0212, GB 2312, KS C 5601) fails here and is
    left to iso2022_jp_2 and iso2022_jp_3.
    """
    out = bytearray()
    charset = b"(B"
    position = 0
    for designation in _JIS_DESIGNATION.finditer(data):
        out += _jis_to_shift_jis(data, position, designation.start(), charset)
        if designation.group(1) != b"&@":  # "&@" only announces the 1990 edition of the next set
            charset = designation.group(1)
        position = designation.end()
    out += _jis_to_shift_jis(data, position, len(data), charset)
    return out.decode("cp932", errors)


def _jis_to_shift_jis(data: bytes, start: int, end: int, charset: bytes) -> bytes:
    """``data[start:end]``, written in the ISO-2022-JP ``charset`` designated before it, as Shift_JIS bytes."""
    chunk = data[start:end]
    if b"\x1b" in chunk or not chunk.isascii():
        raise UnicodeDecodeError(_ISO2022_JP_MS, data, start, end, "not ISO-2022-JP as Windows writes it")
    if charset == _JIS_KATAKANA:
        return bytes(byte + 0x80 if 0x21 <= byte <= 0x5F else byte for byte in chunk)
    if charset not in _JIS_X_0208:
        return chunk
    out = bytearray()
    index = 0
    while index < len(chunk):
        first = chunk[index]
        if first < 0x21:  # a line end left inside double-byte text, as careless writers do
            out.append(first)
            index += 1
            continue
        second = chunk[index + 1] if index + 1 < len(chunk) else 0
        if not (first <= 0x7E and 0x21 <= second <= 0x7E):
            raise UnicodeDecodeError(_ISO2022_JP_MS, data, start + index, end, "incomplete double-byte character")
        row, cell = first - 0x21, second - 0x21
        out.append((row >> 1) + (0x81 if row < 62 else 0xC1))
        out.append(cell + (0x40 if cell < 63 else 0x41) if row % 2 == 0 else cell + 0x9F)
        index += 2
    return bytes(out)


def _damaged_utf8(data: bytes) -> str | None:
    """UTF-8 with a few broken sequences (a truncated last character, say)."""
    text = data.decode("utf-8", "replace")
    broken = text.count("\ufffd")
    decoded = len(_NON_ASCII.findall(text)) - broken
    return text if decoded >= _UTF8_EVIDENCE * broken else None


@lru_cache(maxsize=128)
def _single_byte(codec: str) -> bool:
    """True for 8-bit codecs where stray UTF-8 most likely means a wrong label."""
    return codec.startswith(("cp125", "iso8859", "latin", "koi8", "mac-", "cp874", "tis"))


def decode_header_bytes(data: bytes, hint: str | None = None) -> str:
    """Decode raw 8-bit header bytes (no RFC 2047 wrapping), judged by the bytes themselves.

    Mailers write such headers in their own charset, which need not be the
    body's (``hint``) and often is not: a UTF-8 subject over a Shift_JIS
    body, a GBK subject over a body without a label.  UTF-8 comes first, as
    everywhere.  Then, unless the bytes are Latin text (lone 8-bit bytes) or
    detection finds single-byte text that reads as words, the statistical
    guess, the body's charset and the common CJK codecs are tried, and the
    first reading that looks like CJK text (see :func:`_implausible`) wins.
    On a short string, a name of two or three characters, detection is
    weak, so there the body's charset goes before the guess.  Under a
    single-byte body label (Latin, Cyrillic, Greek mail), or when no reading
    looks right, the usual chain of :func:`decode_bytes` decides.
    """
    hinted = codecs_for(hint)
    if data.isascii() or (hinted and _single_byte(hinted[0])):
        return decode_bytes(data, hint)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if not _HIGH_PAIR.search(data):
        return decode_bytes(data, hint)  # accented letters among ASCII ones: no double-byte text has this shape
    guessed = detect_codec(data)
    if guessed is not None and _single_byte(guessed):
        text = data.decode(guessed, "replace")
        if _reads_as_words(text):
            return text
    # Statistics on a few bytes are weak: for a short string the body's charset is the better first try.
    short = len(data) - len(data.translate(None, _HIGH_BYTES)) < _SHORT_HEADER
    preferred = (*hinted, guessed) if short else (guessed, *hinted)
    best, best_bad, best_total = None, 0, 0
    for codec in dict.fromkeys((*preferred, *_CJK_CODECS)):  # in order of preference, without repeats
        if codec is None or _single_byte(codec) or codec in _PERMISSIVE:
            continue
        try:
            text = _decode(data, codec)
        except (UnicodeDecodeError, LookupError):
            continue
        bad, total = _implausible(text)
        if not bad:
            return text
        if best is None or bad < best_bad:
            best, best_bad, best_total = text, bad, total
    if best is not None and 2 * best_bad <= best_total:
        return best
    return decode_bytes(data, hint)


def _reads_as_words(text: str) -> bool:
    """Letters in words written in lower case, capitalised or in capitals, as a single-byte reading of real text is."""
    return all(
        not word.isalpha() or word.islower() or word.istitle() or word.isupper() for word in text.split()
    ) and all(char.isalpha() or char.isascii() for char in text)


def _implausible(text: str) -> tuple[int, int]:
    """How many characters of ``text`` a wrong CJK reading typically gives, out of how many that count.

    Wrong readings give half-width katakana, private-use characters,
    Greek, Cyrillic and box drawing in the middle of CJK, rare ideographs,
    Hangul syllables outside KS X 1001, or Hangul and Han mixed.  Kana,
    CJK punctuation, full-width forms and :data:`_NEUTRAL_SYMBOLS` are fine.
    """
    bad = total = han = hangul = 0
    for char in text:
        code = ord(char)
        if code < 0x80 or _NEUTRAL_SYMBOLS.match(char):
            continue
        total += 1
        if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
            han += 1
            bad += not _common_ideograph(char)
        elif 0xAC00 <= code <= 0xD7A3:
            hangul += 1
            bad += not _ks_x_1001(char)
        elif not (0x3000 <= code <= 0x30FF or 0xFF01 <= code <= 0xFF5E):
            bad += 1
    return bad + min(han, hangul), total


@lru_cache(maxsize=4096)
def _common_ideograph(char: str) -> bool:
    """In the first (most used) level of GB 2312, JIS X 0208 or Big5."""
    for codec, first, last in (("gb2312", 0xB0, 0xD7), ("euc_jp", 0xB0, 0xCF), ("big5", 0xA4, 0xC6)):
        try:
            encoded = char.encode(codec)
        except UnicodeEncodeError:
            continue
        if first <= encoded[0] <= last:
            return True
    return False


@lru_cache(maxsize=2048)
def _ks_x_1001(char: str) -> bool:
    """One of the 2,350 Hangul syllables of KS X 1001, which Korean text keeps to."""
    try:
        return len(char.encode("euc_kr")) == 2
    except UnicodeEncodeError:
        return False
