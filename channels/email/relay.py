"""Recognise marketplace relay mail and lift what the marketplace encoded in it.

Amazon and Walmart deliver buyer messages by e-mail from per-buyer (Amazon)
or per-order (Walmart) relay aliases; eBay mails member messages from
``members.ebay.<tld>`` aliases; a Shopify store's contact form arrives as a
mail from Shopify's mailer with the customer's details in the body.  For each
we set the platform, the site and its currency and language, the order
numbers (only with the pattern of the platform the mail came from, because
the numeric formats overlap), a thread key, the buyer's own words in
``stripped_text``, and the customer identity key in ``sender``.

Marketplace notices that are not buyer messages (Amazon's delivery-failure
notices, other system mail) are marked as notifications so they never open
tickets.  Amazon's copies of messages the seller sent from Seller Central
become agent messages on the buyer's thread, so they count as the answer.

The templates are undocumented and change; everything here matches shapes,
not exact wording, and degrades to the plain-mail result when unsure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from channels.base import AutoKind, Direction, InboundMessage, Party
from channels.email.headers import parse_address
from channels.email.quotes import split_reply

__all__ = ["AMAZON_SITES", "EBAY_SITES", "Site", "apply_relay"]


@dataclass(frozen=True, slots=True)
class Site:
    """A marketplace site: country code, currency and default language."""

    country: str
    currency: str
    language: str | None
    marketplace_id: str | None = None


AMAZON_SITES: dict[str, Site] = {
    "com": Site("US", "USD", "en", "ATVPDKIKX0DER"),
    "ca": Site("CA", "CAD", "en", "A2EUQ1WTGCTBG2"),
    "com.mx": Site("MX", "MXN", "es", "A1AM78C64UM0Y8"),
    "com.br": Site("BR", "BRL", "pt", "A2Q3Y263D00KWC"),
    "co.uk": Site("GB", "GBP", "en", "A1F83G8C2ARO7P"),
    "de": Site("DE", "EUR", "de", "A1PA6795UKMFR9"),
    "fr": Site("FR", "EUR", "fr", "A13V1IB3VIYZZH"),
    "it": Site("IT", "EUR", "it", "APJ6JRA9NG5V4"),
    "es": Site("ES", "EUR", "es", "A1RKKUPIHCS9HS"),
    "nl": Site("NL", "EUR", "nl", "A1805IZSGTT6HS"),
    "com.be": Site("BE", "EUR", None, "AMEN7PMS3EDWL"),
    "se": Site("SE", "SEK", "sv", "A2NODRKZP88ZB9"),
    "pl": Site("PL", "PLN", "pl", "A1C3SOZRARQ6R3"),
    "ie": Site("IE", "EUR", "en", "A28R8C7NBKEWEA"),
    "com.tr": Site("TR", "TRY", "tr", "A33AVAJ2PDY3EV"),
    "ae": Site("AE", "AED", None, "A2VIGQ35RCS4UG"),
    "sa": Site("SA", "SAR", "ar", "A17E79C6D8DWNP"),
    "eg": Site("EG", "EGP", "ar", "ARBP9OOSHTCHU"),
    "in": Site("IN", "INR", "en", "A21TJRUUN4KGV"),
    "co.za": Site("ZA", "ZAR", "en", "AE08WJ6YKNBMC"),
    "co.jp": Site("JP", "JPY", "ja", "A1VC38T7YXB528"),
    "com.au": Site("AU", "AUD", "en", "A39IBJ37TRP1C6"),
    "sg": Site("SG", "SGD", "en", "A19VAU5U5O7RUS"),
}
_AMAZON_BY_MARKETPLACE = {site.marketplace_id: site for site in AMAZON_SITES.values()}

EBAY_SITES: dict[str, Site] = {
    "com": Site("US", "USD", "en"),
    "ca": Site("CA", "CAD", "en"),
    "co.uk": Site("GB", "GBP", "en"),
    "de": Site("DE", "EUR", "de"),
    "at": Site("AT", "EUR", "de"),
    "ch": Site("CH", "CHF", None),
    "fr": Site("FR", "EUR", "fr"),
    "it": Site("IT", "EUR", "it"),
    "es": Site("ES", "EUR", "es"),
    "nl": Site("NL", "EUR", "nl"),
    "be": Site("BE", "EUR", None),
    "ie": Site("IE", "EUR", "en"),
    "pl": Site("PL", "PLN", "pl"),
    "com.au": Site("AU", "AUD", "en"),
    "com.hk": Site("HK", "HKD", "zh"),
    "com.sg": Site("SG", "SGD", "en"),
    "com.my": Site("MY", "MYR", "en"),
    "ph": Site("PH", "PHP", "en"),
    "in": Site("IN", "INR", "en"),
}
_WALMART_SITE = Site("US", "USD", "en")

_AMAZON_RELAY = re.compile(r"^marketplace\.amazon\.([a-z.]+)$")
_AMAZON_DOMAIN = re.compile(r"^(?:[a-z0-9-]+\.)*amazon\.([a-z.]+)$")
_EBAY_RELAY = re.compile(r"^members\.ebay\.([a-z.]+)$")
_EBAY_DOMAIN = re.compile(r"^(?:[a-z0-9-]+\.)*ebay\.([a-z.]+)$")
_WALMART_RELAY = "relay.walmart.com"
_WALMART_PLACEHOLDER = "nocxemail@walmartone.com"
_SHOPIFY_DOMAINS = ("shopify.com", "shopifyemail.com")

_AMAZON_ORDER = re.compile(r"\b\d{3}-\d{7}-\d{7}\b")
_WALMART_ORDER = re.compile(r"\b\d{13,15}\b")
_EBAY_ORDER = re.compile(r"\b\d{2}-\d{5}-\d{5}\b|\b\d{12}-\d{10,14}\b")
_EBAY_ITEM = re.compile(
    r"(?:#|/itm/(?:[^/\s]+/)?|\b(?:item|artikel|article|objet|articolo|art[íi]culo|objeto)\b[^\d\n]{0,25})(\d{12})\b",
    re.IGNORECASE,
)
_SHOPIFY_ORDER = re.compile(r"#\d{4,}\b")

_COMM_TOKEN = re.compile(r"\[commMgrTok:[^\]]*\]")
_AMAZON_ALIAS = re.compile(r"\b[a-z0-9][a-z0-9._+-]*@marketplace\.amazon\.([a-z]{2,3}(?:\.[a-z]{2})?)\b", re.IGNORECASE)
_MARKETPLACE_PARAM = re.compile(r"[?&](?:amp;)?mp=([A-Z0-9]{10,16})\b")
_MARKER_LINE = re.compile(r"^[ \t]*-{5,}[ \t]*(\S.{0,80}?)[ \t]*-{5,}[ \t]*$", re.MULTILINE)
_BEGIN_MARKER = re.compile(
    r"Begin\s+message|Beginn\s+der\s+Nachricht|Nachricht\s+beginnen|Début\s+du\s+message|Inicio\s+del\s+mensaje"
    r"|Comienzo\s+del\s+mensaje|Inizio\s+(?:del\s+)?messaggio|Begin\s+bericht|Início\s+da\s+mensagem"
    r"|Początek\s+wiadomości|Meddelande\s+börjar|Mesaj\s+başlang\u0131c\u0131|メッセージ(?:開始|はここから)|بداية\s+الرسالة",
    re.IGNORECASE,
)
_END_MARKER = re.compile(
    r"End\s+message|Ende\s+der\s+Nachricht|Nachricht\s+beenden|Fin\s+du\s+message|Fin\s+del\s+mensaje"
    r"|Fine\s+(?:del\s+)?messaggio|Einde\s+bericht|Fim\s+da\s+mensagem|Koniec\s+wiadomości"
    r"|Meddelande\s+slutar|Mesaj\s+sonu|メッセージ(?:終了|はここまで)|نهاية\s+الرسالة",
    re.IGNORECASE,
)
_AMAZON_NAME_SUFFIX = re.compile(r"\s+-\s+Amazon\b.*$", re.IGNORECASE)
_AMAZON_DELIVERY_FAILURE = re.compile(
    r"""(?:
        (?:message|e-?mail)\s+(?:delivery\s+)?(?:failure|failed|undeliverable)
      | could\s+not\s+be\s+delivered
      | was\s+not\s+delivered
      | (?:konnte|wurde)\s+nicht\s+zugestellt\s+werden
      | nicht\s+zugestellt
      | Zustellung\s+(?:Ihrer\s+Nachricht\s+)?fehlgeschlagen
      | n'a\s+pas\s+pu\s+être\s+(?:remis|distribué|envoyé|livré)e?
      | no\s+se\s+ha\s+podido\s+entregar
      | no\s+se\s+pudo\s+entregar
      | non\s+è\s+stato\s+possibile\s+(?:consegnare|recapitare)
      | 配信できませんでした
      | 送信できませんでした
      | 配信エラー
    )""",
    re.VERBOSE | re.IGNORECASE,
)
_AMAZON_SENT_COPY = re.compile(
    r"""^\s*(?:
        (?:A\s+)?copy\s+of\s+your\s+message
      | Sent\s+message\b
      | Message\s+sent\s+to\b
      | Your\s+message\s+to\s+.{0,80}\bhas\s+been\s+sent
      | Kopie\s+(?:Ihrer|der|deiner)\s+Nachricht
      | Ihre\s+Nachricht\s+an\s+.{0,80}\bwurde\s+gesendet
      | Gesendete\s+Nachricht
      | Copie\s+de\s+votre\s+message
      | Message\s+envoyé
      | Copia\s+de\s+(?:su|tu)\s+mensaje
      | Mensaje\s+enviado
      | Copia\s+del\s+(?:suo|tuo)\s+messaggio
      | Messaggio\s+inviato
      | 送信済みメッセージ
      | 送信したメッセージのコピー
      | メッセージのコピー
    )""",
    re.VERBOSE | re.IGNORECASE,
)
_AMAZON_BOILERPLATE = re.compile(
    r"""^\s*(?:
        Was\s+this\s+(?:e-?mail|message)\s+helpful
      | To\s+(?:respond|reply)\s+to\s+this\s+(?:message|e-?mail)
      | Respond\s+to\s+this\s+message
      | (?:Mark\s+as\s+)?No\s+response\s+(?:needed|required)
      | Report\s+(?:this\s+)?(?:message|questionable\s+activity)
      | This\s+e-?mail\s+was\s+sent\s+by\s+Amazon
      | Copyright\b | ©
      | War\s+diese\s+E-Mail\s+hilfreich
      | Um\s+auf\s+diese\s+Nachricht\s+zu\s+antworten
      | Keine\s+Antwort\s+erforderlich
      | Cet\s+e-?mail\s+vous\s+a-t-il\s+été\s+utile
      | Pour\s+répondre\s+à\s+ce\s+message
      | ¿Te\s+ha\s+resultado\s+útil
      | Para\s+responder\s+a\s+este\s+mensaje
      | Questa\s+e-?mail\s+ti\s+è\s+stata\s+utile
      | Per\s+rispondere\s+a\s+questo\s+messaggio
      | このメールは役に立ちましたか
      | このメッセージに返信するには
      | 返信不要
    )""",
    re.VERBOSE | re.IGNORECASE,
)
_AMAZON_PREAMBLE = re.compile(
    r"""^\s*(?:
        You\s+have\s+(?:received\s+)?a\s+(?:new\s+)?message
      | You\s+(?:have\s+)?received\s+a\s+message
      | Sie\s+haben\s+eine\s+(?:neue\s+)?Nachricht
      | Vous\s+avez\s+reçu\s+un\s+(?:nouveau\s+)?message
      | Has\s+recibido\s+un\s+(?:nuevo\s+)?mensaje
      | Hai\s+ricevuto\s+un\s+(?:nuovo\s+)?messaggio
      | メッセージが届きました | 新しいメッセージ
      | (?:Order\s+(?:ID|number)|Bestellnummer|Numéro\s+de\s+commande|Número\s+de\s+pedido|Numero\s+(?:dell')?ordine
        |注文番号|Message\s+ID|メッセージ\s*ID|Nachrichten-ID|ASIN|Item|Artikel|Product|Produkt)\s*[:\uff1a#]
      | SPC-
      | \#\s*\d
    )""",
    re.VERBOSE | re.IGNORECASE,
)
_EBAY_MEMBER_SUBJECT = re.compile(
    r"""(?:
        sent\s+(?:you\s+)?a\s+(?:message|question)
      | (?:has\s+)?(?:a\s+)?question\s+(?:about|for)
      | new\s+message\s+from
      | hat\s+(?:Ihnen\s+|dir\s+)?eine\s+(?:Nachricht|Frage)
      | (?:neue\s+)?Nachricht\s+von
      | Frage\s+zu
      | vous\s+a\s+envoyé\s+un\s+message
      | (?:nouveau\s+)?message\s+de
      | te\s+ha\s+enviado\s+un\s+mensaje
      | (?:nuevo\s+)?mensaje\s+de
      | ti\s+ha\s+inviato\s+un\s+messaggio
      | (?:nuovo\s+)?messaggio\s+da
    )""",
    re.VERBOSE | re.IGNORECASE,
)
_EBAY_FROM_LINE = re.compile(
    r"^\s*(?:New\s+message\s+from|Message\s+from|Question\s+from|Neue\s+Nachricht\s+von|Nachricht\s+von|Frage\s+von"
    r"|Nouveau\s+message\s+de|Message\s+de|Nuevo\s+mensaje\s+de|Mensaje\s+de|Nuovo\s+messaggio\s+da|Messaggio\s+da)"
    r"\s*[:\uff1a]?\s*(?P<user>[A-Za-z0-9][\w.*-]{1,63})\s*:?\s*$",
    re.IGNORECASE,
)
_EBAY_BOILERPLATE = re.compile(
    r"""^\s*(?:
        (?:Reply|Respond|Antworten|Répondre|Responder|Rispondi)\b.{0,60}$
      | Only\s+purchases\s+on\s+eBay
      | eBay\s+sent\s+this\s+message
      | This\s+message\s+was\s+sent\s+(?:by|from)\s+eBay
      | Diese\s+Nachricht\s+wurde\s+(?:von|über)\s+eBay
      | Nur\s+Käufe\s+über\s+eBay
      | eBay\s+vous\s+a\s+envoyé\s+ce\s+message
      | eBay\s+te\s+ha\s+enviado\s+este\s+mensaje
      | Copyright\b | ©
      | Item\s+(?:number|ID)\s*:
      | Artikelnummer\s*:
      | Numéro\s+de\s+l'objet\s*:
      | Número\s+de\s+artículo\s*:
      | Order\s+number\s*:
      | Bestellnummer\s*:
    )""",
    re.VERBOSE | re.IGNORECASE,
)
_USERNAME = re.compile(r"^[A-Za-z0-9][\w.*-]{1,63}$")
_SHOPIFY_SUBJECT = re.compile(
    r"""^\s*(?:
        New\s+customer\s+message
      | Neue\s+Kundennachricht
      | Nouveau\s+message\s+(?:de\s+|du\s+)?client
      | Nuevo\s+mensaje\s+(?:de|del)\s+cliente
      | Nuovo\s+messaggio\s+(?:del|da|dal)\s+cliente
      | Nieuw\s+klantbericht
      | Nova\s+mensagem\s+de\s+cliente
      | 新しいお客様(?:から)?の?メッセージ
      | 新客户消息
      | رسالة\s+جديدة\s+من\s+(?:ال)?عميل
    )""",
    re.VERBOSE | re.IGNORECASE,
)
_FORM_FIELD = re.compile(r"^\s*(?P<label>[^\W\d_][^:\uff1a\n]{0,40}?)\s*[:\uff1a]\s*(?P<value>.*)$")
_FORM_LABELS: dict[str, str] = {
    label: key
    for key, labels in {
        "name": (
            "name", "full name", "your name", "nombre", "nombre completo", "nom", "nom complet", "vorname",
            "nome", "naam", "imię", "名前", "お名前", "氏名", "姓名", "名字", "isim", "ad soyad", "navn",
            "namn", "الاسم",
        ),
        "email": (
            "email", "e-mail", "email address", "e-mail address", "e-mail-adresse", "your email", "correo",
            "correo electrónico", "correo electronico", "courriel", "adresse e-mail", "adresse email",
            "indirizzo email", "e-mailadres", "endereço de e-mail", "メールアドレス", "メール", "eメール",
            "邮箱", "电子邮件", "電子郵件", "e-posta", "البريد الإلكتروني", "البريد الالكتروني",
        ),
        "phone": (
            "phone", "phone number", "telephone", "teléfono", "telefono", "téléphone", "telefon",
            "telefonnummer", "電話番号", "电话", "telefoon", "telefone", "الهاتف", "رقم الهاتف",
        ),
        "country": (
            "country code", "country", "código de país", "code pays", "code du pays", "ländercode", "land",
            "pays", "país", "codice paese", "paese", "国コード", "国", "国家", "البلد",
        ),
        "order": (
            "order number", "order", "bestellnummer", "numéro de commande", "número de pedido",
            "numero ordine", "注文番号", "订单号", "رقم الطلب",
        ),
        "body": (
            "body", "message", "comment", "comments", "mensaje", "cuerpo", "comentario", "corps",
            "commentaire", "nachricht", "kommentar", "text", "messaggio", "commento", "corpo", "mensagem",
            "bericht", "opmerking", "本文", "メッセージ", "お問い合わせ内容", "内容", "留言", "消息",
            "wiadomość", "mesaj", "الرسالة", "رسالة",
        ),
    }.items()
    for label in labels
}  # fmt: skip
_COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")


def apply_relay(message: InboundMessage, *, reply_to: Party | None = None) -> InboundMessage:
    """``message`` enriched with what its marketplace relay encodes; unchanged for plain mail."""
    address = message.sender.email or ""
    domain = address.rpartition("@")[2]
    recognisers: tuple[Callable[[InboundMessage, str, Party | None], InboundMessage | None], ...] = (
        _amazon,
        _walmart,
        _ebay,
        _shopify,
    )
    for recognise in recognisers:
        result = recognise(message, domain, reply_to)
        if result is not None:
            return result
    return message


# --- Amazon ----------------------------------------------------------------


def _amazon(message: InboundMessage, domain: str, reply_to: Party | None) -> InboundMessage | None:
    relay = _AMAZON_RELAY.match(domain)
    match = relay or _AMAZON_DOMAIN.match(domain)
    if match is None or match.group(1) not in AMAZON_SITES:
        return None
    site = AMAZON_SITES[match.group(1)]
    marketplace = _MARKETPLACE_PARAM.search(message.body_text)
    if marketplace and marketplace.group(1) in _AMAZON_BY_MARKETPLACE:
        site = _AMAZON_BY_MARKETPLACE[marketplace.group(1)]
    orders = _find(_AMAZON_ORDER, message.subject, message.body_text)
    kind = _amazon_kind(message, is_relay=relay is not None)
    meta = dict(message.meta)
    meta["currency"] = site.currency
    if site.marketplace_id:
        meta["marketplace_id"] = site.marketplace_id
    meta["amazon_message_kind"] = kind
    marked = replace(
        message,
        platform="amazon",
        site=site.country,
        language=site.language or message.language,
        order_refs=orders,
        meta=meta,
    )
    if kind == "sent_copy":
        copy = _amazon_sent_copy(marked, orders)
        if copy is not None:
            return copy
    if kind != "buyer_message":
        return replace(marked, auto=AutoKind.NOTIFICATION)
    alias = message.sender.email or ""
    name = _AMAZON_NAME_SUFFIX.sub("", message.sender.name or "").strip() or None
    buyer_text = _amazon_buyer_text(message.body_text)
    return replace(
        marked,
        sender=replace(message.sender, email=alias, name=name),
        stripped_text=buyer_text if buyer_text != message.body_text else None,
        external_thread_id=f"{alias}:{orders[0]}" if orders else alias,
        auto=None,
    )


def _amazon_kind(message: InboundMessage, *, is_relay: bool) -> str:
    head = message.body_text[:1500]
    if message.auto is AutoKind.BOUNCE or _AMAZON_DELIVERY_FAILURE.search(message.subject):
        return "delivery_failure"
    if _AMAZON_SENT_COPY.match(message.subject):
        return "sent_copy"
    if not is_relay:
        return "delivery_failure" if _AMAZON_DELIVERY_FAILURE.search(head) else "system"
    return "buyer_message"


def _amazon_sent_copy(message: InboundMessage, orders: tuple[str, ...]) -> InboundMessage | None:
    """Amazon's copy of a message the seller sent from Seller Central, as an agent message on the buyer's thread.

    It answers the buyer, so it must stop the response clock of the buyer's
    ticket instead of opening a ticket of its own: OUT, to the buyer's relay
    alias, with the thread key the buyer's own relay mail gets.  Where the
    template puts the alias is undocumented; it is looked for in To and Cc,
    then in the text, then in Reply-To and From.  A copy that names no alias
    cannot be placed and stays a notification.
    """
    alias = _copy_recipient(message)
    if alias is None:
        return None
    seller_text = _amazon_buyer_text(message.body_text)  # the same marker lines frame the seller's words
    return replace(
        message,
        direction=Direction.OUT,
        recipient=Party(email=alias),
        external_thread_id=f"{alias}:{orders[0]}" if orders else alias,
        stripped_text=seller_text if seller_text and seller_text != message.body_text else None,
        auto=None,
    )


def _copy_recipient(message: InboundMessage) -> str | None:
    """The buyer's relay alias in a sent-message copy: To, Cc, the text, Reply-To, From — the first found."""
    places = (
        message.meta.get("to", ""),
        message.meta.get("cc", ""),
        message.body_text,
        message.meta.get("reply_to", ""),
        message.sender.email or "",
    )
    for text in places:
        for match in _AMAZON_ALIAS.finditer(text):
            if match.group(1).lower() in AMAZON_SITES:
                return match.group(0).lower()
    return None


def _amazon_buyer_text(body: str) -> str:
    """The buyer's words: between the marker lines, else the body without Amazon's wrapper."""
    text = _COMM_TOKEN.sub("", body)
    span = _marked_span(text)
    if span is not None:
        inner = text[span[0] : span[1]]
        if span[1] == len(text):  # no end marker: the wrapper's footer follows the buyer's text
            inner = _cut_at(inner, _AMAZON_BOILERPLATE)
    else:
        inner = _cut_at(text, _AMAZON_BOILERPLATE)
        inner = _skip_preamble(inner)
    new, _ = split_reply(inner.strip())
    return new.strip()


def _marked_span(text: str) -> tuple[int, int] | None:
    """Where the buyer's text sits between Amazon's begin and end marker lines."""
    markers = list(_MARKER_LINE.finditer(text))
    begin = next((m for m in markers if _BEGIN_MARKER.search(m.group(1))), None)
    if begin is not None:
        end = next((m for m in markers if m.start() > begin.end() and _END_MARKER.search(m.group(1))), None)
        return begin.end(), end.start() if end else len(text)
    if len(markers) == 2:
        return markers[0].end(), markers[1].start()
    return None


def _skip_preamble(text: str) -> str:
    lines = text.split("\n")
    start = 0
    while start < len(lines) and (not lines[start].strip() or _AMAZON_PREAMBLE.match(lines[start])):
        start += 1
    return "\n".join(lines[start:]) if start < len(lines) else text


# --- Walmart ---------------------------------------------------------------


def _walmart(message: InboundMessage, domain: str, reply_to: Party | None) -> InboundMessage | None:
    address = message.sender.email or ""
    if domain != _WALMART_RELAY and address != _WALMART_PLACEHOLDER:
        return None
    orders = _find(_WALMART_ORDER, message.subject, message.body_text)
    meta = dict(message.meta)
    meta["currency"] = _WALMART_SITE.currency
    sender = message.sender
    alias: str | None = address
    if address == _WALMART_PLACEHOLDER:
        sender = replace(sender, email=None)
        alias = None
        meta["placeholder_sender"] = address
    new, _ = split_reply(message.body_text)
    thread = f"{alias}:{orders[0]}" if alias and orders else alias
    return replace(
        message,
        platform="walmart",
        site=_WALMART_SITE.country,
        language=_WALMART_SITE.language,
        order_refs=orders,
        sender=sender,
        external_thread_id=thread,
        stripped_text=new if new != message.body_text else None,
        meta=meta,
    )


# --- eBay ------------------------------------------------------------------


def _ebay(message: InboundMessage, domain: str, reply_to: Party | None) -> InboundMessage | None:
    relay = _EBAY_RELAY.match(domain)
    match = relay or _EBAY_DOMAIN.match(domain)
    if match is None or match.group(1) not in EBAY_SITES:
        return None
    site = EBAY_SITES[match.group(1)]
    member_message = relay is not None or bool(_EBAY_MEMBER_SUBJECT.search(message.subject))
    orders = _find(_EBAY_ORDER, message.subject, message.body_text)
    items = _find_groups(_EBAY_ITEM, message.subject, message.body_text)
    meta = dict(message.meta)
    meta["currency"] = site.currency
    meta["ebay_message_kind"] = "member_message" if member_message else "system"
    if items:
        meta["item_ids"] = ", ".join(items)
    if not member_message:
        return replace(
            message,
            platform="ebay",
            site=site.country,
            language=site.language or message.language,
            order_refs=orders,
            meta=meta,
            auto=AutoKind.NOTIFICATION,
        )
    username, buyer_text = _ebay_buyer_text(message.body_text)
    if relay is not None:
        display = message.sender.name or ""
        sender = replace(message.sender, platform_id=username or (display if _USERNAME.match(display) else None))
    elif reply_to is not None and reply_to.email and _EBAY_RELAY.match(reply_to.email.rpartition("@")[2]):
        sender = Party(platform_id=username, email=reply_to.email, name=reply_to.name or username)
        meta.pop("reply_to", None)
    else:
        sender = Party(platform_id=username, name=username)
    identity = sender.email or sender.platform_id
    reference = orders[0] if orders else (items[0] if items else None)
    thread = (f"{identity}:{reference}" if reference else identity) if identity else None
    return replace(
        message,
        platform="ebay",
        site=site.country,
        language=site.language or message.language,
        order_refs=orders,
        meta=meta,
        sender=sender,
        stripped_text=buyer_text if buyer_text != message.body_text else None,
        external_thread_id=thread,
        auto=None,
    )


def _ebay_buyer_text(body: str) -> tuple[str | None, str]:
    lines = body.split("\n")
    username = None
    start = 0
    for index, line in enumerate(lines[:40]):
        found = _EBAY_FROM_LINE.match(line)
        if found:
            username = found.group("user")
            start = index + 1
            break
    text = _cut_at("\n".join(lines[start:]), _EBAY_BOILERPLATE)
    new, _ = split_reply(text.strip())
    return username, new.strip()


# --- Shopify ---------------------------------------------------------------


def _shopify(message: InboundMessage, domain: str, reply_to: Party | None) -> InboundMessage | None:
    from_shopify = _is_shopify_domain(domain)
    form_subject = bool(_SHOPIFY_SUBJECT.match(message.subject))
    if not from_shopify and not form_subject:
        return None
    fields = _form_fields(message.body_text)
    is_form = "body" in fields and ("email" in fields or "name" in fields)
    if not is_form and not from_shopify:
        return None
    meta = dict(message.meta)
    if from_shopify and message.sender.name:
        meta["shop_name"] = message.sender.name
    if not is_form:
        customer = reply_to if reply_to and reply_to.email and not _is_shopify(reply_to.email) else None
        if customer is None:
            meta["shopify_message_kind"] = "system"
            return replace(message, platform="shopify", auto=AutoKind.NOTIFICATION, meta=meta)
        meta["shopify_message_kind"] = "customer_mail"
        meta.pop("reply_to", None)
        return replace(
            message,
            platform="shopify",
            sender=customer,
            order_refs=_find(_SHOPIFY_ORDER, message.subject, message.body_text),
            meta=meta,
        )
    meta["shopify_message_kind"] = "contact_form"
    form_email = _form_address(fields.get("email", ""))
    fallback = reply_to if reply_to and reply_to.email and not _is_shopify(reply_to.email) else None
    name = fields.get("name") or (fallback.name if fallback else None)
    country = fields.get("country", "")
    customer = Party(
        email=form_email or (fallback.email if fallback else None),
        name=name or None,
        phone=fields.get("phone") or None,
        country=country.upper() if _COUNTRY_CODE.match(country) else None,
    )
    meta.pop("reply_to", None)
    text = fields["body"].strip()
    order_text = fields.get("order", "")
    orders = list(_find(_SHOPIFY_ORDER, message.subject, text, order_text))
    if order_text.strip().isdigit() and len(order_text.strip()) >= 4 and f"#{order_text.strip()}" not in orders:
        orders.append(f"#{order_text.strip()}")
    return replace(
        message,
        platform="shopify",
        sender=customer,
        stripped_text=text if text != message.body_text else None,
        order_refs=tuple(orders),
        auto=None,
        meta=meta,
    )


def _is_shopify(address: str) -> bool:
    return _is_shopify_domain(address.rpartition("@")[2])


def _is_shopify_domain(domain: str) -> bool:
    return any(domain == known or domain.endswith(f".{known}") for known in _SHOPIFY_DOMAINS)


def _form_fields(body: str) -> dict[str, str]:
    """Contact-form fields, whether the value shares the label's line or follows it."""
    collected: dict[str, list[str]] = {}
    current: str | None = None
    for line in body.split("\n"):
        if current != "body":
            found = _FORM_FIELD.match(line)
            key = _FORM_LABELS.get(found.group("label").strip().lower()) if found else None
            if found is not None and key is not None and key not in collected:
                current = key
                collected[key] = [found.group("value")] if found.group("value").strip() else []
                continue
        if current is not None:
            collected[current].append(line)
    fields: dict[str, str] = {}
    for key, values in collected.items():
        text = "\n".join(values).strip()
        fields[key] = text if key == "body" else " ".join(text.split())
    return fields


def _form_address(value: str) -> str | None:
    if not value:
        return None
    _, address = parse_address(value)
    return address


# --- shared ----------------------------------------------------------------


def _find(pattern: re.Pattern[str], *texts: str) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for text in texts:
        for match in pattern.finditer(text):
            found[match.group(0)] = None
    return tuple(found)


def _find_groups(pattern: re.Pattern[str], *texts: str) -> list[str]:
    found: dict[str, None] = {}
    for text in texts:
        for match in pattern.finditer(text):
            found[match.group(1)] = None
    return list(found)


def _cut_at(text: str, boilerplate: re.Pattern[str]) -> str:
    lines: Iterable[str] = text.split("\n")
    kept = []
    for line in lines:
        if boilerplate.match(line):
            break
        kept.append(line)
    return "\n".join(kept)
