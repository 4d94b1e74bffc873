"""Templated, order-scoped messages a marketplace lets the seller send (Amazon's Messaging API).

Amazon buyers cannot be written to freely through any API: replies go by
relay e-mail.  What the API offers is a short list of message types per order
("confirm delivery details", "unexpected problem", …) that changes with the
order's state, so the list is asked for when an agent opens it, never cached.
The account asked is the one that brought the ticket's order (or any enabled
account of the ticket's platform whose connector has the capability).

A message sent this way appears in the conversation as an agent message.
It does not stop the response clock: it is not an answer to the buyer's
message (Amazon's metric counts replies to buyer messages).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels import registry
from channels.base import Capability, ChannelError, MessagingAction
from helpdesk.accounts.models import User
from helpdesk.audit.models import AuditEvent
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.channelaccounts.services import build_connector
from helpdesk.db import utcnow
from helpdesk.events import publish
from helpdesk.orders.models import Order
from helpdesk.tickets.models import DeliveryState, Message, Ticket


class ActionError(ValueError):
    """The platform refused or could not be asked; the message says why."""


def _capable_kinds() -> list[str]:
    return [k for k in registry.kinds() if Capability.MESSAGING_ACTIONS in registry.get(k).capabilities]


def action_account(session: Session, ticket: Ticket) -> ChannelAccount | None:
    """The account to ask about the ticket's order, or None when no connector offers such messages."""
    kinds = _capable_kinds()
    if not kinds or not ticket.order_number or not ticket.platform:
        return None
    if ticket.order_id is not None:
        account = session.scalar(
            sa.select(ChannelAccount)
            .join(Order, Order.channel_account_id == ChannelAccount.id)
            .where(Order.id == ticket.order_id, ChannelAccount.kind.in_(kinds), ChannelAccount.enabled.is_(True))
        )
        if account is not None:
            return account
    return session.scalar(
        sa.select(ChannelAccount)
        .where(
            ChannelAccount.platform == ticket.platform,
            ChannelAccount.kind.in_(kinds),
            ChannelAccount.enabled.is_(True),
        )
        .order_by(ChannelAccount.id)
        .limit(1)
    )


def available(session: Session, ticket: Ticket) -> tuple[ChannelAccount, list[MessagingAction]]:
    account = action_account(session, ticket)
    if account is None:
        raise ActionError("no store of this marketplace offers templated messages")
    connector = build_connector(account)
    try:
        return account, connector.messaging_actions(ticket.order_number or "")
    except ChannelError as exc:
        raise ActionError(str(exc)) from exc
    finally:
        connector.close()


def send(session: Session, ticket: Ticket, user: User, action: str, text: str) -> Message:
    """Send one templated message and record it on the ticket (flushed, not committed)."""
    account = action_account(session, ticket)
    if account is None:
        raise ActionError("no store of this marketplace offers templated messages")
    connector = build_connector(account)
    try:
        result = connector.send_messaging_action(ticket.order_number or "", action, text.strip())
    except ChannelError as exc:
        raise ActionError(str(exc)) from exc
    finally:
        connector.close()
    now = utcnow()
    message = Message(
        ticket_id=ticket.id,
        channel_account_id=ticket.channel_account_id,
        external_id=result.external_id,
        direction="out",
        is_internal=False,
        author_user_id=user.id,
        author_name=user.name,
        subject=ticket.subject,
        body_text=text.strip() or f"({action})",
        stripped_text=text.strip() or None,
        sent_at=result.sent_at,
        received_at=now,
        delivery_state=DeliveryState.SENT,
        meta={"messaging_action": action, "sent_through": account.name},
    )
    session.add(message)
    ticket.message_count += 1
    ticket.updated_at = now
    session.flush()
    session.add(
        AuditEvent(
            actor_type="user",
            actor_id=user.id,
            action="messaging_action.sent",
            ticket_id=ticket.id,
            data={"message_id": message.id, "action": action, "account": account.name},
        )
    )
    publish(
        session,
        "message.created",
        {
            "ticket_id": ticket.id,
            "channel_account_id": ticket.channel_account_id,
            "team_id": ticket.team_id,
            "message_id": message.id,
            "direction": "out",
            "is_internal": False,
            "author_id": user.id,
        },
    )
    return message
