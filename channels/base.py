"""The channel contract, v2: the one seam every connector implements.

Messages flow one way in and replies one way out.  A connector speaks one
platform's wire protocol (IMAP, eBay's REST API, Amazon's SP-API, …) and
turns what it reads into the channel-neutral dataclasses below *at the edge*;
nothing past this package knows which platform a payload came from, and the
helpdesk never compares a kind to a literal.

A connector owns its whole life.  The class declares:

* ``kind`` (the registry key), ``title`` (the platform's name for people),
  ``platforms`` (the marketplaces an account of this kind may belong to; the
  first is the default) and ``capabilities`` (:class:`Capability`), which the
  core checks instead of names.
* ``schema`` (:class:`channels.schema.ConfigSchema`): the fields an account
  needs, their types, defaults, help text and which are secrets.  The
  ``channels add KIND`` command and the admin form are generated from it.
  Every HTTP connector has a ``base_url`` field (sandbox, region, local fake).
* ``raw_formats``: parsers that turn raw input the connector once rejected
  (kept in quarantine) back into records, so quarantine replay is generic.
* ``handle_push(request, accounts)`` (with ``Capability.PUSH``): verify a
  notification the platform POSTed to ``/hooks/<kind>`` over its raw bytes,
  and say which accounts to poll now and which records it carried.

An instance serves one account (:class:`AccountConfig`, secrets resolved and
a :class:`channels.credentials.CredentialStore` for tokens that rotate):

* ``fetch(cursor, limit)`` → :class:`FetchResult`: messages, orders, the
  input it could not map (:class:`RejectedInput`, quarantined by the core
  while the page goes on), streams that are blocked (:class:`StreamProblem`,
  e.g. the messaging scope was never granted while orders still flow) and
  the opaque cursor that covers exactly this page.  The core stores the
  cursor in the same transaction as the records, so a crash re-reads rather
  than skips.
* ``send_reply(reply)`` → :class:`SendResult`; ``fetch_order(number)``.
* ``check_connection()`` → :class:`Diagnosis`: ok, credentials refused, a
  permission missing, rate-limited, unreachable, misconfigured — each with
  the step a seller takes next.
* ``watcher(ring)`` (with ``Capability.WATCH``): a long-lived watcher (IMAP
  IDLE is one) that calls ``ring()`` when new data waits; the helpdesk's
  generic supervisor starts and stops them.
* ``committed(page)`` runs after a page's transaction committed (mark mail
  read); ``close()`` releases connections.

Errors a connector raises say what a retry would do: :class:`TransientChannelError`
(try later, perhaps after ``retry_after``), :class:`RateLimited`,
:class:`AuthError` (credentials refused), :class:`PermissionMissing` (a scope
or role was not granted), :class:`ChannelError` (needs a person).

Connectors are registered by kind in :mod:`channels.registry`.  This package
never imports Flask: connectors are plain Python, testable against loopback
fake servers (:mod:`channels.fake`).  ``docs/channels/connectors.md`` walks
through adding one.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar, Protocol

from channels.schema import ConfigError, ConfigSchema
from macros.policy import ReplyPolicy

if TYPE_CHECKING:
    from channels.credentials import CredentialStore


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

    FETCH_MESSAGES = "fetch_messages"  # buyer messages arrive through fetch()
    FETCH_ORDERS = "fetch_orders"  # orders arrive through fetch()
    FETCH_ORDER = "fetch_order"  # one order can be looked up (freshness refresh)
    SEND_REPLY = "send_reply"
    ATTACHMENTS_OUT = "attachments_out"
    HTML_OUT = "html_out"
    PUSH = "push"  # the platform POSTs notifications to /hooks/<kind>
    TICKETS_IN = "tickets_in"  # an integration POSTs signed tickets to /api/v1/webhooks/tickets (receive_ticket)
    WATCH = "watch"  # a long-lived watcher rings when new data waits (IMAP IDLE)
    MESSAGING_ACTIONS = "messaging_actions"  # templated, order-scoped messages (Amazon's Messaging API)


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
class AttachmentLimits:
    """The files one reply may carry on a channel, checked before a reply is queued.

    ``max_attachment_bytes`` counts every file of the reply together (what a
    platform or mail server refuses is the whole message).  ``allowed_types``
    are MIME types, MIME prefixes (``image/``) or file extensions (``.pdf``);
    empty means any type.  ``max_attachments == 0`` means the channel sends no
    files at all, and the composer disables its file button.
    """

    max_attachments: int = 0
    max_attachment_bytes: int = 0
    allowed_types: tuple[str, ...] = ()

    @property
    def accepts_files(self) -> bool:
        return self.max_attachments > 0 and self.max_attachment_bytes > 0

    def allows_type(self, filename: str, content_type: str) -> bool:
        """Whether a file of this name and type is one the channel takes."""
        if not self.allowed_types:
            return True
        name, kind = filename.lower(), content_type.lower()
        return any(
            kind == t or (t.endswith("/") and kind.startswith(t)) or name.endswith(t) for t in self.allowed_types
        )


#: A channel that sends text only.
NO_ATTACHMENTS = AttachmentLimits()


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
    original_format: str = "email"  # the raw format (a connector's ``raw_formats`` key) of ``original``

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
class CustomerRecord:
    """A buyer as a platform's customer records describe them (Shopify customers, …).

    ``party.platform_id`` is the platform's customer id; the helpdesk links it
    and ``party.email`` to one customer and keeps the newest name.
    """

    platform: str
    account: str
    party: Party
    locale: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MessagingAction:
    """A templated, order-scoped message a platform lets the seller send (Amazon's Messaging API).

    ``name`` is the platform's action id; ``text_limit`` is None when the
    action takes no text; ``attachments`` is the (min, max) number of files.
    """

    name: str
    title: str
    text_limit: int | None = None
    attachments: tuple[int, int] = (0, 0)


@dataclass(frozen=True, slots=True)
class OutboundReply:
    """A reply the helpdesk wants delivered through the ticket's own channel.

    ``message_id`` is our Message row id, used by connectors that need a
    stable idempotency key for the platform (and for the Message-ID header of
    mail).  ``thread_meta`` is the ``meta`` the connector itself set on the
    latest buyer message of the thread (item ids, parent message ids, …).
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
    thread_meta: Mapping[str, str] = field(default_factory=dict)


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


class Stream(enum.StrEnum):
    """What a connector reads; a problem can block one stream while the others flow."""

    MESSAGES = "messages"
    ORDERS = "orders"
    CUSTOMERS = "customers"
    REPLIES = "replies"


class DiagnosisCode(enum.StrEnum):
    """What is wrong with a connection, in the terms a seller can act on."""

    OK = "ok"
    CREDENTIALS_REFUSED = "credentials_refused"
    PERMISSION_MISSING = "permission_missing"
    RATE_LIMITED = "rate_limited"
    UNREACHABLE = "unreachable"
    MISCONFIGURED = "misconfigured"
    PLATFORM_ERROR = "platform_error"


@dataclass(frozen=True, slots=True)
class StreamProblem:
    """One stream is blocked while the page still carries the others."""

    stream: Stream
    code: DiagnosisCode
    detail: str


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One page of records and the cursor that covers exactly them.

    ``more`` is true when the connector knows another page is waiting, so a
    poll run can keep going (up to its cap) without sleeping.  ``orders`` are
    stored before ``messages``, so a message links to an order of its own page.
    """

    messages: list[InboundMessage]
    cursor: str | None
    more: bool = False
    rejected: list[RejectedInput] = field(default_factory=list)
    orders: list[OrderRecord] = field(default_factory=list)
    problems: list[StreamProblem] = field(default_factory=list)
    customers: list[CustomerRecord] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Check:
    """One thing ``check_connection`` tried (e.g. reading orders) and how it went."""

    name: str
    code: DiagnosisCode
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """A connection test's verdict: the worst check decides ``code``.

    ``detail`` is the platform's own words (English, technical); ``hint`` is
    a connector-specific next step when the generic one per code is not enough.
    """

    code: DiagnosisCode
    detail: str = ""
    checks: tuple[Check, ...] = ()
    hint: str = ""

    @property
    def ok(self) -> bool:
        return self.code is DiagnosisCode.OK

    @classmethod
    def from_checks(cls, checks: list[Check], hint: str = "") -> Diagnosis:
        bad = [c for c in checks if c.code is not DiagnosisCode.OK]
        if not bad:
            return cls(DiagnosisCode.OK, "; ".join(c.detail for c in checks if c.detail), tuple(checks), hint)
        return cls(bad[0].code, "; ".join(f"{c.name}: {c.detail}" for c in bad), tuple(checks), hint)


@dataclass(frozen=True, slots=True)
class PushRequest:
    """A notification as it reached ``/hooks/<kind>``: raw bytes, never re-serialised.

    ``headers`` keys are lower case.  ``url`` is the full URL the platform
    called (some platforms sign it).
    """

    headers: Mapping[str, str]
    body: bytes
    url: str
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PushResult:
    """What a verified notification asks for.

    ``dedupe_key`` identifies the delivery (a platform retries, and a captured
    one can be replayed): the core accepts each key once.  ``poll`` names
    accounts to poll now; ``messages``/``orders`` are records the notification
    carried in full; ``response`` is the body to answer with, where the
    platform expects one.
    """

    dedupe_key: str | None
    poll: tuple[str, ...] = ()
    messages: tuple[InboundMessage, ...] = ()
    orders: tuple[OrderRecord, ...] = ()
    customers: tuple[CustomerRecord, ...] = ()
    rejected: tuple[RejectedInput, ...] = ()
    disable: tuple[str, ...] = ()
    response: bytes = b""
    content_type: str = "text/plain"


class Watcher(Protocol):
    """A long-lived listener for one account (IMAP IDLE); runs its own thread."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


#: raw bytes + account name → the record a rejected input should have become (raises on bad input).
RawParser = Callable[[bytes, str | None], "InboundMessage | OrderRecord"]


@dataclass(frozen=True, slots=True)
class AccountConfig:
    """What a connector needs to reach one account; secrets already resolved.

    ``settings`` were checked against the kind's schema.  ``secrets`` holds
    every secret as it was when the connector was built; ``credentials`` is
    where tokens that change are read and written back (a store over
    ``secrets`` when none is given).
    """

    name: str
    kind: str
    base_url: str | None = None
    settings: Mapping[str, object] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    platform: str | None = None
    site: str | None = None
    credentials: CredentialStore | None = None

    def store(self) -> CredentialStore:
        """The credential store, created over ``secrets`` when the caller gave none."""
        if self.credentials is None:
            from channels.credentials import MemoryCredentialStore

            object.__setattr__(self, "credentials", MemoryCredentialStore(self.secrets))
        assert self.credentials is not None
        return self.credentials


class ChannelError(Exception):
    """A connector could not do what was asked."""


class TransientChannelError(ChannelError):
    """Worth retrying later: timeouts, 5xx, quota (``retry_after`` seconds)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(TransientChannelError):
    """The platform's quota is spent; ``retry_after`` says when it refills, where known."""


class AuthError(ChannelError):
    """Credentials were refused; retrying will not help until someone fixes them."""


class PermissionMissing(ChannelError):
    """The credentials work but lack a scope or role this call needs (``stream`` names what stops)."""

    def __init__(self, message: str, stream: Stream | None = None) -> None:
        super().__init__(message)
        self.stream = stream


class PushRejected(ChannelError):
    """A notification failed verification; ``status`` is what to answer (401 tampered, 400 stale)."""

    def __init__(
        self, message: str, status: int = 401, *, code: str = "bad_signature", field: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.field = field


class InvalidDelivery(ChannelError):
    """A verified delivery whose body is wrong; ``field`` is the JSON path at fault (None: the whole body).

    ``account`` names the account that signed it, so its raw body is quarantined under that account.
    """

    def __init__(self, field: str | None, reason: str, raw_format: str, account: str | None = None) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason
        self.raw_format = raw_format
        self.account = account


class NotSupported(ChannelError):
    """The connector lacks the capability for this call."""


class Connector(ABC):
    """Base class of every connector; one instance serves one account."""

    kind: ClassVar[str]
    title: ClassVar[str] = ""
    platforms: ClassVar[tuple[str | None, ...]] = (None,)
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    schema: ClassVar[ConfigSchema] = ConfigSchema()
    raw_formats: ClassVar[Mapping[str, RawParser]] = {}
    #: platform → the rules replies to its buyers must keep (checked before a reply leaves)
    reply_policies: ClassVar[Mapping[str, ReplyPolicy]] = {}
    #: seconds between polls when the account does not say; None: the helpdesk's default
    poll_interval_s: ClassVar[int | None] = None
    #: files a reply may carry (with ``Capability.ATTACHMENTS_OUT``); see :meth:`reply_attachment_limits`
    attachment_limits: ClassVar[AttachmentLimits] = NO_ATTACHMENTS

    def __init__(self, account: AccountConfig) -> None:
        self.account = account

    @property
    def credentials(self) -> CredentialStore:
        return self.account.store()

    @classmethod
    def complete_settings(cls, settings: dict[str, object], secrets: set[str]) -> dict[str, object]:
        """Cross-field checks and derived defaults, after the schema checked each field.

        ``secrets`` names the secrets the account has.  Raise ConfigError
        (naming a field) for a combination that cannot work.
        """
        return settings

    @classmethod
    def reply_attachment_limits(cls, settings: Mapping[str, object]) -> AttachmentLimits:
        """The files a reply on an account with these ``settings`` may carry.

        A class method, so the composer can show the limits without building
        a connector (no secrets, no network).  Without ``ATTACHMENTS_OUT`` a
        connector sends no files, whatever ``attachment_limits`` says; a
        connector whose limit depends on the account (a mail server's size
        limit) overrides this.
        """
        if Capability.ATTACHMENTS_OUT not in cls.capabilities:
            return NO_ATTACHMENTS
        return cls.attachment_limits

    def fetch(self, cursor: str | None, limit: int = 500) -> FetchResult:
        """Read records newer than ``cursor``; at most about ``limit`` of them."""
        raise NotSupported(f"{self.kind} connectors cannot fetch")

    def start_cursor(self, since: datetime) -> str | None:
        """A cursor that reads from ``since`` on (dry runs, back-fills); None when time cannot be a start."""
        return None

    @abstractmethod
    def check_connection(self) -> Diagnosis:
        """Try the credentials and every capability cheaply; never raises for a bad connection."""

    def send_reply(self, reply: OutboundReply) -> SendResult:
        """Deliver ``reply``; raise TransientChannelError to be retried."""
        raise NotSupported(f"{self.kind} connectors cannot send replies")

    def fetch_order(self, order_number: str) -> OrderRecord | None:
        """Look one order up on the platform; None when it does not exist."""
        raise NotSupported(f"{self.kind} connectors cannot fetch orders")

    def messaging_actions(self, order_number: str) -> list[MessagingAction]:
        """The templated messages the platform allows for this order now (Capability.MESSAGING_ACTIONS)."""
        raise NotSupported(f"{self.kind} connectors have no messaging actions")

    def send_messaging_action(
        self, order_number: str, action: str, text: str, attachments: tuple[AttachmentData, ...] = ()
    ) -> SendResult:
        """Send one templated message; the platform checks it may be sent for this order."""
        raise NotSupported(f"{self.kind} connectors have no messaging actions")

    def watcher(self, ring: Callable[[], None]) -> Watcher | None:
        """A watcher that calls ``ring`` when new data waits, or None when this account has none."""
        return None

    @classmethod
    def handle_push(cls, request: PushRequest, accounts: Sequence[AccountConfig]) -> PushResult:
        """Verify a notification and say what it asks for; raise PushRejected when it fails."""
        raise PushRejected(f"{cls.kind} does not take notifications", status=404)

    @classmethod
    def receive_ticket(
        cls, headers: Mapping[str, str], body: bytes, accounts: Sequence[AccountConfig]
    ) -> tuple[AccountConfig, InboundMessage]:
        """A signed ticket (Capability.TICKETS_IN): which account signed it, and the message it carries.

        Raise PushRejected when no account's secret signed it (nothing is
        kept), InvalidDelivery when the signature is good but the body is not.
        """
        raise PushRejected(f"{cls.kind} does not take tickets", status=404, code="not_found")

    def committed(self, page: FetchResult) -> None:  # noqa: B027 - optional hook, empty by design
        """Runs after ``page``'s transaction committed (messages and cursor stored).

        The place for side effects on the platform that must not happen before
        the data is safe, such as marking mail read or moving it to a folder.
        It must not raise: the page is already stored.
        """

    def close(self) -> None:  # noqa: B027 - optional hook, empty by design
        """Release connections; called when a poll run ends."""


def diagnose(error: BaseException) -> DiagnosisCode:
    """The diagnosis code a channel error stands for."""
    if isinstance(error, AuthError):
        return DiagnosisCode.CREDENTIALS_REFUSED
    if isinstance(error, PermissionMissing):
        return DiagnosisCode.PERMISSION_MISSING
    if isinstance(error, RateLimited):
        return DiagnosisCode.RATE_LIMITED
    if isinstance(error, TransientChannelError):
        return DiagnosisCode.UNREACHABLE
    if isinstance(error, ConfigError):
        return DiagnosisCode.MISCONFIGURED
    return DiagnosisCode.PLATFORM_ERROR
