"""The email connector: a mailbox read over IMAP, replies sent over SMTP.

The cursor is JSON text holding one (UIDVALIDITY, last UID) position per
folder read::

    {"v": 1, "inbox": {"uidvalidity": 1700000000, "uid": 42}, "sent": {...}}

A page takes new mail from the inbox folder first, then (when the account
names a ``sent_folder``) replies the seller wrote in another client, which
become ``Direction.OUT`` messages on their ticket and are never sent again.
Mail that does not parse travels back as :class:`RejectedInput` so the
poller quarantines it and the cursor still moves past it.

Loops are guarded twice: our own replies carry deterministic Message-IDs
(stored as the reply's external id, so a copy deduplicates), and inbound mail
from the account's own sending address is dropped unless it comes from the
Sent folder.  Marking mail read or moving it waits for :meth:`committed`,
which the poller calls only after the page's transaction committed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from channels.base import (
    AccountConfig,
    AttachmentLimits,
    Capability,
    ChannelError,
    Check,
    Connector,
    Diagnosis,
    DiagnosisCode,
    Direction,
    FetchResult,
    InboundMessage,
    OutboundReply,
    Party,
    RejectedInput,
    SendResult,
    Watcher,
    diagnose,
)
from channels.email.imap import FolderPage, ImapMailbox, RawMail
from channels.email.mime import MailParseError, parse_email
from channels.email.settings import (
    MAX_REPLY_FILES,
    PLATFORMS,
    SCHEMA,
    EmailSettings,
    complete_settings,
    load_settings,
    reply_attachment_bytes,
)
from channels.email.smtp import build_reply, check_smtp, is_our_message_id, reply_message_id, send_message
from channels.registry import register

log = logging.getLogger(__name__)

CURSOR_VERSION = 1


@dataclass(frozen=True, slots=True)
class FolderCursor:
    """Where reading of one folder stopped."""

    uidvalidity: int | None = None
    uid: int = 0


def load_cursor(text: str | None) -> dict[str, FolderCursor]:
    """Folder role ("inbox", "sent") → position; an unreadable cursor starts over."""
    if not text:
        return {}
    try:
        data = json.loads(text)
        if data.get("v") != CURSOR_VERSION:
            raise ValueError(f"cursor version {data.get('v')!r}")
        return {
            role: FolderCursor(int(pos["uidvalidity"]) if pos.get("uidvalidity") is not None else None, int(pos["uid"]))
            for role, pos in data.items()
            if role != "v"
        }
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        log.warning("unreadable email cursor %r (%s); reading from the start, dedupe keeps it harmless", text, exc)
        return {}


def dump_cursor(positions: dict[str, FolderCursor]) -> str:
    data: dict[str, object] = {"v": CURSOR_VERSION}
    for role in sorted(positions):
        pos = positions[role]
        data[role] = {"uidvalidity": pos.uidvalidity, "uid": pos.uid}
    return json.dumps(data, separators=(",", ":"))


def _parse_raw(raw: bytes, account: str | None) -> InboundMessage:
    """Quarantine replay: the stored mail bytes, parsed again (by a parser that may have been fixed)."""
    return parse_email(raw, account=account or "")


@register
class EmailConnector(Connector):
    """One mailbox: IMAP in, SMTP out."""

    kind = "email"
    title = "E-mail (IMAP and SMTP)"
    platforms = (None, *PLATFORMS)
    capabilities = frozenset(
        {
            Capability.FETCH_MESSAGES,
            Capability.SEND_REPLY,
            Capability.HTML_OUT,
            Capability.ATTACHMENTS_OUT,
            Capability.WATCH,
        }
    )
    schema = SCHEMA
    raw_formats = {"email": _parse_raw}

    def __init__(self, account: AccountConfig) -> None:
        super().__init__(account)
        self.settings: EmailSettings = load_settings(account)
        self.mailbox = ImapMailbox(self.settings, self.credentials)
        self._pending: dict[str, list[int]] = {}

    @classmethod
    def complete_settings(cls, settings: dict[str, object], secrets: set[str]) -> dict[str, object]:
        return complete_settings(settings, secrets)

    @classmethod
    def reply_attachment_limits(cls, settings: Mapping[str, object]) -> AttachmentLimits:
        """Any type, up to what the account's SMTP server takes once base64 has grown the files."""
        return AttachmentLimits(max_attachments=MAX_REPLY_FILES, max_attachment_bytes=reply_attachment_bytes(settings))

    # --- set-up and health ----------------------------------------------------------------------------

    def check_connection(self) -> Diagnosis:
        """Log in to IMAP and open every folder read; log in to SMTP when replies are configured."""
        checks = [self._check_imap()]
        if self.settings.smtp_host:
            try:
                check_smtp(self.settings, self.credentials)
                checks.append(Check("replies", DiagnosisCode.OK, f"SMTP login to {self.settings.smtp_host} works"))
            except ChannelError as exc:
                checks.append(Check("replies", diagnose(exc), str(exc)))
        return Diagnosis.from_checks(checks)

    def _check_imap(self) -> Check:
        try:
            for folder in filter(None, (self.settings.folder, self.settings.sent_folder)):
                self.mailbox.check_folder(folder)
        except ChannelError as exc:
            return Check("messages", diagnose(exc), str(exc))
        finally:
            self.mailbox.close()
        return Check("messages", DiagnosisCode.OK, f"IMAP login as {self.settings.user} works")

    def watcher(self, ring: Callable[[], None]) -> Watcher | None:
        """IMAP IDLE, for accounts that asked for it (``idle``)."""
        if not self.settings.idle:
            return None
        from channels.email.idle import IdleWatcher

        return IdleWatcher(self.settings, self.credentials, ring, name=self.account.name)

    # --- reading ---------------------------------------------------------------------------------

    def fetch(self, cursor: str | None, limit: int = 500) -> FetchResult:
        positions = load_cursor(cursor)
        messages: list[InboundMessage] = []
        rejected: list[RejectedInput] = []
        more = False
        handled: dict[str, list[int]] = {}
        folders = [("inbox", self.settings.folder)]
        if self.settings.sent_folder:
            folders.append(("sent", self.settings.sent_folder))
        for role, folder in folders:
            room = limit - len(messages) - len(rejected)
            if room <= 0:
                more = True
                break
            pos = positions.get(role, FolderCursor())
            page = self.mailbox.new_mail(folder, pos.uidvalidity, pos.uid, room)
            self._read(page, outgoing=role == "sent", messages=messages, rejected=rejected)
            positions[role] = FolderCursor(page.uidvalidity, page.last_uid)
            handled[role] = [mail.uid for mail in page.mails]
            more = more or page.more
        new_cursor = dump_cursor(positions)
        self._pending[new_cursor] = handled.get("inbox", [])
        return FetchResult(messages=messages, cursor=new_cursor, more=more, rejected=rejected)

    def _read(
        self, page: FolderPage, *, outgoing: bool, messages: list[InboundMessage], rejected: list[RejectedInput]
    ) -> None:
        for mail in page.mails:
            try:
                msg = self.parse(mail)
            except MailParseError as exc:
                rejected.append(RejectedInput(mail.raw, "email", exc.reason))
                continue
            msg = self._as_outgoing(msg) if outgoing else msg
            if msg is not None and not self._own_mail(msg, outgoing=outgoing):
                messages.append(msg)

    def parse(self, mail: RawMail) -> InboundMessage:
        return parse_email(
            mail.raw,
            account=self.account.name,
            max_attachment_bytes=self.settings.max_attachment_bytes,
            received_at=mail.received_at,
        )

    def _own_addresses(self) -> set[str]:
        return {a.lower() for a in (self.settings.from_address, self.settings.user) if a and "@" in a}

    def _own_mail(self, msg: InboundMessage, *, outgoing: bool) -> bool:
        """Loop guard: our own outgoing mail must never come back in as buyer mail."""
        if is_our_message_id(msg.external_id):
            return True
        if outgoing:
            return False
        return (msg.sender.email or "").lower() in self._own_addresses()

    def _as_outgoing(self, msg: InboundMessage) -> InboundMessage | None:
        """A reply from the Sent folder: an agent message to its first recipient."""
        to = (msg.meta.get("to") or "").split(",")[0].strip()
        if not to:
            return None
        return replace(msg, direction=Direction.OUT, recipient=Party(email=to), auto=None)

    def committed(self, page: FetchResult) -> None:
        """Mark the page's inbox mail read and/or move it, now that it is safely stored.

        A failure here only leaves mail unread where it was: it is logged, never
        raised, because the page is already committed and the cursor past it.
        """
        uids = self._pending.pop(page.cursor or "", [])
        s = self.settings
        if not uids or not (s.mark_seen or s.move_to):
            return
        try:
            self.mailbox.mark_processed(s.folder, uids, seen=s.mark_seen, move_to=s.move_to)
        except ChannelError as exc:
            log.warning("could not mark %d mails of %s as processed: %s", len(uids), self.account.name, exc)

    def close(self) -> None:
        self._pending.clear()
        self.mailbox.close()

    # --- sending ---------------------------------------------------------------------------------

    def send_reply(self, reply: OutboundReply) -> SendResult:
        """Send ``reply`` over SMTP; its Message-ID is the same on every retry."""
        now = datetime.now(UTC)
        msg = build_reply(reply, self.settings, date=now)
        send_message(msg, self.settings, self.credentials)
        return SendResult(external_id=reply_message_id(reply, self.settings.sender_domain), sent_at=now)
