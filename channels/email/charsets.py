"""Turn mail bytes into text whatever charset label they carry.

Mail charset labels lie: ``us-ascii`` on Big5 text, ``iso-8859-1`` on UTF-8,
``uft-8``, ``gb2312`` on GBK, Shift_JIS written by Windows with NEC
extensions.  Decoding therefore walks a chain and never raises:

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

__all__ = ["codecs_for", "decode_bytes", "detect_codec"]

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
    "iso2022jp": ("iso2022_jp_2", "iso2022_jp_ext", "iso2022_jp_3"),
    "csiso2022jp": ("iso2022_jp_2", "iso2022_jp_ext", "iso2022_jp_3"),
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
_ISO2022_JP = ("iso2022_jp_2", "iso2022_jp_ext", "iso2022_jp_3")
# Codecs in which pure 7-bit bytes do not simply mean ASCII text.
_ASCII_UNSAFE = frozenset({"utf-7", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "hz"})
_DETECT_SAMPLE = 64 * 1024
_MAX_REPLACEMENT_SHARE = 0.02
_UTF8_EVIDENCE = 4
# U+0080-U+009F in UTF-8: 0xC2 is only ever a lead byte, so this finds exactly those.
_UTF8_C1_CONTROL = re.compile(rb"\xc2[\x80-\x9f]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


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
            return data.decode(codec)
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
        text = data.decode(codec, "replace")
        if text.count("\ufffd") <= max(1, int(len(text) * _MAX_REPLACEMENT_SHARE)):
            return text
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


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
