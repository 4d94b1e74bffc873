"""Act on a verified platform notification exactly once.

The connector verified the signature and said what the notification asks
for (:class:`~channels.base.PushResult`).  Here, in one transaction: its
delivery id is recorded under a unique constraint (a retry or a replay of
the same delivery changes nothing), the records it carried are stored
(orders, customers, messages — the same code paths as a poll page), input it
could not map is quarantined, accounts it names are disabled (an app
uninstalled); after the commit, the accounts to poll are queued.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels.base import FetchResult, PushResult
from helpdesk.channelaccounts.models import ChannelAccount, PushReceipt
from helpdesk.db import utcnow
from helpdesk.ingest.pipeline import take_write_lock
from helpdesk.polling.services import store_page

log = logging.getLogger(__name__)

KEEP_RECEIPTS = timedelta(days=14)  # longer than any platform's retry window


@dataclass
class PushOutcome:
    duplicate: bool = False
    stored_messages: int = 0
    stored_orders: int = 0
    poll: list[int] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)


def _first_time(session: Session, kind: str, key: str) -> bool:
    """Record the delivery; False when it was recorded before."""
    try:
        with session.begin_nested():
            session.add(PushReceipt(kind=kind, dedupe_key=key[:255]))
            session.flush()
    except sa.exc.IntegrityError:
        return False
    return True


def accept(session: Session, kind: str, result: PushResult) -> PushOutcome:
    """Store what ``result`` carries (flushed, not committed); the caller commits, then queues the polls."""
    outcome = PushOutcome()
    # Begin the transaction (with the ingest write lock) before the receipt's savepoint: on SQLite a savepoint
    # opened outside a transaction is one, and releasing it committed the receipt on its own, so a delivery
    # whose storing then failed was refused as a duplicate when the platform retried it.
    take_write_lock(session)
    if result.dedupe_key is not None and not _first_time(session, kind, result.dedupe_key):
        outcome.duplicate = True
        return outcome
    names = {*result.poll, *result.disable}
    names |= {m.account for m in result.messages} | {o.account for o in result.orders}
    names |= {c.account for c in result.customers}
    found = session.scalars(
        sa.select(ChannelAccount).where(ChannelAccount.name.in_(names), ChannelAccount.kind == kind)
    )
    accounts = {a.name: a for a in found} if names else {}
    by_account: dict[str, FetchResult] = {}
    for name in accounts:
        by_account[name] = FetchResult(
            messages=[m for m in result.messages if m.account == name],
            orders=[o for o in result.orders if o.account == name],
            customers=[c for c in result.customers if c.account == name],
            rejected=list(result.rejected) if len(accounts) == 1 else [],
            cursor=None,
        )
    for name, page in by_account.items():
        if page.messages or page.orders or page.customers or page.rejected:
            ingested, orders = store_page(session, accounts[name], page, source=f"push:{kind}")
            outcome.stored_messages += ingested.ingested
            outcome.stored_orders += orders
    for name in result.disable:
        account = accounts.get(name)
        if account is not None and account.enabled:
            account.enabled = False
            account.health_detail = "the platform said the app was removed from this store; connect it again"
            outcome.disabled.append(name)
    outcome.poll = [accounts[n].id for n in result.poll if n in accounts and accounts[n].enabled]
    return outcome


def prune_receipts(session: Session) -> int:
    """Forget deliveries older than any retry window (a replay that old is refused as stale by its connector)."""
    return session.execute(sa.delete(PushReceipt).where(PushReceipt.received_at < utcnow() - KEEP_RECEIPTS)).rowcount
