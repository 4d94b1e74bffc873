"""Mail damaged in transit, or just unusual, still becomes a ticket with the right subject, sender and body."""

from __future__ import annotations

import pytest

from channels.email import parse_email
from channels.email.charsets import decode_bytes

# fixture, subject, sender address (the customer's identity key), display name, body text
FIXTURES = [
    (
        # ">From anna.berg" before the header
        "damaged-stray-line-before-headers.eml",
        "Parcel 7731 has not arrived",
        "anna.berg@example.se",
        "Anna Berg",
        "Hej! Mitt paket 7731 har inte kommit fram än.\nKan ni kolla spårningen?",
    ),
    (
        # subject and encoded name folded without white space; "size guide says:" is no field name
        "damaged-unfolded-subject.eml",
        "Wrong size delivered for order 1042, please exchange size guide says: 38 is M",
        "anna-maria.bjork@example.se",
        "Anna-Maria Björk",
        "Hello, I ordered size M but got an S. Can I swap it?",
    ),
    (
        # an open quoted name takes the next line, though "(Returns:" looks like a field
        "damaged-unfolded-quoted-name.eml",
        "Return label",
        "karin.lindqvist@example.se",
        "Lindqvist, Karin (Returns: Stockholm)",
        "Please send me a return label for order 2210.",
    ),
    (
        # raw 8-bit headers without RFC 2047: a UTF-8 subject and name over a Shift_JIS body
        "cjk-raw-utf8-subject-sjis-body.eml",
        "【返品】サイズが合いませんでした",
        "misaki.yamamoto@example.jp",
        "山本 美咲",
        "お世話になっております。\n届いた靴のサイズが合わないため、返品を希望します。",
    ),
    (
        # GBK subject and name, no charset anywhere
        "cjk-raw-gbk-subject-no-charset.eml",
        "订单 58213 物流查询",
        "wang.zhe@example.cn",
        "王喆",
        "您好，我的订单 58213 已经十天了还没有收到，请帮我查询物流状态。谢谢！",
    ),
    (
        # a Shift_JIS display name (detection alone takes it for Korean) over an ISO-2022-JP body
        "cjk-raw-sjis-from-name.eml",
        "注文番号 3307 の件",
        "ichiro.sato@example.jp",
        "佐藤 一郎",
        "領収書の発行をお願いできますか。",
    ),
    (
        "cjk-raw-euckr-headers.eml",
        "배송이 아직 안 왔어요",
        "minsu.kim@example.kr",
        "김민수",
        "주문한 지 2주가 지났는데 아직 배송이 안 왔습니다. 확인 부탁드립니다.",
    ),
    (
        # Big5 headers over a body labelled us-ascii
        "cjk-raw-big5-headers.eml",
        "退貨申請 訂單 4410",
        "chihming.lin@example.tw",
        "林志明",
        "Hello, I would like to return order 4410. Thanks.",
    ),
    (
        # ISO-2022-JP as Windows writes it: NEC row 13 (①, Ⅱ, ㈱) and IBM extensions (髙, 﨑)
        "iso2022jp-nec-ibm-extensions.eml",
        "【ご確認】注文①と②のお届け日（Ⅱ期分）",
        "ichiro.takahashi@example.jp",
        "髙橋 一郎",
        "㈱山﨑商店 御中\n\nいつもお世話になっております。髙橋です。\n"
        "先日注文した以下の商品について確認させてください。\n"
        "① 収納ボックス Ⅲ型 ×２\n② 延長コード ３ｍ\n①は届きましたが、②がまだ届いていません。",
    ),
    # valid addresses with quoted local parts come out exactly, quotes and all
    (
        "quoted-local-part-double-dot.eml",
        "Invoice for order 5120",
        '"john..doe"@example.com',
        "John Doe",
        "Could you send me the invoice for order 5120, please?",
    ),
    (
        "quoted-local-part-space.eml",
        "Tracking number",
        '"first last"@example.com',
        None,
        "Hi, my tracking number does not work.",
    ),
    (
        "quoted-local-part-escaped-quote.eml",
        "Damaged lid",
        '"a\\"b"@example.com',
        "Ann O'Brien",
        "The lid of the kettle arrived cracked.",
    ),
    (
        "quoted-local-part-at-sign.eml",
        "Bulk order",
        '"user@internal"@example.com',
        "Jörg Meyer",
        "We would like to order 40 units for our office.",
    ),
]


@pytest.mark.parametrize(("name", "subject", "address", "display_name", "body"), FIXTURES)
def test_subject_sender_and_body(fixture_mail, name, subject, address, display_name, body):
    message = fixture_mail(name)

    assert message.subject == subject
    assert message.sender.email == address
    assert message.sender.name == display_name
    assert message.body_text == body


def test_fields_below_the_damage_are_read(fixture_mail):
    message = fixture_mail("damaged-unfolded-subject.eml")

    assert message.external_id == "unfolded-0002@example.se"
    assert message.meta["to"] == "support@seller.example"


@pytest.mark.parametrize("stray", [">From someone", "From", "garbage", "X", "\u00a0"])
def test_any_short_stray_line_before_the_header_is_passed_over(make_mail, stray):
    raw = stray.encode() + b"\r\n" + make_mail("From: Anna Berg <anna@example.se>", "Subject: Parcel")
    message = parse_email(raw, account="support")

    assert (message.subject, message.sender.email) == ("Parcel", "anna@example.se")
    assert message.body_text == "Hello, where is my parcel?"


def test_mail_without_the_blank_line_keeps_its_first_body_line():
    raw = b"From: anna@example.se\r\nSubject: Parcel\r\nHello,\r\nwhere is my parcel?\r\n"
    message = parse_email(raw, account="support")

    assert message.subject == "Parcel"
    assert message.body_text == "Hello,\nwhere is my parcel?"


@pytest.mark.parametrize(
    ("data", "label", "expected"),
    [
        (b'\x1b$B-!-"-5\x1b(B', "iso-2022-jp", "①②Ⅰ"),  # NEC row 13
        (b"\x1b$B|byu\x1b(B", "ISO-2022-JP", "髙﨑"),  # IBM extensions, as NEC placed them
        (b"\x1b$B-j\x1b(B \x1b(I10\x1b(B", None, "㈱ ｱｰ"),  # no label; JIS X 0201 katakana too
        # without extensions the strict codec reads it, with the JIS mapping ("〜", not "～")
        (b"\x1b$B!A\x1b(B", "iso-2022-jp", "\u301c"),
    ],
)
def test_iso2022jp_with_windows_extensions(data, label, expected):
    assert decode_bytes(data, label) == expected
