"""Trading Platform Notifications (``AskSellerQuestion``, ``MyMessagesM2MMessage``…): verify, route, poll.

eBay POSTs a SOAP envelope: the signature in the header
(``RequesterCredentials/NotificationSignature``), the event in the body (a
``Get…Response`` with ``Timestamp``, ``NotificationEventName`` and
``RecipientUserID``, the seller it is for).  A notification only says that
something changed; the poll that follows reads it through the normal API,
so nothing from the body is stored and a lost notification costs nothing
but latency.

Verification: the signature is checked with each candidate account's keyset
(one application's keyset usually serves every seller, so several may
match); among those, the account whose seller user id is the recipient is
polled.  A ``Timestamp`` more than :data:`MAX_AGE` old (or more than
:data:`MAX_AHEAD` ahead) is refused: eBay redelivers unacknowledged
notifications on a schedule it does not publish, and an hour covers a short
outage of ours while keeping a captured notification from being replayed
later (the helpdesk also accepts each dedupe key once).  A refused stale
notification loses nothing: the next scheduled poll reads the same data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lxml import etree

from channels.base import AccountConfig, PushRejected, PushRequest, PushResult
from channels.ebay import trading
from channels.ebay.signing import signature_matches

MAX_AGE = timedelta(hours=1)
MAX_AHEAD = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Notification:
    event: str
    timestamp: str
    recipient: str
    signature: str
    reference: str  # the message (or item) id the event is about, when it names one


def _first(root: etree._Element, name: str) -> str:
    found = root.xpath(f"(.//*[local-name()='{name}'])[1]/text()")
    return str(found[0]).strip() if found else ""


def parse(raw: bytes) -> Notification:
    """The parts of a notification we need; PushRejected(400) when it is not one."""
    try:
        root = trading.parse(raw)
    except ValueError as exc:
        raise PushRejected(f"not an eBay notification: {exc}", status=400) from None
    body = root.xpath("./*[local-name()='Body']/*[1]")
    if not body:
        raise PushRejected("not an eBay notification: no SOAP body", status=400)
    response = body[0]
    signature = _first(root, "NotificationSignature")
    timestamp = str((response.xpath("./*[local-name()='Timestamp']/text()") or [""])[0]).strip()
    if not signature or not timestamp:
        raise PushRejected("the notification carries no signature or timestamp", status=401)
    return Notification(
        event=_first(response, "NotificationEventName"),
        timestamp=timestamp,
        recipient=_first(response, "RecipientUserID"),
        signature=signature,
        reference=_first(response, "MessageID") or _first(response, "ExternalMessageID") or _first(response, "ItemID"),
    )


def _keyset(account: AccountConfig) -> tuple[str, str, str] | None:
    settings = account.settings
    secrets = account.store().get()
    dev_id = str(settings.get("dev_id") or "")
    app_id = str(settings.get("app_id") or settings.get("client_id") or "")
    cert_id = secrets.get("cert_id") or secrets.get("client_secret") or ""
    return (dev_id, app_id, cert_id) if dev_id and app_id and cert_id else None


def handle(request: PushRequest, accounts: Sequence[AccountConfig], now: datetime | None = None) -> PushResult:
    """Verify a notification over its raw bytes and name the account to poll."""
    note = parse(request.body)
    verified: list[AccountConfig] = []
    checked: dict[tuple[str, str, str], bool] = {}
    for account in accounts:
        keys = _keyset(account)
        if keys is None:
            continue
        if keys not in checked:
            checked[keys] = signature_matches(note.signature, note.timestamp, *keys)
        if checked[keys]:
            verified.append(account)
    if not verified:
        raise PushRejected("the notification signature matches no eBay account's keyset", status=401)
    try:
        sent = datetime.fromisoformat(note.timestamp)
    except ValueError:
        raise PushRejected(f"the notification timestamp {note.timestamp!r} is not a time", status=400) from None
    sent = sent if sent.tzinfo else sent.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    if sent < now - MAX_AGE or sent > now + MAX_AHEAD:
        raise PushRejected(f"the notification of {note.timestamp} is outside the accepted window", status=400)
    recipient = note.recipient.casefold()
    named = [a for a in verified if str(a.settings.get("seller_username") or "").casefold() == recipient]
    if not named and recipient:
        # accounts that never said who they are may be the recipient; a poll of one that is not costs little
        named = [a for a in verified if not a.settings.get("seller_username")]
    return PushResult(
        dedupe_key=f"ebay:{note.event}:{note.recipient}:{note.reference}:{note.timestamp}",
        poll=tuple(a.name for a in named),
        response=b"",
    )
