"""Header reading: the quick paths give what the general ones give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_tz

import pytest

from channels.email.headers import (
    clean_text,
    decode_header_value,
    normalise_space,
    parse_address,
    parse_address_list,
    parse_date,
    received_dates,
)


def stdlib_date(value: str) -> datetime | None:
    """What the stdlib's tokeniser and arithmetic make of ``value`` (no year floor)."""
    parts = parsedate_tz(value)
    if parts is None:
        return None
    zone = timezone(timedelta(seconds=parts[9] or 0))
    return datetime(*parts[:6], tzinfo=zone).astimezone(UTC)


@pytest.mark.parametrize(
    "value",
    [
        "Mon, 5 Jan 2026 09:14:00 +0100",
        "Mon,5 Jan 2026 09:14 +0100",
        "5 jan 2026 09:14:00 -0000",
        "Tue, 31 Dec 2024 23:59:59 -2359 (very far west)",
        "Wed, 1 Jan 1980 01:00:00 +0200",
        "Thu, 29 Feb 2024 12:00:00 +0530",
    ],
)
def test_common_date_shapes_read_as_the_stdlib_reads_them(value):
    assert parse_date(value) == stdlib_date(value)
    assert parse_date(value).tzinfo == UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Mon, 31 Dec 1979 23:30:00 -0100", None),  # 1980 in UTC, but the sender's own year is 1979
        ("Mon, 5 Jan 2026 24:00:00 +0100", None),
        ("Mon, 32 Jan 2026 10:00:00 +0100", None),
        ("Mon, 5 Foo 2026 10:00:00 +0100", None),
        ("Mon, 5 Jan 2026 10:00:00 +2400", None),
        ("Mon 5 Jan 2026 10:00:00 +0100", datetime(2026, 1, 5, 9, tzinfo=UTC)),
        ("Mon, 5 Jan 2026 10:00:00 EST", datetime(2026, 1, 5, 15, tzinfo=UTC)),
        ("Mon, 5 Jan 26 10:00:00 +0000", datetime(2026, 1, 5, 10, tzinfo=UTC)),
    ],
)
def test_other_date_shapes(value, expected):
    assert parse_date(value) == expected


def test_received_stamps_are_read_lazily():
    stamps = received_dates(["from a by b; Mon, 5 Jan 2026 10:00:00 +0000", "no stamp", "x; not a date"])

    assert next(stamps) == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert list(stamps) == []


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["a@x.example, B <b@x.example>; c@x.example"], ["a@x.example", "b@x.example", "c@x.example"]),
        (['"Doe, Jane" <jane@x.example>, "Roe; Rob" <rob@x.example>'], ["jane@x.example", "rob@x.example"]),
        (["a@x.example (a, comment (nested, too)), b@x.example"], ["a@x.example", "b@x.example"]),
        (["<a@x.example>, <a@x.example>", "A <A@X.example>"], ["a@x.example"]),
        (["=?utf-8?q?D=C3=B6e=2C_J?= <j@x.example>, undisclosed-recipients:;"], ["j@x.example"]),
        (['"unclosed <u@x.example>, v@x.example'], ["u@x.example"]),
    ],
)
def test_address_lists(values, expected):
    assert parse_address_list(values) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("=?utf-8?B?w7Y=?=", "ö"),
        ("=?utf-8?B?w7Y?=", "ö"),  # padding missing
        ("=?utf-8?B?w7-Y=?=", "ö"),  # junk inside
        ("=?utf-8?B?w7Y=ignored?=", "ö"),
        ("=?utf-8?Q?a=3Db?=", "a=b"),
        ("=?utf-8?Q?a=3?=", "a=3"),  # a broken escape stays as it is
        ("=?utf-8?Q?a=?= =?utf-8?Q?3Db?=", "a=3Db"),  # escapes never span two words
        ("=?utf-8?q?Die_hei=C3=9Fe?=\r\n =?utf-8?q?_Sonne?=", "Die heiße Sonne"),
    ],
)
def test_encoded_word_edge_cases(raw, expected):
    assert decode_header_value(raw) == expected


def test_control_characters_are_removed_from_long_and_short_text():
    long_text = "line\tof text\n" * 200

    assert clean_text(long_text) is long_text
    assert clean_text(long_text + "\x00\x1b") == long_text
    assert clean_text("Café\u00a0au lait") == "Café\u00a0au lait"
    assert clean_text("a\udcffb\x7f") == "a\ufffdb"


def test_white_space_is_collapsed_including_unicode_spaces():
    assert normalise_space("  a\u3000 b\u2028\tc\n") == "a b c"


def raw_header(text: str, codec: str) -> str:
    """``text`` as the parser hands over raw 8-bit header bytes written in ``codec``."""
    return text.encode(codec).decode("ascii", "surrogateescape")


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("【返品】サイズが合いませんでした", "utf-8"),
        ("订单 58213 物流查询", "gbk"),
        ("我的订单还没有收到", "gb2312"),
        ("王喆", "gbk"),  # a rare character in a two-character name
        ("佐藤 一郎", "shift_jis"),  # statistics alone take this for Korean
        ("注文について", "euc_jp"),
        ("배송이 아직 안 왔어요", "euc_kr"),
        ("김민수", "euc_kr"),
        ("退貨申請 訂單 4410", "big5"),
        ("陳大文", "big5"),
    ],
)
@pytest.mark.parametrize("body_charset", [None, "utf-8", "us-ascii", "iso-2022-jp"])
def test_raw_cjk_headers_are_read_by_their_own_bytes_not_the_body_charset(text, codec, body_charset):
    assert decode_header_value(raw_header(text, codec), body_charset) == text


@pytest.mark.parametrize(
    ("text", "codec", "body_charset"),
    [
        ("订单 58213 物流查询", "gbk", "shift_jis"),
        ("注文番号 3307 の件", "shift_jis", "gb2312"),
        ("退貨申請 訂單 4410", "big5", "euc-kr"),
        ("田中", "euc_jp", "euc-jp"),  # too short for statistics: the body's charset reads it
    ],
)
def test_raw_cjk_headers_under_another_cjk_body_charset(text, codec, body_charset):
    assert decode_header_value(raw_header(text, codec), body_charset) == text


@pytest.mark.parametrize(
    ("text", "codec"),
    [("Grüße aus Köln", "cp1252"), ("Straße", "latin-1"), ("Иван", "cp1251"), ("Заказ не пришёл", "koi8-r")],
)
@pytest.mark.parametrize("body_charset", [None, "utf-8", "us-ascii"])
def test_raw_latin_and_cyrillic_headers_are_not_read_as_cjk(text, codec, body_charset):
    assert decode_header_value(raw_header(text, codec), body_charset) == text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"john..doe"@example.com', (None, '"john..doe"@example.com')),
        ('"first last"@example.com', (None, '"first last"@example.com')),
        ('"a\\"b"@example.com', (None, '"a\\"b"@example.com')),
        ('"user@internal"@example.com', (None, '"user@internal"@example.com')),
        ('Jo <"user@internal"@Example.COM>', ("Jo", '"user@internal"@example.com')),  # lowercased as any address
        ("a@b@c", (None, "a@b")),  # outside quotes a second "@" is still no address
    ],
)
def test_quoted_local_parts(value, expected):
    assert parse_address(value) == expected
    assert parse_address_list([f"x@y.example, {value}"]) == ["x@y.example", expected[1]]
