"""Files an agent attaches to a reply or an internal note: limits, names, storage, delivery.

The limits a reply must keep come from the ticket's connector (what its
platform or mail server accepts, :meth:`channels.base.Connector.reply_attachment_limits`)
tightened by the platform's reply rules (Amazon takes 10 MB in all, even when
the reply goes out over the seller's own mail server).  An internal note
never leaves the helpdesk, so it only keeps the helpdesk's own upload limit.
The check runs on the server whatever the composer showed; its message names
the limit that was broken.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Sequence

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from jinja2.filters import do_filesizeformat
from sqlalchemy.orm import Session

from channels import registry
from channels.base import AttachmentData, AttachmentLimits, Capability
from helpdesk.attachments import store
from helpdesk.attachments.names import safe_filename
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.tickets.models import Attachment, Message, Ticket
from helpdesk.tickets.services import TicketError

#: Files on one internal note; its bytes are bounded by the helpdesk's upload limit.
MAX_NOTE_FILES = 20


class AttachmentRefused(TicketError):
    """The files break a limit; ``str()`` is the message for the agent, in their language.

    ``limit`` says which one (``no_files``, ``count``, ``size`` or ``type``) and
    ``index`` which file broke it, when one did: the API answers a size over
    the limit with 413 and names the file at fault.
    """

    def __init__(self, text: object, limit: str = "count", index: int | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.limit = limit
        self.index = index

    def __str__(self) -> str:
        return str(self.text)


#: An agent's files could not be written (disk full, quota): nothing of the message is kept, so nothing half-sent.
NOT_WRITTEN = _l(
    "The server could not save the attachments (its disk may be full), so nothing was sent. "
    "Tell your admin, then send again."
)


def size_text(n: int) -> str:
    """Bytes as people read them (``14.7 MB``), the same way the composer shows limits."""
    return do_filesizeformat(n)


def note_limits() -> AttachmentLimits:
    return AttachmentLimits(
        max_attachments=MAX_NOTE_FILES,
        max_attachment_bytes=current_app.config["HELPDESK_SETTINGS"].attachment_max_bytes,
    )


def sends_replies(session: Session, ticket: Ticket) -> bool:
    """Whether the ticket's channel can carry a reply to the customer (a signed webhook cannot)."""
    account = session.get(ChannelAccount, ticket.channel_account_id)
    try:
        return account is None or Capability.SEND_REPLY in registry.get(account.kind).capabilities
    except KeyError:
        return True  # an uninstalled kind: the reply fails at sending with that reason, as before


def reply_limits(session: Session, ticket: Ticket) -> AttachmentLimits:
    """What a reply on this ticket may carry: its connector's limits, tightened by its platform's rules."""
    account = session.get(ChannelAccount, ticket.channel_account_id)
    try:
        limits = registry.get(account.kind).reply_attachment_limits(account.settings or {}) if account else None
    except KeyError:
        limits = None
    if limits is None or not limits.accepts_files:
        return AttachmentLimits()
    policy = registry.reply_policy(ticket.platform)
    if policy is None:
        return limits
    count, size = limits.max_attachments, limits.max_attachment_bytes
    if policy.max_attachments is not None:
        count = min(count, policy.max_attachments)
    if policy.max_attachment_bytes is not None:
        size = min(size, policy.max_attachment_bytes)
    return AttachmentLimits(count, size, policy.allowed_attachment_types or limits.allowed_types)


def limits_for(session: Session, ticket: Ticket, *, internal: bool) -> AttachmentLimits:
    return note_limits() if internal else reply_limits(session, ticket)


def content_type_of(filename: str, declared: str | None) -> str:
    """The type the file's extension names; the browser's word only when the name says nothing.

    A browser reports what the agent's computer thinks; the stored type must
    not turn an ``invoice.pdf`` into ``text/html`` that a mail client renders.
    """
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    kind = (guessed or declared or "").split(";")[0].strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*", kind):
        return "application/octet-stream"
    return kind


def upload(filename: str, content_type: str | None, content: bytes) -> AttachmentData:
    """An uploaded file with a safe name and a type taken from that name."""
    name = safe_filename(filename)
    return AttachmentData(filename=name, content_type=content_type_of(name, content_type), content=content)


def check(limits: AttachmentLimits, files: Sequence[AttachmentData], *, internal: bool) -> None:
    """Raise AttachmentRefused, naming the limit, when ``files`` break ``limits``."""
    if not files:
        return
    if not limits.accepts_files:
        raise AttachmentRefused(
            _l(
                "This channel cannot send files to the customer. Send the reply without them, "
                "or attach them to an internal note."
            ),
            "no_files",
        )
    if len(files) > limits.max_attachments:
        text = (
            _l("A note takes at most %(limit)s files; you attached %(count)s.")
            if internal
            else _l("This channel takes at most %(limit)s files per reply; you attached %(count)s.")
        )
        raise AttachmentRefused(str(text) % {"limit": limits.max_attachments, "count": len(files)}, "count")
    total = sum(len(f.content) for f in files)
    if total > limits.max_attachment_bytes:
        text = (
            _l("A note takes at most %(limit)s of files; yours come to %(size)s.")
            if internal
            else _l("This channel takes at most %(limit)s of files per reply; yours come to %(size)s.")
        )
        refusal = str(text) % {"limit": size_text(limits.max_attachment_bytes), "size": size_text(total)}
        raise AttachmentRefused(refusal, "size")
    for index, f in enumerate(files):
        if not limits.allows_type(f.filename, f.content_type):
            raise AttachmentRefused(
                str(_l("This channel does not take %(name)s; it takes %(types)s."))
                % {"name": f.filename, "types": ", ".join(limits.allowed_types)},
                "type",
                index,
            )


def attach(session: Session, message: Message, files: Sequence[AttachmentData]) -> list[Attachment]:
    """Store the files' bytes (once per content) and link them to ``message``; flushes."""
    if not files:
        return []
    try:
        digests = store.store_many(session, [f.content for f in files])
    except OSError as exc:  # the disk is full (or a quota): the agent's message is refused whole, not half-sent
        raise AttachmentRefused(NOT_WRITTEN, "storage") from exc
    rows = [
        Attachment(
            message_id=message.id,
            sha256=digests[id(f.content)],
            filename=f.filename,
            content_type=f.content_type,
            size=len(f.content),
        )
        for f in files
    ]
    session.add_all(rows)
    session.flush()
    return rows


def outbound(session: Session, message_id: int) -> tuple[AttachmentData, ...]:
    """The files of a queued reply, with their bytes, for the connector to send."""
    rows = session.scalars(sa.select(Attachment).where(Attachment.message_id == message_id).order_by(Attachment.id))
    return tuple(
        AttachmentData(
            filename=a.filename,
            content_type=a.content_type,
            content=store.load(session, a.sha256),
            content_id=a.content_id,
            inline=a.inline,
        )
        for a in rows
    )
