"""What a list row shows besides the ticket's own columns: who wrote, and where it came from.

Loaded for a whole page at once (three small ``IN`` queries by primary or
indexed keys), never per row.  A relayed e-mail — Amazon's buyer-seller
messaging, an eBay member message — is a ticket of the marketplace that
relayed it, received through a mailbox account; the row says both, so an
agent sees "Amazon via support@shop" instead of a bare mailbox name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.customers.models import Customer, CustomerIdentity
from helpdesk.macros.services import PLATFORM_NAMES
from helpdesk.tickets.models import Ticket


@dataclass(frozen=True)
class RowDetails:
    requester: str  # the customer's name, else their handle
    handle: str | None  # their id on the ticket's platform (or e-mail address), when it adds something
    platform: str | None  # the marketplace, for people ("Amazon")
    via: str | None  # the account it arrived through, when that is not the marketplace's own channel


def platform_name(platform: str | None) -> str | None:
    """A marketplace's name as people write it."""
    if not platform:
        return None
    return PLATFORM_NAMES.get(platform, platform.replace("_", " ").title())


def row_details(session: Session, tickets: Sequence[Ticket]) -> dict[int, RowDetails]:
    """Requester and source of each ticket, by ticket id."""
    if not tickets:
        return {}
    customer_ids = sorted({t.customer_id for t in tickets})
    account_ids = sorted({t.channel_account_id for t in tickets})
    names = dict(
        session.execute(sa.select(Customer.id, Customer.display_name).where(Customer.id.in_(customer_ids))).all()
    )
    handles: dict[tuple[int, str], str] = {}
    emails: dict[int, str] = {}
    identities = session.execute(
        sa.select(CustomerIdentity.customer_id, CustomerIdentity.scheme, CustomerIdentity.value)
        .where(CustomerIdentity.customer_id.in_(customer_ids))
        .order_by(CustomerIdentity.id)
    )
    for customer_id, scheme, value in identities:
        handles.setdefault((customer_id, scheme), value)
        if "@" in value:
            emails.setdefault(customer_id, value)
    accounts = {a.id: a for a in session.scalars(sa.select(ChannelAccount).where(ChannelAccount.id.in_(account_ids)))}
    details = {}
    for t in tickets:
        name = (names.get(t.customer_id) or "").strip()
        handle = handles.get((t.customer_id, t.platform or "")) or emails.get(t.customer_id)
        account = accounts.get(t.channel_account_id)
        # an account of another kind than the ticket's marketplace relayed it (a mailbox, usually)
        relayed = account is not None and t.platform is not None and account.kind != t.platform
        details[t.id] = RowDetails(
            requester=name or handle or "",
            handle=handle if handle and handle != name else None,
            platform=platform_name(t.platform),
            via=account.display_name if account is not None and (relayed or not t.platform) else None,
        )
    return details
