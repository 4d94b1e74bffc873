"""Pipeline step: start, stop and cancel clocks for one ingested batch, set-based.

Called once per batch after tickets and messages are written, in the same
transaction.  Per message, in sent order per ticket:

* inbound, not automatic: starts the first-response clock when the ticket
  never had one, else a next-response clock, unless a response clock is
  already running (the earlier, stricter due stands: every unanswered
  buyer message counts from its own arrival on the platforms that measure
  per message); resumes clocks paused while the ticket was pending;
* inbound with ``meta["no_response_needed"] == "true"`` (Amazon's
  marker): cancels the running response clock without a verdict;
* automatic messages (``auto`` set), either way: nothing;
* outbound (a reply sent from the seller centre): stops the running
  response clock at its sent time;
* a new ticket, or one the buyer reopened, starts a resolution clock when
  the policy has a resolution target.

Cost: one query for the existing tickets' live clocks, one for the policies
and one for the stores, then one executemany per table written.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from channels.base import Direction
from helpdesk.ingest.batch import Item, TicketSlot
from helpdesk.sla import clock as clocks
from helpdesk.sla import engine
from helpdesk.sla.engine import TicketRef
from helpdesk.sla.models import ClockKind
from helpdesk.sla.policies import Policy, PolicyResolver

NO_RESPONSE_NEEDED = "no_response_needed"


def apply_batch(session: Session, items: list[Item], slots: list[TicketSlot], now: datetime) -> None:
    """Update the SLA clocks of every ticket the batch touched; the caller commits."""
    if not items:
        return
    existing = [s.id for s in slots if not s.created and s.id is not None]
    ledger = engine.load(session, existing) if existing else engine.Ledger()
    resolver = PolicyResolver(session)
    resolver.preload_stores({s.channel_account_id for s in slots})
    refs: dict[int, TicketRef] = {}
    chosen: dict[int, Policy] = {}

    def policy_for(slot: TicketSlot, item: Item | None) -> Policy:
        assert slot.id is not None
        found = chosen.get(slot.id)
        if found is None:
            # existing tickets' slots carry no platform; the message's (or its account's) is the same
            platform = item.platform if item is not None else slot.platform
            live = ledger.by_ticket.get(slot.id)
            if live:
                found = resolver.by_id(live[0].policy_id, platform)
            else:
                kind = item.msg.meta.get("thread_kind") if item is not None else None
                found = resolver.choose(slot.channel_account_id, platform, None, kind)
            chosen[slot.id] = found
        return found

    ordered = sorted(items, key=lambda it: (it.ticket.id if it.ticket else 0, it.msg.sent_at))
    first_item: dict[int, Item] = {}
    for item in ordered:
        if item.ticket is not None and item.ticket.id is not None:
            first_item.setdefault(item.ticket.id, item)
    for slot in slots:
        if slot.id is None:
            continue
        first = first_item.get(slot.id)
        platform = slot.platform or (first.platform if first is not None else None)
        refs[slot.id] = TicketRef(slot.id, slot.channel_account_id, slot.team_id, platform)
    for slot in slots:
        if slot.id is None or not (slot.created or slot.reopened):
            continue
        first = first_item.get(slot.id)
        if slot.created:
            at = slot.created_at or (first.msg.sent_at if first else now)
        elif ledger.live_resolution(slot.id) is None and first is not None:
            at = first.msg.sent_at  # reopened by the buyer: a new wait for a solution begins
        else:
            continue
        policy = policy_for(slot, first)
        ledger.start(
            refs[slot.id], ClockKind.RESOLUTION, policy, resolver.calendar(policy, slot.channel_account_id), at
        )

    for item in ordered:
        slot = item.ticket
        if slot is None or slot.id is None:
            continue
        msg = item.msg
        if msg.auto is not None:
            continue
        tid = slot.id
        at = msg.sent_at
        running = ledger.live_response(tid)
        if msg.direction is Direction.OUT:
            if running is not None and at >= running.state.started_at:
                before = running.state
                ledger.change(running, clocks.stop(running.state, at))
                engine.note_stop(ledger, running, before, refs[tid])
            continue
        if msg.meta.get(NO_RESPONSE_NEEDED) == "true":
            if running is not None and at >= running.state.started_at:
                ledger.change(running, clocks.cancel(running.state, at))
            continue
        policy = policy_for(slot, item)
        calendar = resolver.calendar(policy, slot.channel_account_id)
        if tid in ledger.paused:
            for c in ledger.live(tid):
                if c.state.paused_at is not None and at >= c.state.paused_at:
                    ledger.change(c, clocks.resume(c.state, calendar, at))
        if running is not None:
            continue
        answered_before = slot.first_response_at is not None and slot.first_response_at < at
        kind = ClockKind.NEXT_RESPONSE if tid in ledger.had_first or answered_before else ClockKind.FIRST_RESPONSE
        ledger.start(refs[tid], kind, policy, calendar, at, message_id=item.message_id)

    engine.check_on_write(ledger, refs, now)
    engine.save(session, ledger, now)
