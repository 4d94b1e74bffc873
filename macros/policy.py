"""Platform policies for replies: what a marketplace forbids in a message to a buyer.

Amazon refuses buyer messages with e-mail addresses, phone numbers or links
that are not needed to complete the order; eBay forbids contact details and
off-eBay links and caps a message at 2,000 characters; Amazon's Messaging API
takes plain text only.  A reply that breaks such a rule is rejected by the
platform (or, worse, counted against the seller), so the helpdesk checks it
*before* it leaves, in the composer as the agent types and again on send.

A :class:`ReplyPolicy` is data: each platform's package declares its own
(``Connector.reply_policies``) and the registry hands it out by platform, so
this module never names a platform.  :func:`check_reply` returns every
:class:`Violation`, each with a stable ``code`` the UI translates, the
offending text span for highlighting, and whether it blocks sending.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"')]+", re.IGNORECASE)
_BARE_DOMAIN = re.compile(
    r"\b[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9-]{1,63})*\.(?:com|net|org|info|biz|io|co|shop|store|de|uk|fr|es|it|"
    r"jp|cn|ru|nl|pl|br|mx|in|au|ca|me|app|site|online|ly|gl|gd|to|cc|tv|link|club|xyz|top)\b(?:/[^\s]*)?",
    re.IGNORECASE,
)
# "name at gmail dot com", "name [at] gmail [dot] com", "name＠gmail．com" (full width is folded first)
_AT = r"(?:\s*[\(\[\{]\s*(?:at|@)\s*[\)\]\}]\s*|\s+(?:at|arroba|chez|bei|アット|あっと|艾特)\s+)"
_DOT = r"(?:\s*[\(\[\{]\s*(?:dot|\.)\s*[\)\]\}]\s*|\s+(?:dot|punkt|point|punto|ponto|kropka|ドット|点)\s+)"
_OBFUSCATED_EMAIL = re.compile(
    rf"\b[A-Za-z0-9._%+-]{{2,}}{_AT}[A-Za-z0-9-]{{2,}}(?:{_DOT}[A-Za-z0-9-]{{2,}})*{_DOT}[A-Za-z]{{2,6}}\b",
    re.IGNORECASE,
)
_MESSENGERS = re.compile(
    r"\b(?:whats\s?app|wechat|weixin|telegram|viber|skype|kakao\s?talk|line\s+id|signal\s+app)\b|微信|ライン|ワッツアップ",
    re.IGNORECASE,
)
_MARKETING = re.compile(
    r"(?:\b(?:promo(?:tion(?:al)?)?\s+code|coupon(?:\s+code)?|discount\s+code|voucher\s+code|\d{1,2}\s?%\s?off|"
    r"visit\s+our\s+(?:store|shop|website)|follow\s+us|subscribe\s+to\s+our|newsletter|"
    r"leave\s+(?:us\s+)?(?:a\s+)?(?:positive|5[- ]star|five[- ]star)\s+(?:review|feedback|rating)|"
    r"gutscheincode|rabattcode|code\s+promo|c[óo]digo\s+(?:de\s+)?descuento|cup[óo]n|codice\s+sconto|"
    r"kod\s+rabatowy|kortingscode)\b|クーポン|割引コード|优惠券|折扣码|好评)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# 8+ digits, optionally with a leading + and separators; dates and order numbers in the platform's own shape
# are common in replies, so a candidate is only a phone number when it does not look like one of those.
_PHONE = re.compile(r"(?<![\w-])(?:\+|00)?\d[\d\s().-]{6,}\d(?![\w-])")
_DATE_LIKE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
_HTML = re.compile(r"<\s*/?\s*[a-z][a-z0-9]*(?:\s[^>]*)?>", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ReplyPolicy:
    """The rules one platform sets for messages to buyers.

    ``allowed_link_hosts`` lists hosts a link may point to (the platform's own
    pages, carriers' tracking); ``order_number`` is the platform's order-number
    pattern, so such numbers are never mistaken for phone numbers.  ``source``
    says where the rules come from, for the docs and the UI.
    """

    platform: str
    max_chars: int | None = None
    forbid_links: bool = False
    allowed_link_hosts: tuple[str, ...] = ()
    forbid_email_addresses: bool = False
    forbid_phone_numbers: bool = False
    plain_text_only: bool = False
    max_attachments: int | None = None
    max_attachment_bytes: int | None = None
    allowed_attachment_types: tuple[str, ...] = ()
    order_number: str | None = None
    forbid_off_platform: bool = False  # messenger apps and the like: moving the conversation (or sale) elsewhere
    forbid_marketing: bool = False  # coupon codes, "visit our shop", asking for positive reviews
    source: str = ""


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: ``code`` is stable (the UI translates it), ``detail`` names the offending part."""

    code: str
    detail: str
    start: int | None = None
    end: int | None = None
    blocking: bool = True


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    filename: str
    content_type: str
    size: int


def _host_allowed(url: str, allowed: tuple[str, ...]) -> bool:
    host = (urlsplit(url if "://" in url else f"http://{url}").hostname or "").lower()
    return any(host == a or host.endswith("." + a) for a in allowed)


def _links(policy: ReplyPolicy, text: str) -> list[Violation]:
    found: list[Violation] = []
    taken: list[tuple[int, int]] = []
    for match in list(_URL.finditer(text)) + list(_BARE_DOMAIN.finditer(text)):
        start, end = match.span()
        if any(s <= start < e for s, e in taken):
            continue
        before = text[max(0, start - 1) : start]
        if before == "@":  # the domain of an e-mail address: that rule reports it
            continue
        taken.append((start, end))
        if not _host_allowed(match.group(), policy.allowed_link_hosts):
            found.append(Violation("link", match.group(), start, end))
    return found


def fold(text: str) -> str:
    """``text`` with full-width and other compatibility forms, and every script's digits, as ASCII.

    Character by character, so positions found in the folded text are positions
    in the original (``１２３`` and ``١٢٣`` become ``123``; ``＠`` becomes ``@``).
    """
    out = []
    for char in text:
        if char.isascii():
            out.append(char)
            continue
        digit = unicodedata.decimal(char, None)
        if digit is not None:
            out.append(str(digit))
            continue
        folded = unicodedata.normalize("NFKC", char)
        out.append(folded if len(folded) == 1 else char)
    return "".join(out)


def _phones(
    policy: ReplyPolicy, text: str, skip: list[tuple[int, int]], known: frozenset[str] = frozenset()
) -> list[Violation]:
    order = re.compile(policy.order_number) if policy.order_number else None
    found = []
    for match in _PHONE.finditer(text):
        if any(s <= match.start() < e for s, e in skip):
            continue  # digits inside a link (a tracking number in a carrier's URL) are the link's business
        candidate = match.group().strip()
        digits = re.sub(r"\D", "", candidate)
        if len(digits) < 8 or len(digits) > 15 or _DATE_LIKE.match(candidate):
            continue
        if order is not None and order.fullmatch(candidate):
            continue
        if digits in known:  # the ticket's own order or tracking number, not a way to call anyone
            continue
        found.append(Violation("phone_number", candidate, match.start(), match.end()))
    return found


def check_reply(
    policy: ReplyPolicy | None,
    text: str,
    attachments: Sequence[AttachmentInfo] = (),
    *,
    html: str | None = None,
    known_numbers: Sequence[str | None] = (),
) -> list[Violation]:
    """Every rule of ``policy`` that ``text`` (and its attachments) breaks; [] when it may be sent.

    ``known_numbers`` are the ticket's own order and tracking numbers: a reply
    that quotes them is not giving out a phone number, whatever their shape.
    """
    if policy is None:
        return []
    out: list[Violation] = []
    if policy.max_chars is not None and len(text) > policy.max_chars:
        out.append(Violation("too_long", f"{len(text)} characters; at most {policy.max_chars}"))
    original, text = text, fold(text)
    emails: list[tuple[int, int]] = []
    if policy.forbid_email_addresses:
        for pattern in (_EMAIL, _OBFUSCATED_EMAIL):
            for m in pattern.finditer(text):
                if not any(s <= m.start() < e for s, e in emails):
                    emails.append(m.span())
                    out.append(Violation("email_address", original[m.start() : m.end()], m.start(), m.end()))
    links = [m.span() for m in _URL.finditer(text)] + [m.span() for m in _BARE_DOMAIN.finditer(text)]
    if policy.forbid_links:
        out.extend(v for v in _links(policy, text) if not any(s <= (v.start or 0) < e for s, e in emails))
    if policy.forbid_phone_numbers:
        known = frozenset(re.sub(r"\D", "", fold(n)) for n in known_numbers if n)
        out.extend(_phones(policy, text, links + emails, known))
    if policy.forbid_off_platform:
        out.extend(Violation("off_platform", m.group(), m.start(), m.end()) for m in _MESSENGERS.finditer(text))
    if policy.forbid_marketing:
        out.extend(Violation("marketing", m.group(), m.start(), m.end()) for m in _MARKETING.finditer(text))
    if policy.plain_text_only and (html or _HTML.search(text)):
        out.append(Violation("html", "formatting is sent as plain text", blocking=False))
    if policy.max_attachments is not None and len(attachments) > policy.max_attachments:
        out.append(Violation("too_many_attachments", f"{len(attachments)} files; at most {policy.max_attachments}"))
    total = sum(a.size for a in attachments)
    if policy.max_attachment_bytes is not None and total > policy.max_attachment_bytes:
        out.append(Violation("attachments_too_large", f"{total} bytes in all; at most {policy.max_attachment_bytes}"))
    if policy.allowed_attachment_types:
        for a in attachments:
            if not any(
                a.content_type.startswith(t) or a.filename.lower().endswith(t) for t in policy.allowed_attachment_types
            ):
                out.append(Violation("attachment_type", f"{a.filename} ({a.content_type})"))
    return sorted(out, key=lambda v: (v.start if v.start is not None else -1, v.code))
