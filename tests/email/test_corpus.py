"""The parser against the shared corpus of ~1,050 real-world test mails.

The corpus lives beside the repository (``../shared/corpus/email``) and is not
copied into it.  Without it these tests skip, except in CI (``CI=true``),
where a missing corpus is a failure.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from channels.base import AutoKind, InboundMessage
from channels.email import MailParseError, parse_email

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "email"
NOT_MAIL = {"README.md", ".gitattributes"}

NO_HEADER = "not an e-mail message: no header fields (the first line is not a header)"
NOTHING_USABLE = "no sender address, no body text and no attachments"
QUARANTINED = {
    # a one-line text file, not a mail
    "jhillyerd-enmime/testdata/mail/erroneous.raw": NO_HEADER,
    # starts with a blank line, so it has no header at all
    "mnako-letters/test_english_empty.txt": NO_HEADER,
    # lone MIME parts with an empty body and no sender
    "jhillyerd-enmime/testdata/parts/header-only.raw": NOTHING_USABLE,
    "jhillyerd-enmime/testdata/parts/malformed-content-type-params.raw": NOTHING_USABLE,
    "jhillyerd-enmime/testdata/parts/missing-closing-param-quote.raw": NOTHING_USABLE,
    # a bare delivery-status block without sender or human-readable text
    "mailgun-flanker/bounce/delayed-broken.eml": NOTHING_USABLE,
}


def _corpus_dir() -> Path:
    if not CORPUS.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the shared mail corpus is missing at {CORPUS}")
        pytest.skip("the shared mail corpus is not checked out beside the repository")
    return CORPUS


def _corpus_files(root: Path) -> list[Path]:
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and path.name not in NOT_MAIL and not path.name.startswith("LICENSE")
    )


def _parse(root: Path, relative: str) -> InboundMessage:
    return parse_email((root / relative).read_bytes(), account="corpus")


def test_every_corpus_mail_parses_or_is_quarantined_for_a_precise_reason():
    root = _corpus_dir()
    files = _corpus_files(root)
    outcomes: Counter[str] = Counter()
    quarantined: dict[str, str] = {}

    for path in files:
        relative = path.relative_to(root).as_posix()
        try:
            message = parse_email(path.read_bytes(), account="corpus")
        except MailParseError as error:
            quarantined[relative] = error.reason
            outcomes["quarantined"] += 1
            continue
        outcomes[message.auto.value if message.auto else "ingested"] += 1
        assert message.sent_at.utcoffset() is not None, relative
        assert message.external_id, relative
        assert "\x00" not in message.body_text, relative

    print(f"\n{len(files)} corpus mails: {dict(sorted(outcomes.items()))}")
    assert len(files) > 1000
    assert quarantined == QUARANTINED
    assert outcomes["bounce"] >= 600
    assert outcomes["ingested"] >= 380
    assert outcomes["notification"] >= 20
    assert outcomes["auto_reply"] >= 10


# Expectations were read off the raw mails (headers decoded by hand where the
# stdlib's own parser gives up), not copied from this parser's output.
REGRESSION = [
    # path, subject, sender, body snippet, auto kind, attachment names
    ("mikel-mail/plain_emails/basic_email.eml", "Testing 123", "test@lindsaar.net", "Hope it works well!", None, []),
    ("mikel-mail/multi_charset/japanese_iso_2022.eml", "まみむめも", "raasdnil@gmail.com", "すみません。", None, []),
    (
        "mikel-mail/multi_charset/japanese_shift_jis.eml",
        "test",
        "xxxxxxx@docomo.ne.jp",
        "このメールはテスト用のメールです。",
        None,
        [],
    ),
    ("mikel-mail/multi_charset/ks_c_5601-1987.eml", "test", "from@example.com", "스티해", None, []),
    (
        "mikel-mail/multi_charset/japanese_attachment.eml",
        "testing",
        "raasdnil@gmail.com",
        "testing",
        None,
        ["てすと.txt"],
    ),
    (
        "mikel-mail/attachment_emails/attachment_with_quoted_filename.eml",
        "Eelanalüüsi päring",
        "jeff@37signals.com",
        "",
        None,
        ["Eelanalüüsi päring.jpg"],
    ),
    (
        "mikel-mail/attachment_emails/attachment_nonascii_filename.eml",
        "testing",
        "foo@example.com",
        "This is the first part.",
        None,
        ["ciële.txt"],
    ),
    (
        "mikel-mail/attachment_emails/attachment_pdf.eml",
        "Another PDF with 🎉 Unicode chars in it 🍿",
        "xxxx@xxxx.com",
        "to see what the message looks like",
        None,
        ["broken.pdf"],
    ),
    (
        "mikel-mail/error_emails/content_transfer_encoding_with_semi_colon.eml",
        "Attention",
        "nsukijamq@morozstudio.tk",
        "You have been pre-approved for a $402,000 Home Loan",
        None,
        [],
    ),
    ("mikel-mail/error_emails/bad_encoded_subject.eml", "TEST", None, "TEST", None, []),
    (
        "mikel-mail/rfc2822/example13.eml",
        "Saying Hello",
        "jdoe@machine.example",
        "This is a message just to say hello.",
        None,
        [],
    ),
    (
        "mikel-mail/plain_emails/raw_email_incorrect_header.eml",
        "Stop adware/spyware once and for all.",
        "xxx@xxx.xxx",
        "You are infected with:",
        None,
        [],
    ),
    ("mikel-mail/rfc6532/utf8_headers.eml", "Säying Hello", "jdöe@mächine.example", "body", None, []),
    (
        "mikel-mail/multipart_report_emails/report_530.eml",
        "Returned mail: see transcript for details",
        "mailer-daemon@tttttt.com.au",
        "The original message was received at Mon, 24 Dec 2007 10:03:47 +1100",
        AutoKind.BOUNCE,
        ["attachment-1.txt"],
    ),
    (
        "mailgun-flanker/russian-attachment-yahoo.eml",
        "Hello",
        "mailboxaddr1234567@yahoo.com",
        "Hello",
        None,
        ["Картинка с очень, очень длинным предлинным именем преименем таким чт\ufffd"],
    ),
    (
        "mailgun-flanker/disposition-notification.eml",
        "Disposition notification",
        "joe_recipient@example.com",
        'with subject "First draft of\nreport" has been displayed.',
        AutoKind.NOTIFICATION,
        ["message-1.eml"],
    ),
    (
        "mailgun-flanker/complaints/yahoo.eml",
        "FW:Some subject",
        "feedback@arf.mail.yahoo.com",
        "This is an email abuse report",
        AutoKind.NOTIFICATION,
        ["message-1.eml"],
    ),
    (
        "mailgun-flanker/bounce/office365.eml",
        "Undeliverable: test_bounce 8",
        "postmaster@example.no",
        "Your message to noname@example.com couldn't be delivered.",
        AutoKind.BOUNCE,
        ["message-1.eml"],
    ),
    ("mailgun-flanker/8bitmime.eml", "2 RCPT MIME", "bob@example.com", "Превел", None, []),
    ("mailgun-flanker/enclosed.eml", "Wow", "bob@example.net", "Hello", None, ["thanks.eml"]),
    (
        "mailgun-flanker/mailgun-pic.eml",
        "Mailgun rocks!",
        "hello@example.com",
        "Мейлган! Хахах!",
        None,
        ["mailgun.png"],
    ),
    (
        "django-helpdesk/forwarded-message.eml",
        "Test with original message from GitHub",
        "sender@domain.tld",
        "This is email body",
        None,
        [],
    ),
    (
        "django-helpdesk/quoted_printable.eml",
        "Český test",
        "tim.thelion@gmail.com",
        "Tohle je test českých písmen odeslaných z gmailu.",
        None,
        [],
    ),
    ("django-helpdesk/all-special-chars.eml", "Testovácí email", "timothy.hobbs@auto-mat.cz", "íářčšáíéřášč", None, []),
    (
        "django-helpdesk/blank-body-with-attachment.eml",
        "Attachment without body - and a l" + "o" * 179 + "ng subject",
        "timothy.hobbs@auto-mat.cz",
        "",
        None,
        ["baf"],
    ),
    ("jhillyerd-enmime/testdata/parts/chardet-success-big-5.raw", "", None, "顏是家訓", None, []),
    (
        "jhillyerd-enmime/testdata/mail/mime-bad-8bit-filename.raw",
        "Malformed test",
        "pavel.bazika@some.domain",
        "Text part",
        None,
        ["管理.doc"],
    ),
    (
        "jhillyerd-enmime/testdata/low-quality/bad-header-start.raw",
        "plain text",
        "james@makita.skynet",
        "A text section",
        None,
        [],
    ),
    (
        "jhillyerd-enmime/testdata/mail/html-only-inline.raw",
        "MIME test 1",
        "james@makita.skynet",
        "Test of HTML section",
        None,
        ["favicon.png"],
    ),
    (
        "jhillyerd-enmime/dsn/testdata/simple_dsn.raw",
        "Returned mail: Cannot send message for 5 days",
        "mailer-daemon@cs.utk.edu",
        "[human-readable explanation goes here]",
        AutoKind.BOUNCE,
        ["message-1.eml"],
    ),
    (
        "nodemailer-mailparser/nodemailer.eml",
        "Nodemailer is unicode friendly ✔ (1476358788189)",
        "andris@kreata.ee",
        "Hello to myself!",
        None,
        ["image.png", "nyan cat ✔.gif", "notes.txt"],
    ),
    (
        "nodemailer-mailparser/delivery-status.eml",
        "Delivery Status Notification (Failure)",
        "mailer-daemon@amazonses.com",
        "An error occurred while trying to deliver the mail",
        AutoKind.BOUNCE,
        ["message-1.eml"],
    ),
    (
        "mnako-letters/test_chinese_multipart_signed_gb18030_over_base64.txt",
        "📧 Signed Test 施氏食狮史",
        "alice.fajianren@example.com",
        "石室诗士施氏，嗜狮，誓食十狮。",
        None,
        [],
    ),
    (
        "mnako-letters/test_korean_multipart_mixed_euc-kr_over_base64.txt",
        "📧 Test 한국어 팬그램",
        "alice.bonaeneunsalam@example.com",
        "키스의 고유조건은 입술끼리 만나야 하고",
        None,
        [
            "inline-jpg-image-without-disposition.jpg",
            "inline-jpg-image-filename.jpg",
            "attached-pdf-filename.pdf",
            "attached-pdf-without-disposition.pdf",
            "attached-json-filename.json",
            "attached-text-plain-filename.txt",
            "attached-text-html-filename.html",
        ],
    ),
    (
        "mnako-letters/test_thai_multipart_related_tis-620_over_base64.txt",
        "📧 Test แพนแกรมภาษาไทย",
        "alis.phusngcdhmay@example.com",
        "เป็นมนุษย์สุดประเสริฐเลิศคุณค่า",
        None,
        ["inline-jpg-image-filename.jpg"],
    ),
    (
        "mnako-letters/test_japanese_multipart_mixed_euc-jp_over_quoted-printable.txt",
        "📧 Test いろは歌",
        "alice.yuubin@example.com",
        "色は匂えど\n散りぬるを",
        None,
        [
            "inline-jpg-image-without-disposition.jpg",
            "inline-jpg-image-filename.jpg",
            "attached-pdf-filename.pdf",
            "attached-pdf-without-disposition.pdf",
            "attached-json-filename.json",
            "attached-text-plain-filename.txt",
            "attached-text-html-filename.html",
        ],
    ),
    (
        "mnako-letters/test_chinese_multipart_related_gbk_over_quoted-printable.txt",
        "📧 Test 施氏食狮史",
        "alice.fajianren@example.com",
        "氏视是十狮，恃矢势，使是十狮逝世。",
        None,
        ["inline-jpg-image-filename.jpg"],
    ),
    (
        "mnako-letters/test_polish_multipart_related_iso-8859-2_over_quoted-printable.txt",
        "📧 Test Polskie pangramy",
        "alicja.nadajaca@example.com",
        "Pójdźże, kiń tę chmurność w głąb flaszy!",
        None,
        ["inline-jpg-image-filename.jpg"],
    ),
    (
        "sisimai-set-of-emails/maildir/bsd/rfc3834-02.eml",
        "Automatic reply: Nyaan",
        "nekonyaan@example.org",
        "I'm out of the office Friday.",
        AutoKind.AUTO_REPLY,
        [],
    ),
    (
        "sisimai-set-of-emails/maildir/bsd/lhost-exim-01.eml",
        "Mail delivery failed: returning message to sender",
        "mailer-daemon@e1.example.org",
        "This message was created automatically by mail delivery software.",
        AutoKind.BOUNCE,
        [],
    ),
    (
        "sisimai-set-of-emails/maildir/bsd/lhost-kddi-01.eml",
        "メールエラー通知",
        "no-reply@x0000000000000.dion.ne.jp",
        "送信先のメールボックスが一杯のため、送信できませんでした。",  # UTF-8 bytes labelled ISO-2022-JP
        AutoKind.BOUNCE,
        ["message-1.eml"],
    ),
    (
        "sisimai-set-of-emails/maildir/not/is-not-bounce-01.eml",
        "にゃんこ",
        "shironeko@example.com",
        "にゃーーーーーーーーーーー",
        None,
        [],
    ),
    (
        "sisimai-set-of-emails/maildir/bsd/arf-22.eml",
        "complaint about message from 192.0.2.222",
        "staff@hotmail.com",
        "",
        AutoKind.NOTIFICATION,
        ["message-1.eml"],
    ),
]


@pytest.mark.parametrize(
    ("path", "subject", "sender", "snippet", "auto", "attachments"),
    REGRESSION,
    ids=[case[0].rsplit("/", 1)[-1] for case in REGRESSION],
)
def test_corpus_regression(path, subject, sender, snippet, auto, attachments):
    message = _parse(_corpus_dir(), path)

    assert message.subject == subject
    assert message.sender.email == sender
    assert snippet in message.body_text
    if not snippet:
        assert message.body_text == ""
    assert message.auto is auto
    assert [attachment.filename for attachment in message.attachments] == attachments


def test_attached_messages_are_byte_exact_slices_of_the_source():
    root = _corpus_dir()
    for relative in ("mailgun-flanker/enclosed.eml", "mikel-mail/attachment_emails/attachment_message_rfc822.eml"):
        raw = (root / relative).read_bytes()
        attached = [a for a in parse_email(raw, account="corpus").attachments if a.content_type == "message/rfc822"]
        assert attached, relative
        assert attached[0].content in raw, relative


def test_bounce_points_at_the_returned_message():
    message = _parse(_corpus_dir(), "mikel-mail/multipart_report_emails/multi_address_bounce1.eml")

    assert message.auto is AutoKind.BOUNCE
    assert message.meta["bounced_message_id"] == "118707422.15521266992174819.JavaMail.root@lvmail01"
    assert message.meta["bounce_status"] == "5.1.1"
