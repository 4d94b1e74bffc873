"""Opening a ticket on behalf of an integration: a shop back-end files a buyer's case.

The case becomes one buyer message and goes through the ingest pipeline like
every channel's messages, so dedupe, threading, customers, orders, SLA clocks,
audit and events are the pipeline's and not copied here.  The integration's
own id of the case is the message's external id (namespaced ``api:``): under
the pipeline's unique constraint, sending the same case twice stores it once
and names the ticket it is on.  Priority and tags are set through the ticket
services afterwards, audited as the token's user, and only on a ticket the
case opened — a message threaded onto an existing ticket does not re-rank it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from channels.base import InboundMessage, Party
from helpdesk.accounts.models import User
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.db import utcnow
from helpdesk.ingest.pipeline import ingest
from helpdesk.tickets import services
from helpdesk.tickets.models import Ticket

#: Prefix of the external ids of cases opened here, so they never meet a platform's own message ids.
EXTERNAL_PREFIX = "api:"


class CaseRefused(services.TicketError):
    """The pipeline refused the case (it is kept in the quarantine); ``field`` names the message field at fault."""

    def __init__(self, reason: str, field: str | None) -> None:
        super().__init__(reason)
        self.field = field


@dataclass(frozen=True)
class Case:
    """What an integration says about a buyer's case."""

    customer: Party
    subject: str
    text: str
    external_id: str | None = None
    order_ref: str | None = None
    language: str | None = None
    priority: str | None = None
    tags: Sequence[str] = ()


@dataclass(frozen=True)
class Opened:
    ticket: Ticket
    created: bool  # False: the same external id was sent before, and this is the ticket it is on


def open_case(session: Session, account: ChannelAccount, case: Case, actor: User, *, source: str) -> Opened:
    """Ingest the case on ``account``; the caller commits.  Raises CaseRefused when the pipeline quarantines it."""
    key = EXTERNAL_PREFIX + (case.external_id or uuid.uuid4().hex)
    message = InboundMessage(
        channel=account.kind,
        account=account.name,
        platform=account.platform,
        site=account.site,
        external_id=key,
        external_thread_id=key,  # a case is a conversation of its own unless the pipeline threads it on
        sent_at=utcnow(),
        sender=case.customer,
        subject=case.subject,
        body_text=case.text,
        language=case.language,
        order_refs=(case.order_ref,) if case.order_ref else (),
        meta={"source": source},
    )
    result = ingest(session, [message], source=source)
    outcome = result.outcomes[0]
    if outcome.status == "quarantined":
        raise CaseRefused(outcome.reason or "refused", outcome.field)
    if outcome.status not in ("ingested", "duplicate") or outcome.ticket_id is None:
        raise services.TicketError("the case was not stored; send it again")
    ticket = session.get(Ticket, outcome.ticket_id)
    assert ticket is not None
    if result.tickets_created:
        if case.priority:
            services.set_priority(session, ticket, case.priority, actor)
        if case.tags:
            services.add_tags(session, ticket, case.tags, actor)
    return Opened(ticket, created=outcome.status == "ingested")
