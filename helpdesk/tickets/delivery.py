"""Deliver a queued reply through the ticket's own channel.

The message row is the source of truth: it moves queued → sending → sent or
failed, and every outcome is recorded on it (never dropped).  Transient
platform errors leave it queued for another attempt with exponential
back-off; anything else fails it with a reason an agent can act on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels import registry
from channels.base import Capability, ChannelError, OutboundReply, Party, TransientChannelError
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.customers.models import Customer, CustomerIdentity
from helpdesk.events import publish
from helpdesk.tickets import attachments
from helpdesk.tickets.models import DeliveryState, Message, Ticket

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BASE_DELAY_S = 30.0
MAX_DELAY_S = 3600.0


@dataclass(frozen=True)
class Outcome:
    state: str
    retry_in: float | None = None
    error: str | None = None


def backoff(attempt: int, retry_after: float | None = None) -> float:
    """Seconds to wait before attempt ``attempt + 1``; a platform's Retry-After wins if longer."""
    delay = min(MAX_DELAY_S, BASE_DELAY_S * 2 ** max(0, attempt - 1))
    return max(delay, retry_after or 0.0)


def _publish(session: Session, message: Message, ticket: Ticket) -> None:
    publish(
        session,
        "message.delivery",
        {
            "ticket_id": ticket.id,
            "message_id": message.id,
            "channel_account_id": ticket.channel_account_id,
            "team_id": ticket.team_id,
            "state": message.delivery_state,
            "error": message.delivery_error,
        },
    )


def build_reply(session: Session, message: Message, ticket: Ticket, account: ChannelAccount) -> OutboundReply:
    """The channel-neutral reply: recipient keys from the customer, threading from the conversation."""
    customer = session.get(Customer, ticket.customer_id)
    identities = list(
        session.scalars(sa.select(CustomerIdentity).where(CustomerIdentity.customer_id == ticket.customer_id))
    )
    platform_id = next((i.value for i in identities if i.scheme == (ticket.platform or account.platform)), None)
    email = (customer.email if customer else None) or next((i.value for i in identities if i.scheme == "email"), None)
    earlier = list(
        session.scalars(
            sa.select(Message.external_id)
            .where(Message.ticket_id == ticket.id, Message.external_id.is_not(None), Message.id != message.id)
            .order_by(Message.sent_at, Message.id)
        )
    )
    thread_meta = session.scalar(
        sa.select(Message.meta)
        .where(Message.ticket_id == ticket.id, Message.direction == "in", Message.is_internal.is_(False))
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(1)
    )
    return OutboundReply(
        message_id=message.id,
        ticket_id=ticket.id,
        account=account.name,
        to=Party(platform_id=platform_id, email=email, name=customer.display_name if customer else None),
        body_text=message.body_text,
        subject=message.subject,
        external_thread_id=ticket.external_thread_id,
        in_reply_to=earlier[-1] if earlier else None,
        references=tuple(earlier[-20:]),
        order_number=ticket.order_number,
        locale=ticket.language,
        thread_meta=dict(thread_meta or {}),
        attachments=attachments.outbound(session, message.id),
    )


def _fail(session: Session, message: Message, ticket: Ticket, reason: str) -> Outcome:
    message.delivery_state = DeliveryState.FAILED
    message.delivery_error = reason
    _publish(session, message, ticket)
    return Outcome(DeliveryState.FAILED, error=reason)


def start(session: Session, message_id: int) -> tuple[Message, Ticket, ChannelAccount] | Outcome:
    """Claim a queued message for sending (state → sending); an Outcome when there is nothing to do."""
    message = session.get(Message, message_id)
    if message is None:
        return Outcome("missing", error="the message no longer exists")
    if message.is_internal or message.delivery_state not in (DeliveryState.QUEUED, DeliveryState.SENDING):
        return Outcome(message.delivery_state)
    ticket = session.get(Ticket, message.ticket_id)
    account = session.get(ChannelAccount, message.channel_account_id)
    assert ticket is not None
    assert account is not None
    try:
        connector_class = registry.get(account.kind)
    except KeyError:
        return _fail(session, message, ticket, f"no connector is installed for channel kind {account.kind!r}")
    if Capability.SEND_REPLY not in connector_class.capabilities:
        return _fail(session, message, ticket, f"channel kind {account.kind!r} cannot send replies")
    message.delivery_state = DeliveryState.SENDING
    message.delivery_attempts += 1
    _publish(session, message, ticket)
    return message, ticket, account


def send(session: Session, message: Message, ticket: Ticket, account: ChannelAccount) -> Outcome:
    """Call the connector once and record what happened."""
    from helpdesk.channelaccounts.services import build_connector

    try:
        connector = build_connector(account)
        try:
            result = connector.send_reply(build_reply(session, message, ticket, account))
        finally:
            connector.close()
    except TransientChannelError as exc:
        if message.delivery_attempts >= MAX_ATTEMPTS:
            return _fail(session, message, ticket, f"gave up after {message.delivery_attempts} attempts: {exc}")
        message.delivery_state = DeliveryState.QUEUED
        message.delivery_error = f"attempt {message.delivery_attempts} failed, will retry: {exc}"
        _publish(session, message, ticket)
        return Outcome(DeliveryState.QUEUED, retry_in=backoff(message.delivery_attempts, exc.retry_after))
    except (ChannelError, ValueError) as exc:
        return _fail(session, message, ticket, f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # a connector bug must not lose the reply
        log.exception("sending message %s failed", message.id)
        return _fail(session, message, ticket, f"unexpected error: {type(exc).__name__}: {exc}")
    message.delivery_state = DeliveryState.SENT
    message.delivery_error = None
    message.external_id = result.external_id
    message.sent_at = result.sent_at
    _publish(session, message, ticket)
    return Outcome(DeliveryState.SENT)
