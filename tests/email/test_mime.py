"""The MIME layer: headers, charsets, structure, attachments, dates and ids."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import time_machine

from channels.base import AutoKind
from channels.email import MailParseError, parse_email
from channels.email.charsets import codecs_for, decode_bytes
from channels.email.headers import decode_header_value, header_params, message_ids, parse_address, parse_date
from channels.email.language import guess_language

MAIL_DIR = Path(__file__).resolve().parents[1] / "data" / "mail"

# --- hand-made charset fixtures ---------------------------------------------


def test_iso2022jp_subject_sender_and_body(fixture_mail):
    message = fixture_mail("iso2022jp-subject.eml")

    assert message.subject == "【至急】注文番号 1042 の配送について"
    assert message.sender.name == "佐藤 一郎"
    assert message.sender.email == "ichiro.sato@example.jp"
    assert message.body_text == "お世話になっております。\n注文した商品がまだ届いていません。\n確認をお願いいたします。"
    assert message.language == "ja"


def test_broken_encoded_words_and_misspelled_charset(fixture_mail):
    message = fixture_mail("broken-encoded-word.eml")

    # the "ü" is split across two encoded words and the first lacks its padding;
    # the third word names a charset nobody knows
    assert message.subject == "Rückfrage zu Bestellung (dringend)"
    assert message.sender.name == "Jürgen Müller"
    assert message.body_text.endswith("Grüße, Jürgen")  # declared "uft-8", sent as 8bit


def test_koi8r_body_and_headers(fixture_mail):
    message = fixture_mail("koi8r-body.eml")

    assert message.subject == "Заказ не пришёл"
    assert message.sender.name == "Иван Петров"
    assert message.body_text.startswith("Здравствуйте!\nМой заказ до сих пор не пришёл.")
    assert message.language == "ru"


def test_big5_body(fixture_mail):
    message = fixture_mail("big5-body.eml")

    assert message.subject == "查詢訂單"
    assert message.sender.name == "陳大文"
    assert message.body_text == "您好，我的訂單還沒有收到。請幫我查詢一下物流狀態，謝謝。"
    assert message.language == "zh"


def test_gb2312_label_is_decoded_as_gb18030(fixture_mail):
    message = fixture_mail("gb2312-body.eml")

    assert message.subject == "物流查询"
    assert "王喆" in message.body_text  # 喆 exists in GBK/GB18030 but not in GB2312


# --- charsets ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("GB2312", "gb18030"),
        ("gbk", "gb18030"),
        ("ks_c_5601-1987", "cp949"),
        ("EUC-KR", "cp949"),
        ("Shift_JIS", "cp932"),
        ("iso-2022-jp", "iso2022_jp_2"),
        ("uft-8", "utf-8"),
        ("UTF8", "utf-8"),
        ("windows-1251", "cp1251"),
        ("x-cp1250", "cp1250"),
        ("ISO_8859-2", "iso8859-2"),
        ("koi8-r", "koi8-r"),
        ("utf-7", "utf-7"),
        ("Big5", "cp950"),
    ],
)
def test_charset_labels_map_to_the_codecs_senders_really_use(label, codec):
    assert codecs_for(label)[0] == codec


@pytest.mark.parametrize("label", [None, "", "unknown-8bit", "x-unknown", "base64", "rot13", "charset", "NONE"])
def test_unknown_or_non_text_labels_are_unknown(label):
    assert codecs_for(label) == ()


@pytest.mark.parametrize(
    ("data", "label", "expected"),
    [
        ("Grüße".encode(), "iso-8859-1", "Grüße"),  # mislabelled UTF-8
        ("Grüße".encode("cp1252"), "utf-8", "Grüße"),  # mislabelled Windows-1252
        ("Grüße".encode("cp1252"), None, "Grüße"),
        ("Zamówienie".encode("iso-8859-2"), "iso-8859-2", "Zamówienie"),
        ("€ 10".encode("cp1252"), "us-ascii", "€ 10"),
        ("Hi +- there".encode("utf-7"), "utf-7", "Hi +- there"),
        ("注文".encode("iso2022_jp"), None, "注文"),  # escape sequences, no label
        ("Привет".encode("cp1251"), "windows-1251", "Привет"),
    ],
)
def test_decode_chain(data, label, expected):
    assert decode_bytes(data, label) == expected


@pytest.mark.parametrize("label", [None, "utf-8", "iso-2022-jp", "big5", "utf-7", "nonsense", "utf-16"])
def test_decoding_never_raises(label):
    junk = bytes(range(256)) * 3
    assert isinstance(decode_bytes(junk, label), str)


# --- headers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("=?utf-8?q?Gr=C3=BC=C3=9Fe?=", "Grüße"),
        ("=?UTF-8?B?R3LDvMOfZQ==?=", "Grüße"),
        ("=?uTf-8?b?R3LDvMOfZQ?=", "Grüße"),  # mixed case, no padding
        ("Re: =?iso-8859-1?q?Bestellung_f=FCr?=\r\n =?iso-8859-1?q?_Herrn?= M.", "Re: Bestellung für Herrn M."),
        ("=?utf-8?q?a?= =?utf-8?q?b?=", "ab"),  # whitespace between encoded words vanishes
        ("=?utf-8?q?a?= plain =?utf-8?q?b?=", "a plain b"),
        ("prefix=?utf-8?q?glued?=suffix", "prefixgluedsuffix"),
        ("=?NONE?B?VEVTVA=?=", "TEST"),
        ("=?utf-8*de?q?Hallo?=", "Hallo"),  # RFC 2231 language tag
        ("=?utf-8?q?unterminated", "=?utf-8?q?unterminated"),
    ],
)
def test_encoded_words(raw, expected):
    assert decode_header_value(raw) == expected


def test_raw_utf8_header_bytes_are_decoded(make_mail):
    raw = make_mail("From: Jöhn <john@example.com>", "Subject: Säying Hello")
    message = parse_email(raw, account="a")

    assert message.subject == "Säying Hello"
    assert message.sender.name == "Jöhn"


def test_raw_legacy_header_bytes_use_the_body_charset():
    raw = (
        "From: support@example.jp\r\nSubject: 注文の件\r\n"
        "Content-Type: text/plain; charset=Shift_JIS\r\n\r\nよろしくお願いします\r\n"
    ).encode("shift_jis")
    message = parse_email(raw, account="a")

    assert message.subject == "注文の件"
    assert message.body_text == "よろしくお願いします"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('"Weber, Jonas" <Jonas.Weber@Example.DE>', ("Weber, Jonas", "jonas.weber@example.de")),
        ("=?utf-8?q?M=C3=BCller=2C_Anna?= <anna@example.de>", ("Müller, Anna", "anna@example.de")),
        ("anna@example.de (Anna Müller)", ("Anna Müller", "anna@example.de")),
        ("<anna@example.de>", (None, "anna@example.de")),
        ("Anna Müller", ("Anna Müller", None)),
        ("broken <no-address-here>", ("broken", None)),
        ("", (None, None)),
    ],
)
def test_addresses(raw, expected):
    assert parse_address(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<a@example.com> <b@example.com>\r\n\t<c@example.com>", ["a@example.com", "b@example.com", "c@example.com"]),
        ("<a@example.com> (Mary's message of 5 Jan)", ["a@example.com"]),
        ("a@example.com b@example.com", ["a@example.com", "b@example.com"]),
        ("<a@example.com>, <a@example.com>", ["a@example.com"]),
        ("<>", []),
        ("", []),
        ("<no-at-sign>", []),
    ],
)
def test_message_ids_are_parsed_tolerantly(raw, expected):
    assert message_ids(raw) == expected


def test_rfc2231_parameters_with_charset_and_continuations():
    params = header_params("attachment; filename*0*=utf-8''Rechnung%20M%C3%A4rz; filename*1*=.pdf; size=10")

    assert params == {"filename": "Rechnung März.pdf", "size": "10"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Mon, 05 Jan 2026 10:14:27 +0100", datetime(2026, 1, 5, 9, 14, 27, tzinfo=UTC)),
        ("5 Jan 2026 10:14:27 -0500", datetime(2026, 1, 5, 15, 14, 27, tzinfo=UTC)),
        ("Mon, 05 Jan 2026 10:14:27", datetime(2026, 1, 5, 10, 14, 27, tzinfo=UTC)),
        ("Fri, 21 Nov 1997 09(comment):   55  :  06 -0600", datetime(1997, 11, 21, 15, 55, 6, tzinfo=UTC)),
        ("not a date", None),
        ("Thu, 01 Jan 1970 00:00:00 +0000", None),
        ("", None),
    ],
)
def test_dates(raw, expected):
    assert parse_date(raw) == expected


# --- language hint -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hallo, meine Bestellung ist noch nicht angekommen.", "de"),
        ("Hi, tracking has not moved since Friday. Could you check?", "en"),
        ("Bonjour, je n'ai toujours pas reçu ma commande.", "fr"),
        ("Hola, todavía no he recibido mi pedido.", "es"),
        ("Ciao, il mio ordine non è ancora arrivato.", "it"),
        ("Hallo, mijn bestelling is nog niet ontvangen.", "nl"),
        ("Olá, ainda não recebi o meu pedido.", "pt"),
        ("Dzień dobry, nie otrzymałem jeszcze zamówienia.", "pl"),
        ("Hej, jag har inte fått min beställning ännu.", "sv"),
        ("Merhaba, siparişim henüz gelmedi.", "tr"),
        ("注文した商品がまだ届いていません。", "ja"),
        ("我的订单还没有到。", "zh"),
        ("주문한 상품이 아직 안 왔어요", "ko"),
        ("مرحبا، لم يصلني طلبي بعد", "ar"),
        ("Здравствуйте, заказ не пришёл", "ru"),
        ("ok", None),
        ("12345 67890 !!! https://example.com/a-b-c", None),
    ],
)
def test_language_guess(text, language):
    assert guess_language(text) == language


# --- the whole message -----------------------------------------------------------


def test_basic_fields(make_mail):
    raw = make_mail(
        "From: =?utf-8?q?Anna_M=C3=BCller?= <Anna.Mueller@Example.DE>",
        "To: Support <support@seller.example>, Sales <sales@seller.example>",
        "Subject: Wo ist\r\n\t  meine   Bestellung?",
        "Date: Mon, 05 Jan 2026 10:14:27 +0100",
        "Message-ID: <abc.123@example.de>",
        "In-Reply-To: <reply-1@seller.example>",
        "References: <first@seller.example>\r\n <reply-1@seller.example>",
    )
    message = parse_email(raw, account="support-de")

    assert message.channel == "email"
    assert message.account == "support-de"
    assert message.external_id == "abc.123@example.de"
    assert message.sender.email == "anna.mueller@example.de"
    assert message.sender.name == "Anna Müller"
    assert message.subject == "Wo ist meine Bestellung?"
    assert message.sent_at == datetime(2026, 1, 5, 9, 14, 27, tzinfo=UTC)
    assert message.in_reply_to == "reply-1@seller.example"
    assert message.references == ("first@seller.example", "reply-1@seller.example")
    assert message.thread_keys == ("first@seller.example", "reply-1@seller.example")
    assert message.meta["to"] == "support@seller.example, sales@seller.example"
    assert message.original == raw
    assert message.auto is None
    assert message.platform is None


def test_reply_to_is_kept_in_meta(make_mail):
    raw = make_mail("From: shop@example.com", "Reply-To: Anna <anna@example.de>", "Subject: x")

    assert parse_email(raw, account="a").meta["reply_to"] == "anna@example.de"


def test_sender_falls_back_to_sender_header(make_mail):
    raw = make_mail("From: undisclosed", "Sender: Anna <anna@example.de>", "Subject: x")
    message = parse_email(raw, account="a")

    assert message.sender.email == "anna@example.de"


def test_missing_message_id_gives_a_stable_content_hash(make_mail):
    raw = make_mail("From: anna@example.de", "Subject: no id", "Date: Mon, 05 Jan 2026 10:14:27 +0100")
    first = parse_email(raw, account="a").external_id
    again = parse_email(raw, account="b").external_id
    other = parse_email(raw.replace(b"parcel", b"refund"), account="a").external_id

    assert first == again
    assert first != other
    assert len(first) == 64
    assert int(first, 16) >= 0


@pytest.mark.parametrize("value", ["", "<>", "not an id", "<no-at-sign>"])
def test_garbage_message_ids_are_replaced_by_the_hash(make_mail, value):
    raw = make_mail("From: anna@example.de", f"Message-ID: {value}", "Subject: x")

    assert len(parse_email(raw, account="a").external_id) == 64


def test_empty_in_reply_to_is_none(make_mail):
    raw = make_mail("From: anna@example.de", "In-Reply-To: ", "References: garbage")
    message = parse_email(raw, account="a")

    assert message.in_reply_to is None
    assert message.references == ()


def test_missing_date_uses_the_latest_received_stamp(make_mail):
    raw = make_mail(
        "Received: from b by c; Mon, 05 Jan 2026 10:20:00 +0100",
        "Received: from a by b; Mon, 05 Jan 2026 10:15:00 +0100",
        "From: anna@example.de",
    )

    assert parse_email(raw, account="a").sent_at == datetime(2026, 1, 5, 9, 20, tzinfo=UTC)


def test_date_far_after_delivery_is_not_believed(make_mail):
    raw = make_mail(
        "Received: from a by b; Mon, 05 Jan 2026 10:15:00 +0000",
        "Date: Fri, 01 Jan 2038 00:00:00 +0000",
        "From: anna@example.de",
    )

    assert parse_email(raw, account="a").sent_at == datetime(2026, 1, 5, 10, 15, tzinfo=UTC)


def test_no_date_at_all_uses_received_at(make_mail):
    raw = make_mail("From: anna@example.de", "Date: yesterday-ish")
    stamp = datetime(2026, 1, 5, 12, 0, tzinfo=timezone(timedelta(hours=2)))

    assert parse_email(raw, account="a", received_at=stamp).sent_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    naive = datetime(2026, 1, 5, 12, 0)
    assert parse_email(raw, account="a", received_at=naive).sent_at == datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def test_no_date_and_no_received_at_is_now(make_mail):
    raw = make_mail("From: anna@example.de")
    with time_machine.travel(datetime(2026, 2, 3, 4, 5, tzinfo=UTC), tick=False):
        sent_at = parse_email(raw, account="a").sent_at

    assert sent_at == datetime(2026, 2, 3, 4, 5, tzinfo=UTC)
    assert sent_at.tzinfo is UTC


def test_html_only_mail_gets_text_without_script_or_style(fixture_mail):
    message = fixture_mail("html-only-script-style.eml")

    assert message.body_text == "Guten Tag,\n\nbitte senden Sie mir die Rechnung als PDF.\n\nDanke!"
    assert "do-not-show" not in message.body_text
    assert message.body_html is not None
    assert '<script>var tracking = "do-not-show";</script>' in message.body_html  # raw, sanitised at display


def test_alternative_takes_plain_text_and_html(make_mail):
    raw = make_mail(
        "From: anna@example.de",
        'Content-Type: multipart/alternative; boundary="b"',
        body=(
            "--b\nContent-Type: text/plain; charset=utf-8\n\nPlain version\n"
            "--b\nContent-Type: text/html; charset=utf-8\n\n<p>HTML <b>version</b></p>\n--b--\n"
        ),
    )
    message = parse_email(raw, account="a")

    assert message.body_text == "Plain version"
    assert message.body_html == "<p>HTML <b>version</b></p>"


def test_inline_text_parts_of_mixed_mail_are_joined(make_mail):
    raw = make_mail(
        "From: anna@example.de",
        'Content-Type: multipart/mixed; boundary="b"',
        body=(
            "--b\nContent-Type: text/plain\n\nFirst part\n"
            "--b\nContent-Type: image/png\nContent-Disposition: inline\n\nPNG\n"
            "--b\nContent-Type: text/plain\n\nSecond part\n--b--\n"
        ),
    )
    message = parse_email(raw, account="a")

    assert message.body_text == "First part\n\nSecond part"
    assert [a.filename for a in message.attachments] == ["attachment-1.png"]
    assert message.attachments[0].inline is True


def test_attachments_inline_images_and_rfc2231_names(fixture_mail):
    message = fixture_mail("outlook-reply-de.eml")

    image, invoice = message.attachments
    assert image.filename == "image001.png"
    assert image.content_id == "image001.png@01DC0000.00000000"
    assert image.inline is True
    assert image.content.startswith(b"\x89PNG")
    assert invoice.filename == "Rechnung März.pdf"
    assert invoice.content_type == "application/pdf"
    assert invoice.content == b"%PDF-1.4 synthetic test file"
    assert invoice.inline is False
    assert message.sender.name == "Becker, Lena"


def test_attachments_over_the_limit_are_dropped_and_listed(fixture_mail):
    message = fixture_mail("outlook-reply-de.eml", max_attachment_bytes=30)

    assert [a.filename for a in message.attachments] == ["Rechnung März.pdf"]
    assert message.meta["dropped_attachments"] == "image001.png (image/png, 32 bytes)"


def test_attached_message_keeps_its_bytes(make_mail):
    inner = "From: bob@example.com\nSubject: original\n\nInner body\n"
    raw = make_mail(
        "From: anna@example.de",
        'Content-Type: multipart/mixed; boundary="b"',
        body=f"--b\nContent-Type: text/plain\n\nSee below\n--b\nContent-Type: message/rfc822\n\n{inner}\n--b--\n",
    )
    attachment = parse_email(raw, account="a").attachments[0]

    assert attachment.content_type == "message/rfc822"
    assert attachment.filename == "message-1.eml"
    assert attachment.content == inner.replace("\n", "\r\n").encode()


@pytest.mark.parametrize("cte", ["quoted-printable;", "Quoted-Printable ", "QUOTED-PRINTABLE"])
def test_bogus_quoted_printable_labels_are_decoded(make_mail, cte):
    raw = make_mail("From: anna@example.de", f"Content-Transfer-Encoding: {cte}", body="Gr=C3=BC=C3=9Fe=\n!\n")

    assert parse_email(raw, account="a").body_text == "Grüße!"


def test_bad_base64_padding_is_tolerated(make_mail):
    data = base64.b64encode("Grüße aus Köln".encode()).decode().rstrip("=")
    raw = make_mail("From: anna@example.de", "Content-Transfer-Encoding: base-64", body=data + "\n")

    assert parse_email(raw, account="a").body_text == "Grüße aus Köln"


def test_nul_bytes_and_control_characters_are_removed(make_mail):
    raw = make_mail("From: anna@example.de", "Subject: a\x00b", body="line\x00one\x07\n")
    message = parse_email(raw, account="a")

    assert message.subject == "ab"
    assert message.body_text == "lineone"


def test_charset_on_the_enclosing_multipart_is_inherited():
    body = "您好".encode("gb18030")
    raw = (
        b'From: a@example.cn\r\nContent-Type: multipart/signed; charset="GB18030"; boundary="s"\r\n\r\n'
        b"--s\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body + b"\r\n--s--\r\n"
    )

    assert parse_email(raw, account="a").body_text == "您好"


def test_leading_blank_line_and_space_indented_first_header(make_mail):
    raw = b"\r\n  " + make_mail("From: anna@example.de", "Subject: indented")

    message = parse_email(raw, account="a")
    assert message.sender.email == "anna@example.de"
    assert message.subject == "indented"


def test_stray_line_in_the_header_block_does_not_hide_later_headers(make_mail):
    raw = make_mail("Received: by x; Mon, 05 Jan 2026 10:00:00 +0000", "quite Junk: here", "From: anna@example.de")

    assert parse_email(raw, account="a").sender.email == "anna@example.de"


def test_bounce_details_are_added_to_meta(make_mail):
    raw = make_mail(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>",
        "Subject: Undelivered Mail Returned to Sender",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
        body=(
            "--r\nContent-Type: text/plain\n\nYour message could not be delivered.\n"
            "--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n\n"
            "Final-Recipient: rfc822; Gone@Example.org\nAction: failed\nStatus: 5.1.1\n"
            "--r\nContent-Type: text/rfc822-headers\n\nMessage-ID: <reply-7@seller.example>\nSubject: Re: order\n"
            "--r--\n"
        ),
    )
    message = parse_email(raw, account="a")

    assert message.auto is AutoKind.BOUNCE
    assert message.meta["bounced_message_id"] == "reply-7@seller.example"
    assert message.meta["bounced_recipients"] == "gone@example.org"
    assert message.meta["bounce_status"] == "5.1.1"


# --- what is quarantined -------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty input"),
        (b"  \r\n\r\n", "empty input"),
        (
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj",
            "not an e-mail message: no header fields (the first line is not a header)",
        ),
        (
            b"\r\nJust some text without headers\r\n",
            "not an e-mail message: no header fields (the first line is not a header)",
        ),
        (b"Subject: nothing else\r\n\r\n", "no sender address, no body text and no attachments"),
        (b"X-Only: header\r\n\r\n   \r\n", "no sender address, no body text and no attachments"),
    ],
)
def test_mail_without_usable_content_is_rejected_with_a_precise_reason(raw, reason):
    with pytest.raises(MailParseError) as caught:
        parse_email(raw, account="a")

    assert caught.value.reason == reason
    assert str(caught.value) == reason


def test_mail_with_only_a_sender_is_kept(make_mail):
    message = parse_email(make_mail("From: anna@example.de", "Subject: call me", body=""), account="a")

    assert message.body_text == ""
    assert message.subject == "call me"


def test_mail_with_only_text_is_kept(make_mail):
    message = parse_email(make_mail("Subject: anonymous"), account="a")

    assert message.sender.email is None
    assert message.body_text == "Hello, where is my parcel?"


@pytest.mark.parametrize("name", sorted(path.name for path in MAIL_DIR.glob("*.eml")))
def test_truncated_or_damaged_mail_never_raises_anything_else(name):
    raw = (MAIL_DIR / name).read_bytes()
    rng = random.Random(name)
    variants = [raw[:cut] for cut in range(0, len(raw), max(1, len(raw) // 20))]
    for _ in range(20):
        damaged = bytearray(raw)
        for _ in range(10):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        variants.append(bytes(damaged))

    parsed = 0
    for variant in variants:
        try:
            message = parse_email(variant, account="a")
        except MailParseError:
            continue
        assert message.sent_at.tzinfo is not None
        parsed += 1
    assert parsed > len(variants) // 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<>", ("<>", None)),
        ("MAILER-DAEMON <>", ("MAILER-DAEMON", None)),
        ("<MAILER-DAEMON>", ("<MAILER-DAEMON>", None)),
        (
            "MAILER-DAEMON@mx.example.org (Mail Delivery System)",
            ("Mail Delivery System", "mailer-daemon@mx.example.org"),
        ),
        ("Jane  Q.  Doe <Jane@Example.org>", ("Jane Q. Doe", "jane@example.org")),
        ("=?utf-8?q?J=C3=B6rg?= <j@example.de>", ("Jörg", "j@example.de")),
        ('"Doe (Jane)" <jane@example.org>, bob@example.org', ("Doe (Jane)", "jane@example.org")),
    ],
)
def test_common_sender_shapes_read_like_the_stdlib_parser(raw, expected):
    assert parse_address(raw) == expected


@pytest.mark.parametrize("linesep", ["\r\n", "\n"])
def test_attached_multipart_message_keeps_its_structure_and_line_ends(make_mail, linesep):
    inner = (
        "From: bob@example.com\nSubject: original\n"
        'Content-Type: multipart/alternative; boundary="in"\n\n'
        "preamble\n--in\nContent-Type: text/plain\n\nplain\n"
        "--in\nContent-Type: text/html\n\n<p>html</p>\n--in--\nepilogue\n"
    )
    raw = make_mail(
        "From: anna@example.de",
        'Content-Type: multipart/mixed; boundary="b"',
        body=f"--b\nContent-Type: text/plain\n\nSee below\n--b\nContent-Type: message/rfc822\n\n{inner}\n--b--\n",
        linesep=linesep,
    )
    attachment = parse_email(raw, account="a").attachments[0]

    assert attachment.content_type == "message/rfc822"
    assert attachment.content == inner.replace("\n", linesep).encode()
