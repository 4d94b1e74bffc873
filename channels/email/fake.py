"""A loopback fake mail server: IMAP4rev1 with IDLE in, SMTP out, buyer mail made up on demand.

The demo runs every store on its real connector against a loopback fake, on
machines that have no mail server, and the shared connector contract suite
(``tests/channels/contract.py``) drives each fake through the same hooks.
:class:`EmailFake` is the e-mail connector's: the real
:class:`~channels.email.connector.EmailConnector` reads it through IMAPClient
and sends through smtplib, unchanged, with the settings from
:meth:`EmailFake.account_settings`.

* IMAP (:mod:`channels.email.fake_imap`) on 127.0.0.1 and a random port,
  password (``LOGIN``, ``AUTHENTICATE PLAIN``) or XOAUTH2 logins; clients
  idling on a folder hear ``* n EXISTS`` the moment mail is delivered.
* SMTP through aiosmtpd, AUTH PLAIN/LOGIN/XOAUTH2 without TLS (loopback);
  every mail received is kept in :attr:`EmailFake.sent` and, parsed,
  in :attr:`EmailFake.replies`.
* With ``oauth=True`` accounts log in with XOAUTH2 tokens refreshed at a
  loopback token endpoint, so token expiry and refresh are exercised too.
* :meth:`EmailFake.seed` writes plausible buyer mail fast (10,000 in well under
  a second): plain mail in English, German, Japanese (some ISO-2022-JP),
  Spanish and Arabic, some with HTML alternatives and some answering earlier
  mail; Amazon relay mail from ``…@marketplace.amazon.<tld>`` with the
  ``(Order: …)`` subject and the message markers; Shopify contact-form mail.

Mail has no rate limits, quota errors inside successes or scopes, so those
hooks raise :class:`NotImplementedError` and the contract suite skips them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import itertools
import logging
import random
import secrets
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from functools import lru_cache
from typing import Any, Protocol

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from channels.base import Stream
from channels.email.fake_imap import Fault, ImapServer, MailStore
from channels.email.relay import AMAZON_SITES
from channels.fake import FakeRequest, FakeResponse, FakeServer, TokenIssuer

__all__ = ["EmailFake", "MailWriter", "SentMail"]

OAUTH_CLIENT_ID = "helpdesk-fake-mail-client"
OAUTH_CLIENT_SECRET = "fake-mail-client-secret"  # noqa: S105 - a loopback fake's published test value


# --- what buyers write --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Language:
    """Everything a buyer writing in one language says, and how each platform wraps it."""

    code: str
    buyers: tuple[tuple[str, str], ...]  # (name, address)
    products: tuple[str, ...]
    questions: tuple[tuple[str, str], ...]  # (subject, body) with {product} {order} {name}
    follow_ups: tuple[str, ...]
    wrote: str  # the attribution line above a quote
    re: str
    amazon_sites: tuple[str, ...]
    amazon_subject: str
    amazon_item: str
    amazon_markers: tuple[str, str]
    amazon_footer: str
    country: str
    shopify_subject: str
    shopify_intro: str
    shopify_labels: tuple[str, str, str, str, str]  # country, name, e-mail, phone, message
    sep: str = ": "


LANGUAGES: tuple[Language, ...] = (
    Language(
        "en",
        (("Emily Carter", "emily.carter@example.com"), ("James O'Neill", "jim.oneill@example.net"),
         ("Priya Raman", "priya.raman@example.org"), ("Tom Becker", "tbecker77@example.com")),
        ("65W USB-C charger", "LED desk lamp", "bamboo cutting board", "wireless earbuds", "ceramic teapot"),
        (("Where is my order {order}?",
          "Hi,\n\nI ordered the {product} ({order}) ten days ago and the tracking has not moved since Friday.\n"
          "Could you check with the carrier?\n\nThanks,\n{name}"),
         ("Wrong colour received",
          "Hello,\n\nthe {product} arrived today but it is black, not the white one I ordered ({order}).\n"
          "Can I exchange it?\n\nBest regards,\n{name}"),
         ("Question about the {product}",
          "Hi there,\n\ndoes the {product} work with 230 V? I would like to order two if it does.\n\nCheers,\n{name}"),
         ("Return request {order}",
          "Hello,\n\nI would like to return the {product} from order {order}. It stopped working after a week.\n"
          "How do I send it back?\n\nKind regards,\n{name}"),
         ("Invoice needed",
          "Hi,\n\ncould you send me an invoice with VAT for order {order}? My company needs it for the accounts.\n\n"
          "Thank you,\n{name}")),
        ("Hi again,\n\nany news on this? I still have not heard back.\n\n{name}",
         "Sorry, I forgot to mention: the box was damaged on one side when it arrived.\n\n{name}",
         "Thanks for the quick answer! One more question: can you ship it to my office address instead?\n\n{name}"),
        "On {date}, {name} <{email}> wrote:",
        "Re: ",
        ("co.uk", "com"),
        "Inquiry from Amazon customer {name} (Order: {order})",
        "Item: {product}",
        ("Begin message", "End message"),
        "Was this email helpful? Reply to this email to respond to the buyer.",
        "GB",
        "New customer message on {when:%B} {when.day}, {when:%Y} at {when:%H:%M}",
        "You received a new message from your online store's contact form.",
        ("Country Code", "Name", "Email", "Phone", "Body"),
    ),
    Language(
        "de",
        (("Jonas Weber", "jonas.weber@example.com"), ("Lea Schäfer", "lea.schaefer@example.net"),
         ("Jürgen Müller", "j.mueller@example.org")),
        ("USB-C-Ladegerät 65 W", "LED-Schreibtischlampe", "Schneidebrett aus Bambus", "Keramik-Teekanne"),
        (("Wo bleibt meine Bestellung {order}?",
          "Hallo,\n\nmeine Bestellung {order} ({product}) ist noch nicht angekommen. Die Sendungsverfolgung zeigt\n"
          "seit Freitag keinen Fortschritt. Können Sie bitte beim Versanddienstleister nachfragen?\n\n"
          "Viele Grüße\n{name}"),
         ("Falscher Artikel geliefert",
          "Guten Tag,\n\nich habe statt {product} einen anderen Artikel bekommen (Bestellung {order}).\n"
          "Wie kann ich ihn umtauschen?\n\nMit freundlichen Grüßen\n{name}"),
         ("Frage zu {product}",
          "Hallo,\n\nist {product} auch in Weiß erhältlich? Und wie lange dauert der Versand nach Österreich?\n\n"
          "Danke und Gruß\n{name}"),
         ("Rücksendung {order}",
          "Hallo,\n\n{product} funktioniert leider nicht mehr. Ich möchte es zurückschicken.\n"
          "Bitte senden Sie mir ein Rücksendeetikett.\n\nGruß\n{name}")),
        ("Hallo nochmal,\n\ngibt es hierzu schon Neuigkeiten?\n\n{name}",
         "Danke für die schnelle Antwort! Können Sie die Ware auch an meine Büroadresse schicken?\n\n{name}"),
        "Am {date} schrieb {name} <{email}>:",
        "AW: ",
        ("de",),
        "Anfrage von Amazon-Kunde {name} (Bestellung: {order})",
        "Artikel: {product}",
        ("Beginn der Nachricht", "Ende der Nachricht"),
        "War diese E-Mail hilfreich? Antworten Sie auf diese E-Mail, um dem Käufer zu antworten.",
        "DE",
        "Neue Kundennachricht am {when:%d.%m.%Y} um {when:%H:%M}",
        "Sie haben über das Kontaktformular Ihres Onlineshops eine neue Nachricht erhalten.",
        ("Ländercode", "Name", "E-Mail", "Telefon", "Nachricht"),
    ),
    Language(
        "ja",
        (("佐藤 花子", "hanako.sato@example.jp"), ("鈴木 一郎", "ichiro.suzuki@example.jp"),
         ("高橋 美咲", "misaki.t@example.jp")),
        ("USB-C充電器 65W", "LEDデスクライト", "竹製まな板", "ワイヤレスイヤホン"),
        (("注文{order}の配送状況について",
          "お世話になっております。\n\n{product}を注文しましたが（注文番号：{order}）、まだ届いておりません。\n"
          "配送状況を確認していただけますでしょうか。\n\nよろしくお願いいたします。\n{name}"),
         ("商品の不具合について",
          "こんにちは。\n\n届いた{product}の電源が入りません。交換または返金は可能でしょうか。\n\n{name}"),
         ("{product}についての質問",
          "はじめまして。\n\n{product}は海外の電圧でも使えますか？購入を検討しています。\n\n{name}"),
         ("領収書の発行のお願い",
          "お世話になります。\n\n注文番号{order}の領収書を発行していただけますか。宛名は会社名でお願いします。\n\n{name}")),
        ("たびたび失礼いたします。\n\nその後いかがでしょうか。ご確認をお願いいたします。\n\n{name}",
         "早速のご返信ありがとうございます。もう一点だけ質問させてください。\n\n{name}"),
        "{date} {name} <{email}>:",
        "Re: ",
        ("co.jp",),
        "Amazonのお客様 {name} からのお問い合わせ (注文番号: {order})",
        "商品: {product}",
        ("メッセージ開始", "メッセージ終了"),
        "このメールは役に立ちましたか？このメールに返信すると購入者に届きます。",
        "JP",
        "新しいお客様メッセージ {when:%Y}年{when.month}月{when.day}日 {when:%H:%M}",
        "オンラインストアのお問い合わせフォームから新しいメッセージが届きました。",
        ("国コード", "名前", "メールアドレス", "電話番号", "本文"),
        sep="：",
    ),
    Language(
        "es",
        (("Lucía Fernández", "lucia.fernandez@example.es"), ("Mateo García", "mateo.garcia@example.com"),
         ("Sofía Ruiz", "sofia.ruiz@example.net")),
        ("cargador USB-C de 65 W", "lámpara de escritorio LED", "tabla de cortar de bambú", "tetera de cerámica"),
        (("¿Dónde está mi pedido {order}?",
          "Hola,\n\nhice el pedido {order} ({product}) hace una semana y todavía no lo he recibido.\n"
          "¿Podrían decirme cuándo llegará?\n\nGracias,\n{name}"),
         ("Producto dañado",
          "Buenos días,\n\nla {product} llegó con la caja rota y no funciona. ¿Me pueden enviar una nueva?\n\n"
          "Un saludo,\n{name}"),
         ("Pregunta sobre {product}",
          "Hola,\n\n¿el producto «{product}» incluye el cable? Es un regalo y necesito saberlo antes del viernes.\n\n"
          "Saludos,\n{name}"),
         ("Solicitud de devolución {order}",
          "Hola,\n\nquiero devolver el artículo «{product}» del pedido {order}. ¿Cuál es el procedimiento?\n\n"
          "Gracias de antemano,\n{name}")),
        ("Hola de nuevo,\n\n¿hay alguna novedad?\n\n{name}",
         "¡Gracias por la rápida respuesta! ¿Pueden enviarlo a la dirección de mi oficina?\n\n{name}"),
        "El {date}, {name} <{email}> escribió:",
        "RE: ",
        ("es", "com.mx"),
        "Consulta del cliente de Amazon {name} (Pedido: {order})",
        "Artículo: {product}",
        ("Inicio del mensaje", "Fin del mensaje"),
        "¿Te ha resultado útil este mensaje? Responde a este correo para contestar al comprador.",
        "ES",
        "Nuevo mensaje de cliente el {when:%d/%m/%Y} a las {when:%H:%M}",
        "Has recibido un nuevo mensaje desde el formulario de contacto de tu tienda online.",
        ("Código de país", "Nombre", "Correo electrónico", "Teléfono", "Cuerpo"),
    ),
    Language(
        "ar",
        (("أحمد الحربي", "ahmed.alharbi@example.com"), ("فاطمة الزهراني", "fatima.z@example.net"),
         ("خالد العتيبي", "khalid.otaibi@example.org")),
        ("شاحن USB-C بقوة 65 واط", "مصباح مكتب LED", "لوح تقطيع من الخيزران", "سماعات لاسلكية"),
        (("أين طلبي {order}؟",
          "مرحباً،\n\nطلبت {product} (رقم الطلب {order}) منذ أسبوع ولم يصل بعد. هل يمكنكم التحقق من حالة الشحن؟\n\n"
          "شكراً لكم،\n{name}"),
         ("منتج تالف",
          "السلام عليكم،\n\nوصلني {product} والعلبة مكسورة والجهاز لا يعمل. أرجو استبداله.\n\nمع التحية،\n{name}"),
         ("سؤال عن {product}",
          "مرحباً،\n\nهل يتوفر {product} باللون الأبيض؟ وكم تستغرق مدة التوصيل إلى الرياض؟\n\n{name}"),
         ("طلب إرجاع {order}",
          "مرحباً،\n\nأرغب في إرجاع {product} من الطلب {order} لأنه لا يناسبني. ما هي الخطوات؟\n\nشكراً،\n{name}")),
        ("مرحباً مجدداً،\n\nهل هناك أي جديد بخصوص طلبي؟\n\n{name}",
         "شكراً على الرد السريع! هل يمكن إرسال الطلب إلى عنوان مكتبي؟\n\n{name}"),
        "في {date}، كتب {name} <{email}>:",
        "Re: ",
        ("sa", "ae"),
        "استفسار من عميل أمازون {name} (Order: {order})",
        "المنتج: {product}",
        ("Begin message", "End message"),
        "Was this email helpful? Reply to this email to respond to the buyer.",
        "SA",
        "رسالة جديدة من عميل {when:%Y-%m-%d} {when:%H:%M}",
        "تلقيت رسالة جديدة من نموذج الاتصال في متجرك الإلكتروني.",
        ("البلد", "الاسم", "البريد الإلكتروني", "الهاتف", "الرسالة"),
    ),
)  # fmt: skip

_AMAZON_PREFIXES = {"co.uk": "202", "com": "111", "de": "302", "co.jp": "249", "es": "171", "com.mx": "701"}
_AMAZON_PREFIXES |= {"sa": "407", "ae": "406"}
_MAILERS = ("Mozilla Thunderbird 128.5", "Apple Mail (2.3826)", "Microsoft Outlook 16.0", None, None)


@dataclass(frozen=True, slots=True)
class _Written:
    """A plain buyer mail kept so later mail can answer it."""

    message_id: str
    subject: str
    text: str
    language: Language
    buyer: tuple[str, str]
    references: tuple[str, ...]
    when: datetime


@lru_cache(maxsize=4096)  # names and most subjects repeat
def _words(text: str, charset: str = "utf-8") -> str:
    """A header value: ASCII as it is, anything else as folded RFC 2047 encoded words (each whole characters)."""
    if text.isascii():
        return text
    chunks: list[bytes] = []
    if charset == "utf-8":
        data, start = text.encode(), 0
        while start < len(data):
            end = min(start + 42, len(data))
            while end < len(data) and data[end] & 0xC0 == 0x80:  # never split inside a character
                end -= 1
            chunks.append(data[start:end])
            start = end
    else:  # stateful charsets (ISO-2022-JP): each word must encode on its own
        step = 14
        chunks = [text[i : i + step].encode(charset) for i in range(0, len(text), step)]
    label = charset.upper()
    return "\r\n ".join(f"=?{label}?B?{base64.b64encode(chunk).decode()}?=" for chunk in chunks)


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _date(when: datetime) -> str:
    """RFC 5322 date in UTC; :func:`email.utils.format_datetime` costs a third of a mail's time."""
    t = when.astimezone(UTC)
    clock = f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    return f"{_DAYS[t.weekday()]}, {t.day:02d} {_MONTHS[t.month - 1]} {t.year} {clock} +0000"


def _address(name: str, address: str, charset: str = "utf-8") -> str:
    if name.isascii():
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + f'" <{address}>'
    return f"{_words(name, charset)} <{address}>"


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _encode_body(text: str, charset: str, rng: random.Random) -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, bytes with CRLF line ends) the way mail programs vary it."""
    data = text.encode(charset)
    if text.isascii() or charset != "utf-8":
        return "7bit", _crlf(data)
    roll = rng.random()
    if roll < 0.4:
        return "8bit", _crlf(data)
    if roll < 0.7:
        return "quoted-printable", _crlf(binascii.b2a_qp(data.replace(b"\r\n", b"\n")))
    return "base64", _crlf(base64.encodebytes(data))


def _html(text: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n"))
    return f'<html><head><meta charset="utf-8"></head><body><div dir="auto">{paragraphs}</div></body></html>\n'


class MailWriter:
    """Makes up buyer mail as raw RFC 5322 bytes, fast: string templates, no ``email`` objects.

    Message-IDs carry a per-instance token, so a demo restarted on a kept
    database gets new mail rather than copies its dedupe would drop.
    """

    def __init__(self, address: str, shop: str) -> None:
        self.address = address
        self.shop = shop
        self.token = secrets.token_hex(3)
        self._numbers = itertools.count(1)
        self._shop_orders = itertools.count(1001)
        self.history: deque[_Written] = deque(maxlen=500)

    def mail(self, rng: random.Random, when: datetime) -> bytes:
        """One new buyer mail of a believable kind."""
        roll = rng.random()
        if roll < 0.15 and self.history:
            return self.follow_up(rng, when, rng.choice(self.history))
        language = rng.choice(LANGUAGES)
        if roll < 0.45:
            return self.amazon(rng, when, language)
        if roll < 0.60:
            return self.shopify(rng, when, language)
        return self.plain(rng, when, language)

    # --- pieces ---------------------------------------------------------------------------------

    def _message_id(self, domain: str) -> str:
        return f"{next(self._numbers)}.{self.token}@{domain}"

    def _question(self, rng: random.Random, language: Language, order: str) -> tuple[str, str, tuple[str, str]]:
        buyer = rng.choice(language.buyers)
        subject, body = rng.choice(language.questions)
        values = {"product": rng.choice(language.products), "order": order, "name": buyer[0]}
        return subject.format(**values), body.format(**values), buyer

    def _shop_order(self) -> str:
        return f"#{next(self._shop_orders)}"

    @staticmethod
    def _charset(language: Language, rng: random.Random) -> str:
        return "iso-2022-jp" if language.code == "ja" and rng.random() < 0.4 else "utf-8"

    def _head(self, fields: Sequence[tuple[str, str]], when: datetime, message_id: str) -> list[str]:
        head = [f"{name}: {value}" for name, value in fields]
        head += [f"Date: {_date(when)}", f"Message-ID: <{message_id}>", "MIME-Version: 1.0"]
        return head

    def _single(self, head: list[str], text: str, charset: str, rng: random.Random) -> bytes:
        encoding, body = _encode_body(text, charset, rng)
        head += [f"Content-Type: text/plain; charset={charset}", f"Content-Transfer-Encoding: {encoding}"]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body

    def _alternative(self, head: list[str], text: str, rng: random.Random) -> bytes:
        boundary = f"=_alt_{rng.getrandbits(64):016x}"
        text_cte, text_body = _encode_body(text, "utf-8", rng)
        html_cte, html_body = _encode_body(_html(text), "utf-8", rng)
        head.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
        parts = [
            ("\r\n".join(head) + "\r\n\r\nThis is a multi-part message in MIME format.\r\n").encode(),
            f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: {text_cte}\r\n\r\n".encode(),
            text_body,
            f"\r\n--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: {html_cte}\r\n\r\n".encode(),
            html_body,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
        return b"".join(parts)

    # --- kinds of mail ---------------------------------------------------------------------------

    def plain(self, rng: random.Random, when: datetime, language: Language) -> bytes:
        """A buyer writing from their own mailbox; a quarter of them with an HTML alternative."""
        subject, text, buyer = self._question(rng, language, self._shop_order())
        return self._plain_mail(rng, when, language, buyer, subject, text, ())

    def follow_up(self, rng: random.Random, when: datetime, earlier: _Written) -> bytes:
        """The same buyer again, answering their earlier mail with a quote of it."""
        language, buyer = earlier.language, earlier.buyer
        subject = earlier.subject if earlier.subject.startswith(language.re) else language.re + earlier.subject
        wrote = language.wrote.format(date=format_datetime(earlier.when), name=buyer[0], email=buyer[1])
        quote = "\n".join("> " + line if line else ">" for line in earlier.text.split("\n"))
        text = rng.choice(language.follow_ups).format(name=buyer[0]) + f"\n\n{wrote}\n{quote}\n"
        references = (*earlier.references, earlier.message_id)[-10:]
        return self._plain_mail(rng, when, language, buyer, subject, text, references)

    def answer(self, rng: random.Random, when: datetime, reply: dict[str, Any]) -> bytes:
        """The buyer answering a reply the seller sent over SMTP (the demo's live conversations)."""
        address = reply["to_address"]
        language, name = next(
            ((lang, n) for lang in LANGUAGES for n, a in lang.buyers if a == address),
            (LANGUAGES[0], reply["to_name"] or address.partition("@")[0]),
        )
        subject = reply["subject"] if reply["subject"].lower().startswith(("re:", "aw:")) else "Re: " + reply["subject"]
        earlier = reply["text"].strip().split("\n")
        wrote = language.wrote.format(
            date=format_datetime(when - timedelta(hours=2)), name=self.shop, email=self.address
        )
        quote = "\n".join("> " + line if line else ">" for line in earlier)
        text = rng.choice(language.follow_ups).format(name=name) + f"\n\n{wrote}\n{quote}\n"
        references = (*reply["references"], reply["message_id"])[-10:]
        return self._plain_mail(rng, when, language, (name, address), subject, text, references)

    def _plain_mail(
        self,
        rng: random.Random,
        when: datetime,
        language: Language,
        buyer: tuple[str, str],
        subject: str,
        text: str,
        references: tuple[str, ...],
    ) -> bytes:
        charset = self._charset(language, rng)
        message_id = self._message_id(buyer[1].partition("@")[2])
        fields = [
            ("From", _address(buyer[0], buyer[1], charset)),
            ("To", self.address),
            ("Subject", _words(subject, charset)),
        ]
        if references:
            fields += [("In-Reply-To", f"<{references[-1]}>"), ("References", " ".join(f"<{r}>" for r in references))]
        mailer = rng.choice(_MAILERS)
        if mailer:
            fields.append(("X-Mailer", mailer))
        head = self._head(fields, when, message_id)
        self.history.append(_Written(message_id, subject, text, language, buyer, references, when))
        if charset == "utf-8" and rng.random() < 0.25:
            return self._alternative(head, text, rng)
        return self._single(head, text, charset, rng)

    def amazon(self, rng: random.Random, when: datetime, language: Language) -> bytes:
        """A buyer message relayed by Amazon: per-buyer alias, the order in the subject, marker lines."""
        tld = rng.choice(language.amazon_sites)
        order = f"{_AMAZON_PREFIXES[tld]}-{rng.randrange(10**7):07d}-{rng.randrange(10**7):07d}"
        _, text, buyer = self._question(rng, language, order)
        alias = hashlib.blake2s(f"{buyer[1]}/{tld}".encode(), digest_size=8).hexdigest()[:15]
        domain = f"marketplace.amazon.{tld}"
        site = AMAZON_SITES[tld]
        begin, end = language.amazon_markers
        product = rng.choice(language.products)
        body = (
            f"------------- {begin} -------------\n\n{text}\n\n------------- {end} -------------\n\n"
            f"{language.amazon_item.format(product=product)}\n\n{language.amazon_footer}\n"
            f"https://sellercentral.amazon.{tld}/messaging/reply?msg={rng.getrandbits(48):012x}&mp={site.marketplace_id}\n\n"
            f"[commMgrTok:{rng.getrandbits(48):012X}]\n"
        )
        fields = [
            ("Return-Path", f"<bounce-{alias}@{domain}>"),
            ("From", _address(f"{buyer[0]} - Amazon Marketplace", f"{alias}@{domain}")),
            ("To", self.address),
            ("Subject", _words(language.amazon_subject.format(name=buyer[0], order=order))),
        ]
        return self._single(self._head(fields, when, self._message_id(domain)), body, "utf-8", rng)

    def shopify(self, rng: random.Random, when: datetime, language: Language) -> bytes:
        """The store's contact form, mailed by Shopify with the buyer in Reply-To and in the body."""
        _, text, buyer = self._question(rng, language, self._shop_order())
        country, name, address, phone, message = language.shopify_labels
        sep = language.sep
        body = (
            f"{language.shopify_intro}\n\n{country}{sep}{language.country}\n{name}{sep}{buyer[0]}\n"
            f"{address}{sep}{buyer[1]}\n{phone}{sep}+{rng.randrange(10, 99)} {rng.randrange(10**8, 10**9)}\n"
            f"{message}{sep}\n{text}\n"
        )
        fields = [
            ("From", _address(self.shop, "mailer@shopify.com")),
            ("Reply-To", _address(buyer[0], buyer[1])),
            ("To", self.address),
            ("Subject", _words(language.shopify_subject.format(when=when))),
        ]
        head = self._head(fields, when, self._message_id("shopify.com"))
        if rng.random() < 0.3:
            return self._alternative(head, body, rng)
        return self._single(head, body, "utf-8", rng)


def malformed_mail(when: datetime) -> bytes:
    """What a broken relay leaves behind: headers without a sender, and no content at all.

    :func:`channels.email.mime.parse_email` refuses it (no sender address, no
    body text, no attachments), so the connector hands it back as rejected input.
    """
    return (
        f"Received: from relay.example.net (relay.example.net [192.0.2.44])\r\n"
        f" by mx.lampworks.example; {format_datetime(when)}\r\n"
        f"Date: {format_datetime(when)}\r\n"
        f"Message-ID: <truncated.{secrets.token_hex(6)}@relay.example.net>\r\n"
        "Subject: \r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    ).encode()


# --- SMTP --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SentMail:
    """One mail the fake's SMTP server accepted: envelope and the bytes as sent."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    user: str | None


class _Checks(Protocol):
    def check_login(self, user: str, password: str) -> bool: ...

    def check_token(self, user: str, token: str) -> bool: ...

    def received(self, mail: SentMail) -> None: ...


class _SmtpHandler:
    """aiosmtpd's handler: keeps what arrives and checks XOAUTH2 (PLAIN and LOGIN go through ``_authenticator``)."""

    def __init__(self, checks: _Checks) -> None:
        self.checks = checks

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        login = session.auth_data
        login = login.login if isinstance(login, LoginPassword) else login
        user = login.decode() if isinstance(login, bytes) else None
        self.checks.received(SentMail(envelope.mail_from or "", tuple(envelope.rcpt_tos), bytes(raw), user))
        return "250 2.0.0 OK: queued"

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        if len(args) > 1:
            try:
                blob: object = base64.b64decode(args[1], validate=True)
            except binascii.Error:
                return AuthResult(success=False)
        else:
            blob = await server.challenge_auth("")
        if not isinstance(blob, bytes):
            return AuthResult(success=False)
        fields = dict(p.split("=", 1) for p in blob.decode("utf-8", "replace").split("\x01") if "=" in p)
        user, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ").strip()
        ok = self.checks.check_token(user, token)
        return AuthResult(success=ok, auth_data=user.encode() if ok else None)


class _QuietLoginData(logging.Filter):
    """aiosmtpd warns on every successful AUTH that its own ``login_data`` is deprecated; the demo log needs none."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Session.login_data is deprecated")


_QUIET = _QuietLoginData()


class _SmtpController(Controller):
    """aiosmtpd's threaded controller on a port the system picks (its own start-up probe needs the number)."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = int(self.server.sockets[0].getsockname()[1])
        super()._trigger_server()


def _wire(mail: SentMail) -> dict[str, Any]:
    """A received mail as the fields a connector test checks; ids without angle brackets."""
    msg = BytesParser(policy=policy.default).parsebytes(mail.raw)
    assert isinstance(msg, EmailMessage)
    text_part = msg.get_body(("plain",))
    html_part = msg.get_body(("html",))
    to = msg["To"]
    first = to.addresses[0] if to is not None and to.addresses else None
    return {
        "from": str(msg["From"] or ""),
        "to": str(to or ""),
        "to_address": first.addr_spec if first else "",
        "to_name": first.display_name if first else "",
        "subject": str(msg["Subject"] or ""),
        "message_id": str(msg["Message-ID"] or "").strip().strip("<>"),
        "in_reply_to": str(msg["In-Reply-To"] or "").strip().strip("<>") or None,
        "references": [r.strip("<>") for r in str(msg["References"] or "").split()],
        "text": text_part.get_content() if isinstance(text_part, EmailMessage) else "",
        "html": html_part.get_content() if isinstance(html_part, EmailMessage) else None,
        "mail_from": mail.mail_from,
        "rcpt_tos": list(mail.rcpt_tos),
        "user": mail.user,
    }


# --- the fake ---------------------------------------------------------------------------------------


class EmailFake(FakeServer):
    """A mail provider on loopback: IMAP and SMTP, and (``oauth=True``) its OAuth token endpoint.

    The HTTP side of :class:`~channels.fake.FakeServer` is the provider's token
    endpoint (``POST /token``), started only for ``oauth=True``, when
    :meth:`account_settings` hands out a refresh token instead of the
    password.  Traffic, the movable clock (access tokens expire by it) and
    the context manager come from the base; the fault hooks act on IMAP.
    The base's ``port`` and ``url`` are the token endpoint's; the mail ports
    are :attr:`imap_port` and :attr:`smtp_port`.
    """

    platform = "email"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        user: str = "support@lampworks.example",
        password: str | None = None,
        shop: str = "Lampworks",
        oauth: bool = False,
        seed: int = 7,
    ) -> None:
        super().__init__(host=host)
        self.user = user
        self.password = password or "fake-" + secrets.token_urlsafe(12)
        self.shop = shop
        self.oauth = oauth
        self.store = MailStore()
        self.lock = self.store.lock  # one lock for mail, tokens and the generator
        for folder in ("INBOX", "Sent"):
            self.store.create(folder)
        self.issuer = TokenIssuer(self.now)
        self.add_route("POST", "/token", self._token)
        self.tokens: set[str] = set()  # XOAUTH2 access tokens from issue_token()
        self.revoked = False
        self.sent: list[SentMail] = []
        self.writer = MailWriter(user, shop)
        self.rng = random.Random(seed)
        self.imap = ImapServer(self.store, user, self.check_login, self.check_token, host=host)
        self._answered = 0
        self._repeat = False
        self._smtp: _SmtpController | None = None

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> EmailFake:
        logging.getLogger("mail.log").addFilter(_QUIET)  # once: a filter is added only if not there yet
        if self.oauth:
            super().start()
        self.imap.start()
        self._smtp = _SmtpController(
            _SmtpHandler(self),
            hostname=self.host,
            port=0,
            authenticator=self._authenticator,
            auth_require_tls=False,
        )
        self._smtp.start()
        return self

    def stop(self) -> None:
        """Stop traffic and every server; connections are cut (an account then diagnoses *unreachable*)."""
        super().stop()
        self.imap.stop()
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.stop()

    def __enter__(self) -> EmailFake:
        return self.start()

    @property
    def imap_port(self) -> int:
        return self.imap.port

    @property
    def smtp_port(self) -> int:
        assert self._smtp is not None, "start the fake first"
        return int(self._smtp.port)

    def account_settings(self) -> tuple[dict[str, object], dict[str, str]]:
        """Settings (valid for the e-mail schema) and secrets that connect an account to this fake."""
        settings: dict[str, object] = {
            "imap_host": self.host,
            "imap_port": self.imap_port,
            "imap_security": "none",
            "user": self.user,
            "folder": "INBOX",
            "idle": True,
            "smtp_host": self.host,
            "smtp_port": self.smtp_port,
            "smtp_security": "none",
            "from_address": self.user,
            "from_name": self.shop,
        }
        if not self.oauth:
            return settings, {"password": self.password}
        settings |= {"oauth2_token_url": f"{self.url}/token", "oauth2_client_id": OAUTH_CLIENT_ID}
        return settings, {
            "oauth2_refresh_token": self.issuer.grant(),
            "oauth2_client_secret": OAUTH_CLIENT_SECRET,
        }

    # --- who may log in -----------------------------------------------------------------------------

    def check_login(self, user: str, password: str) -> bool:
        return not self.revoked and user == self.user and secrets.compare_digest(password, self.password)

    def check_token(self, user: str, token: str) -> bool:
        if self.revoked or user != self.user or not token:
            return False
        if token in self.tokens:
            return True
        return self.issuer.check(token) == "ok"

    def issue_token(self) -> str:
        """An XOAUTH2 access token this fake accepts (for an account given ``oauth2_token`` directly)."""
        token = "ya29." + secrets.token_urlsafe(24)
        self.tokens.add(token)
        return token

    @property
    def token_refreshes(self) -> int:
        """How often the token endpoint handed out a fresh access token."""
        return self.issuer.refreshes

    def _token(self, request: FakeRequest) -> FakeResponse:
        """``POST /token``: a refresh token in, an access token out (RFC 6749 section 6)."""
        form = request.form()
        if form.get("client_id") != OAUTH_CLIENT_ID or form.get("client_secret") != OAUTH_CLIENT_SECRET:
            return FakeResponse.json({"error": "invalid_client"}, status=401)
        if form.get("grant_type") != "refresh_token":
            return FakeResponse.json({"error": "unsupported_grant_type"}, status=400)
        granted = self.issuer.use_refresh(form.get("refresh_token", ""))
        if granted is None:
            return FakeResponse.json({"error": "invalid_grant", "error_description": "token revoked"}, status=400)
        token, _ = granted
        return FakeResponse.json(
            {"access_token": token.value, "token_type": "Bearer", "expires_in": self.issuer.access_lifetime_s}
        )

    def _authenticator(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = self.check_login(auth_data.login.decode(), auth_data.password.decode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def received(self, mail: SentMail) -> None:
        with self.lock:
            self.sent.append(mail)

    @property
    def replies(self) -> list[dict[str, Any]]:
        """Every mail received over SMTP, oldest first, as its wire fields (see :func:`_wire`)."""
        with self.lock:
            sent = list(self.sent)
        return [_wire(mail) for mail in sent]

    # --- mail ---------------------------------------------------------------------------------------

    def deliver(self, raw: bytes, folder: str = "INBOX", flags: Iterable[str] = ()) -> int:
        """Put one mail into ``folder`` (created if missing) as a mail server would; its UID."""
        return self.store.deliver(raw, folder, flags).uid

    def seed(self, messages: int = 0, orders: int = 0) -> None:
        """Add ``messages`` buyer mails to INBOX, dated over the last hours; mail carries no ``orders``."""
        now = datetime.now(UTC)
        with self.lock:
            mails = [self.writer.mail(self.rng, now - timedelta(seconds=37 * (messages - n))) for n in range(messages)]
        self._deliver_all(mails, now)

    def _deliver_all(self, mails: list[bytes], now: datetime) -> None:
        """One batch under one lock and one announcement; copies follow their originals when repeating."""
        inbox = self.store.create("INBOX")
        with self.lock:
            held: bytes | None = None
            for n, raw in enumerate(mails):
                inbox.add(raw, (), now)
                if held is not None:
                    inbox.add(held, (), now)
                    held = None
                if self._repeat and n % 4 == 3:
                    held = raw  # delivered again after the next mail, under a new UID
            if held is not None:
                inbox.add(held, (), now)
        self.store.announce(inbox)

    def tick(self, rng: random.Random) -> None:
        """One burst of live mail for the demo: mostly a new buyer mail, sometimes an answer to a reply."""
        now = datetime.now(UTC)
        raw = None
        with self.lock:
            waiting = self.sent[self._answered :]
            if waiting and rng.random() < 0.5:
                self._answered += 1
                wire = _wire(waiting[0])
                if wire["to_address"] and "marketplace.amazon." not in wire["to_address"]:
                    raw = self.writer.answer(rng, now, wire)
            elif rng.random() < 0.8:
                raw = self.writer.mail(rng, now)
        if raw is not None:
            self.deliver(raw)

    def reset_uidvalidity(self, folder: str = "INBOX") -> int:
        """The server rebuilt ``folder``'s index: a new UIDVALIDITY, UIDs from 1 again; the new value."""
        return self.store.reset_uidvalidity(folder)

    def flags(self, folder: str = "INBOX") -> dict[int, set[str]]:
        """UID → flags of the mail in ``folder`` (empty when it does not exist)."""
        with self.lock:
            found = self.store.get(folder)
            return {m.uid: set(m.flags) for m in found.mails} if found else {}

    def messages(self, folder: str = "INBOX") -> list[bytes]:
        with self.lock:
            found = self.store.get(folder)
            return [m.raw for m in found.mails] if found else []

    @property
    def errors(self) -> list[str]:
        """The fake's own failures while serving IMAP (tests assert there are none)."""
        return list(self.imap.errors)

    # --- contract hooks -------------------------------------------------------------------------------

    def server_error_next(self, *, path: str | None = None, command: str | None = None, times: int = 1) -> None:
        """The next IMAP command (or the next ``command``, e.g. ``"FETCH"``) loses its connection unanswered.

        ``path`` is the base's name for the same filter (an IMAP command here, not a URL path).
        """
        self.imap.add_fault(Fault("drop", times, command=command or path))

    def slow_next(self, seconds: float, *, path: str | None = None, times: int = 1, command: str | None = None) -> None:
        """The next IMAP command (or ``command``) is answered only after ``seconds``."""
        self.imap.add_fault(Fault("slow", times, seconds, command or path))

    def revoke_credentials(self) -> None:
        """The password was changed and the app's grant withdrawn: every login is refused from now on."""
        with self.lock:
            self.revoked = True
            self.tokens.clear()
            self.issuer.revoke_all()

    def expire_tokens(self) -> None:
        """Access tokens stop working before their stated expiry; a refresh brings a working one."""
        if not self.oauth:
            raise NotImplementedError("this fake's accounts log in with a password (start it with oauth=True)")
        with self.lock:
            self.tokens.clear()
            self.issuer.expire_all()

    def add_malformed_record(self) -> None:
        """Deliver one mail the parser refuses (no sender, no content) among the good ones."""
        self.deliver(malformed_mail(datetime.now(UTC)))

    def repeat_across_page_boundary(self, enabled: bool = True) -> None:
        """While on, every fourth seeded mail is delivered again (same Message-ID, new UID) one mail later."""
        self._repeat = enabled

    def rate_limit_next(self, retry_after: float = 2.0, *, path: str | None = None) -> None:
        raise NotImplementedError("IMAP and SMTP have no rate limits with a retry time")

    def quota_error_next(self) -> None:
        raise NotImplementedError("mail servers report no quota inside a success")

    def drop_scope(self, stream: Stream) -> None:
        raise NotImplementedError("a mailbox login has no scopes: it reads everything or nothing")


def iter_mail(count: int, *, seed: int = 7, address: str = "support@lampworks.example") -> Iterator[bytes]:
    """``count`` made-up buyer mails without a server (benchmarks of the parser)."""
    writer, rng, now = MailWriter(address, "Lampworks"), random.Random(seed), datetime.now(UTC)
    for n in range(count):
        yield writer.mail(rng, now - timedelta(seconds=37 * (count - n)))
