"""The channel contract: the one seam every connector implements.

Messages flow one way in and replies one way out.  A connector speaks one
platform's wire protocol (IMAP, eBay's REST API, Shopee's signed calls, …) and
turns what it reads into the channel-neutral dataclasses below *at the edge*;
nothing past this module knows which platform a payload came from.

The contract, in full:

* ``InboundMessage`` – one buyer (or agent) message as the ingestion pipeline
  wants it: which account it arrived on, its stable external id (the
  idempotency key under a unique constraint), the thread it belongs to, who
  sent it, when (an *aware* UTC datetime), what it says and which orders it
  mentions.
* ``OrderRecord`` / ``OrderLineRecord`` – an order as a marketplace reports it.
* ``OutboundReply`` – what the helpdesk asks a connector to deliver, and
  ``SendResult`` – what the platform answered.
* ``Connector`` – ``fetch(cursor)`` returns messages and the cursor that covers
  them (``FetchResult``); ``send_reply(reply)``; ``fetch_order(number)``.  The
  cursor is opaque text owned by the connector; the core stores it in the same
  transaction as the messages it covers, so a crash re-reads rather than
  skips.
* ``Capability`` flags say what a connector can do, so the core never asks
  "is this Amazon?".

Connectors are registered by kind in :mod:`channels.registry`.  This package
never imports Flask: connectors are plain Python, testable against loopback
fake servers.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import ClassVar


class Direction(enum.StrEnum):
    """Who wrote a message: the buyer (in) or the seller's side (out)."""

    IN = "in"
    OUT = "out"


class AutoKind(enum.StrEnum):
    """Machine-written mail that must never reopen tickets or start clocks."""

    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    NOTIFICATION = "notification"


class Capability(enum.StrEnum):
    """What a connector can do; the core checks these instead of platform names."""

    FETCH_MESSAGES = "fetch_messages"
    SEND_REPLY = "send_reply"
    FETCH_ORDER = "fetch_order"
    ATTACHMENTS_OUT = "attachments_out"
    HTML_OUT = "html_out"
    PUSH = "push"


@dataclass(frozen=True, slots=True)
class Party:
    """A person on the far side: keys that identify them on their platform.

    ``platform_id`` is the marketplace's buyer id (eBay user name, Shopee
    user id, …); ``email`` may be a real address or a relay alias such as
    Amazon's ``…@marketplace.amazon.de``.  At least one of the two is needed to
    key a customer identity.
    """

    platform_id: str | None = None
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class AttachmentData:
    """A file carried by a message; ``content`` is the decoded bytes."""

    filename: str
    content_type: str
    content: bytes
    content_id: str | None = None
    inline: bool = False


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message read from a channel, before the pipeline has seen it.

    ``channel`` is the connector kind that read it (``email``, ``ebay``…);
    ``platform`` is the marketplace it belongs to, which differs for relayed
    mail (an Amazon buyer message read over IMAP has channel ``email`` and
    platform ``amazon``).  ``account`` is the name of the ChannelAccount it
    arrived on.  ``external_id`` must be stable across re-reads: it is the
    idempotency key.  ``direction`` is OUT for replies the seller sent outside
    the helpdesk (a mailbox's Sent folder, a seller centre); their customer is
    the ``recipient``.
    """

    channel: str
    account: str
    external_id: str
    sent_at: datetime
    sender: Party
    body_text: str = ""
    recipient: Party | None = None
    platform: str | None = None
    external_thread_id: str | None = None
    subject: str = ""
    body_html: str | None = None
    stripped_text: str | None = None
    language: str | None = None
    site: str | None = None
    order_refs: tuple[str, ...] = ()
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    attachments: tuple[AttachmentData, ...] = ()
    direction: Direction = Direction.IN
    auto: AutoKind | None = None
    original: bytes | None = None
    meta: Mapping[str, str] = field(default_factory=dict)

    @property
    def thread_keys(self) -> tuple[str, ...]:
        """External ids of earlier messages this one answers (email threading)."""
        keys = list(self.references)
        if self.in_reply_to and self.in_reply_to not in keys:
            keys.append(self.in_reply_to)
        return tuple(keys)


@dataclass(frozen=True, slots=True)
class OrderLineRecord:
    """One line of an order."""

    title: str
    quantity: int
    unit_price: Decimal
    sku: str | None = None
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order as a marketplace reports it; money is Decimal, never float."""

    platform: str
    account: str
    order_number: str
    status: str
    currency: str
    total: Decimal
    placed_at: datetime | None = None
    updated_at: datetime | None = None
    buyer: Party = field(default_factory=Party)
    lines: tuple[OrderLineRecord, ...] = ()
    site: str | None = None
    shipping_address: Mapping[str, str] = field(default_factory=dict)
    carrier: str | None = None
    tracking_number: str | None = None
    shipped_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutboundReply:
    """A reply the helpdesk wants delivered through the ticket's own channel.

    ``message_id`` is our Message row id, used by connectors that need a
    stable idempotency key for the platform (and for the Message-ID header of
    mail).
    """

    message_id: int
    ticket_id: int
    account: str
    to: Party
    body_text: str
    subject: str = ""
    body_html: str | None = None
    external_thread_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    order_number: str | None = None
    locale: str | None = None
    attachments: tuple[AttachmentData, ...] = ()


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the platform answered to a sent reply."""

    external_id: str
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class RejectedInput:
    """Raw input a connector read but could not turn into a message.

    It travels back with the page so the core can quarantine it (keyed by
    ``raw_format`` for replay) while the cursor still moves past it.
    """

    raw: bytes
    raw_format: str
    reason: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One page of messages and the cursor that covers exactly them.

    ``more`` is true when the connector knows another page is waiting, so a
    poll run can keep going (up to its cap) without sleeping.
    """

    messages: list[InboundMessage]
    cursor: str | None
    more: bool = False
    rejected: list[RejectedInput] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AccountConfig:
    """What a connector needs to reach one account; secrets already resolved.

    The database stores only *references* to secrets (environment variable
    names); the app resolves them into ``secrets`` when it builds a connector.
    """

    name: str
    kind: str
    base_url: str | None = None
    settings: Mapping[str, object] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)


class ChannelError(Exception):
    """A connector could not do what was asked."""


class TransientChannelError(ChannelError):
    """Worth retrying later: timeouts, 5xx, quota (``retry_after`` seconds)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthError(ChannelError):
    """Credentials were refused; retrying will not help until someone fixes them."""


class NotSupported(ChannelError):
    """The connector lacks the capability for this call."""


class Connector(ABC):
    """Base class of every connector; one instance serves one account."""

    kind: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def __init__(self, account: AccountConfig) -> None:
        self.account = account

    @abstractmethod
    def fetch(self, cursor: str | None, limit: int = 500) -> FetchResult:
        """Read messages newer than ``cursor``; at most about ``limit`` of them."""

    def send_reply(self, reply: OutboundReply) -> SendResult:
        """Deliver ``reply``; raise TransientChannelError to be retried."""
        raise NotSupported(f"{self.kind} connectors cannot send replies")

    def fetch_order(self, order_number: str) -> OrderRecord | None:
        """Look one order up on the platform; None when it does not exist."""
        raise NotSupported(f"{self.kind} connectors cannot fetch orders")

    def committed(self, page: FetchResult) -> None:  # noqa: B027 - optional hook, empty by design
        """Runs after ``page``'s transaction committed (messages and cursor stored).

        The place for side effects on the platform that must not happen before
        the data is safe, such as marking mail read or moving it to a folder.
        It must not raise: the page is already stored.
        """

    def close(self) -> None:  # noqa: B027 - optional hook, empty by design
        """Release connections; called when a poll run ends."""
