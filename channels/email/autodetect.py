"""Recognise machine-written mail so it never opens tickets or starts clocks.

Signals, strongest first:

1. MIME structure: a delivery-status report is a bounce; a feedback
   (ARF) report or a read receipt (MDN) is a notification.
2. The sender: ``MAILER-DAEMON`` and ``postmaster`` write bounces.
3. Bounce subjects that only MTAs use, in several languages.
4. Feedback-report subjects and notification-only senders.
5. RFC 3834 and vendor headers of auto-responders (``Auto-Submitted``,
   ``X-Autoreply``, ``Precedence: bulk`` …).
6. Vacation-notice subjects ("Out of Office", "Abwesenheitsnotiz", "自動返信" …).
7. A null reverse-path (``Return-Path: <>``), which no person's mail has.

Marketplace relay mail is judged again in :mod:`channels.email.relay`,
because a relay's own headers say nothing about the buyer who wrote.
"""

from __future__ import annotations

import re
from email.message import Message
from email.parser import HeaderParser

from channels.base import AutoKind
from channels.email.headers import decode_header_value, header_text, message_ids
from channels.email.tree import MimePart

__all__ = ["bounce_details", "classify"]

_BOUNCE_LOCALS = frozenset({"mailer-daemon", "mailerdaemon", "mail-daemon", "postmaster", "post_master"})
_DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
_NOTIFICATION_TYPES = frozenset(
    {"message/feedback-report", "message/disposition-notification", "message/global-disposition-notification"}
)
_NOTIFICATION_REPORTS = frozenset({"feedback-report", "disposition-notification"})
_BOUNCE_SUBJECT = re.compile(
    r"""^\s*(?:\[[^\]]{0,40}\]\s*)?(?:
        Undelivered\s+Mail\s+Returned\s+to\s+Sender
      | (?:Mail\s+)?Delivery\s+Status\s+Notification
      | Mail\s+delivery\s+failed
      | Message\s+delivery\s+has\s+failed
      | Delivery\s+Notification:\s*Delivery\s+has\s+failed
      | failure\s+notice
      | Returned\s+mail\s*(?::|$)
      | Undeliverable\s*:
      | Undeliverable\s+(?:mail|message)\s*(?::|$)
      | (?:Permanent\s+)?Delivery\s+failure\s*(?::|$)
      | Mail\s+System\s+Error\s*-\s*Returned\s+Mail
      | Mail\s+could\s+not\s+be\s+delivered
      | Warning:\s+could\s+not\s+send\s+message
      | Delayed\s+Mail\b
      | Unzustellbar\s*:
      | Nicht\s+zustellbar\s*:
      | Non\s+remis\s*:
      | Non\s+distribuable\s*:
      | Onbestelbaar\s*:
      | No\s+se\s+puede\s+entregar\s*:
      | Impossibile\s+recapitare\s*:
      | Não\s+é\s+possível\s+entregar\s*:
      | Ваше\s+сообщение\s+не\s+доставлено
      | Недоставленное\s+сообщение
      | メッセージを配信できません
      | メールエラー通知
      | 配信不能
      | 配送エラー
      | 退信
      | 系统退信
      | 無法傳遞
      | 无法投递
    )""",
    re.VERBOSE | re.IGNORECASE,
)
_VACATION_SUBJECT = re.compile(
    r"""^\s*(?:
        Out\s+of\s+(?:the\s+)?Office
      | Automatic\s+reply
      | Auto(?:matic)?[\s-]?(?:reply|response|respons)\b
      | Autoreply\b
      | Autoresponder\b
      | On\s+vacation\b
      | Vacation\s+(?:reply|notice|message|auto)
      | Abwesenheitsnotiz
      | Automatische\s+Antwort
      | Abwesend\b
      | Réponse\s+automatique
      | Absence\s+du\s+bureau
      | Respuesta\s+automática
      | Fuera\s+de\s+(?:la\s+)?oficina
      | Risposta\s+automatica
      | Fuori\s+sede
      | Automatisch\s+antwoord
      | Afwezig\b
      | Resposta\s+automática
      | Autosvar\b
      | Automatiskt\s+svar
      | Odpowiedź\s+automatyczna
      | Otomatik\s+yan\u0131t
      | Автоответ
      | Автоматический\s+ответ
      | 自動返信
      | 自動応答
      | 不在通知
      | 自动回复
      | 自動回覆
      | 자동\s*응답
      | رد\s+تلقائي
    )""",
    re.VERBOSE | re.IGNORECASE,
)
_NOTIFICATION_SUBJECT = re.compile(
    r"^\s*(?:complaint\s+about\s+message\s+from|Email\s+Feedback\s+Report|Abuse\s+Report\b)", re.IGNORECASE
)
_AUTO_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder", "x-autoreply-from", "x-mail-autoreply")
_AUTO_PRECEDENCE = frozenset({"auto_reply", "bulk", "junk"})
_NOTIFICATION_SENDERS = frozenset({"no-reply@sns.amazonaws.com"})
_SES_BOUNCE = re.compile(r'"notificationType"\s*:\s*"(?:Bounce|Complaint)"')


def classify(tree: MimePart, *, sender: str | None, subject: str, text: str = "") -> AutoKind | None:
    """The kind of machine-written mail ``tree`` (a parsed mail) is, or None for a human message.

    ``sender`` is the lowercased From address, ``subject`` the decoded
    subject, ``text`` the body text (only used for provider notices that
    carry bounces as JSON).
    """
    kind = _by_structure(tree)
    if kind is not None:
        return kind
    local, _, domain = (sender or "").partition("@")
    if local in _BOUNCE_LOCALS or (sender or "").startswith("mailer-daemon"):
        return AutoKind.BOUNCE
    if _BOUNCE_SUBJECT.match(subject):
        return AutoKind.BOUNCE
    if domain.endswith("amazonaws.com") and _SES_BOUNCE.search(text):
        return AutoKind.BOUNCE
    if _NOTIFICATION_SUBJECT.match(subject) or (sender or "") in _NOTIFICATION_SENDERS:
        return AutoKind.NOTIFICATION
    if _auto_reply_headers(tree) or _VACATION_SUBJECT.match(subject):
        return AutoKind.AUTO_REPLY
    if (tree.get("return-path") or "").strip() == "<>":
        # Only machines send with a null reverse-path (RFC 5321 §4.5.5).
        return AutoKind.AUTO_REPLY
    return None


def _by_structure(tree: MimePart) -> AutoKind | None:
    if tree.content_type == "multipart/report":
        report = str(tree.param("report-type") or "").strip().lower()
        if report == "delivery-status":
            return AutoKind.BOUNCE
        if report in _NOTIFICATION_REPORTS:
            return AutoKind.NOTIFICATION
    if "mdn" in (tree.get("content-class") or "").lower():
        return AutoKind.NOTIFICATION
    found_notification = False
    for part in tree.walk():
        ctype = part.content_type
        if ctype in _DSN_TYPES:
            return AutoKind.BOUNCE
        if ctype in _NOTIFICATION_TYPES:
            found_notification = True
    return AutoKind.NOTIFICATION if found_notification else None


def _auto_reply_headers(tree: MimePart) -> bool:
    def value(name: str) -> str:
        return tree.get(name) or ""

    submitted = value("auto-submitted").split(";", 1)[0].strip().lower()
    if submitted and submitted != "no":
        return True
    if any(value(name).strip() for name in _AUTO_HEADERS):
        return True
    precedence = value("precedence").strip().lower()
    if precedence in _AUTO_PRECEDENCE:
        return True
    return bool(value("x-auto-response-suppress").strip())


def bounce_details(tree: MimePart) -> dict[str, str]:
    """What a bounce (``tree``, a parsed mail) says about the mail it returns, for linking it to that mail.

    Keys (only those found): ``bounced_message_id``, ``bounced_recipients``
    (comma-separated), ``bounce_status`` (the first DSN status code).
    """
    details: dict[str, str] = {}
    recipients: list[str] = []
    for part in tree.walk():
        ctype = part.content_type
        if ctype in _DSN_TYPES:
            _read_dsn(part, details, recipients)
        elif ctype in {"message/rfc822", "message/global"} and "bounced_message_id" not in details:
            inner = part.message.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                ids = message_ids(part.children[0].get("message-id"))
                if ids:
                    details["bounced_message_id"] = ids[0]
        elif ctype == "text/rfc822-headers" and "bounced_message_id" not in details:
            payload = part.message.get_payload(decode=True)
            if isinstance(payload, bytes):
                headers = HeaderParser().parsestr(payload.decode("utf-8", "replace"))
                ids = message_ids(header_text(headers.get("message-id")))
                if ids:
                    details["bounced_message_id"] = ids[0]
    if recipients:
        details["bounced_recipients"] = ", ".join(dict.fromkeys(recipients))
    return details


def _read_dsn(part: MimePart, details: dict[str, str], recipients: list[str]) -> None:
    for block in part.children:
        for name in ("final-recipient", "original-recipient"):
            value = decode_header_value(block.get(name) or "")
            if value:
                address = value.split(";", 1)[-1].strip().strip("<>").lower()
                if address:
                    recipients.append(address)
                break
        status = (block.get("status") or "").strip()
        if status and "bounce_status" not in details:
            details["bounce_status"] = status.split()[0]
