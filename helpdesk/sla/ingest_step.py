"""Pipeline step: start, stop and cancel clocks for one ingested batch, set-based.

Runs in two halves around the write step, in the same transaction.
:func:`plan` decides every clock before the tickets are written, so each
ticket's ``sla_due_at`` / ``sla_state`` goes into the INSERT or UPDATE that
writes the ticket anyway rather than a second UPDATE; new tickets are keyed
by provisional negative ids meanwhile.  :func:`finish` runs once ids exist:
it writes the clock rows and queues the warning and breach events.

Per message, in sent order per ticket:

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
and one for the stores, then one executemany per clock table write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class Plan:
    """The clocks a batch decided on, waiting for the ticket and message ids of the write step."""

    ledger: engine.Ledger
    slot_of: dict[int, TicketSlot] = field(default_factory=dict)
    started_by: dict[int, Item] = field(default_factory=dict)


def plan(session: Session, items: list[Item], slots: list[TicketSlot], now: datetime) -> Plan:
    """Decide the batch's clock changes and set ``sla_due_at`` / ``sla_state`` on the slots they touch."""
    existing = [s.id for s in slots if s.id is not None]
    ledger = engine.load(session, existing) if existing else engine.Ledger()
    result = Plan(ledger)
    if not items:
        return result
    key_of: dict[int, int] = {}
    for slot in slots:
        key = slot.id if slot.id is not None else -len(key_of) - 1
        key_of[id(slot)] = key
        result.slot_of[key] = slot
    resolver = PolicyResolver(session)
    resolver.preload_stores({s.channel_account_id for s in slots})
    chosen: dict[int, Policy] = {}

    def policy_for(key: int, slot: TicketSlot, item: Item | None) -> Policy:
        found = chosen.get(key)
        if found is None:
            # existing tickets' slots carry no platform; the message's (or its account's) is the same
            platform = item.platform if item is not None else slot.platform
            live = ledger.by_ticket.get(key)
            if live:
                found = resolver.by_id(live[0].policy_id, platform)
            else:
                kind = item.msg.meta.get("thread_kind") if item is not None else None
                found = resolver.choose(slot.channel_account_id, platform, None, kind)
            chosen[key] = found
        return found

    ordered = sorted(items, key=lambda it: (key_of[id(it.ticket)], it.msg.sent_at))
    first_item: dict[int, Item] = {}
    for item in ordered:
        first_item.setdefault(key_of[id(item.ticket)], item)
    refs: dict[int, TicketRef] = {}
    for slot in slots:
        key = key_of[id(slot)]
        first = first_item.get(key)
        platform = slot.platform or (first.platform if first is not None else None)
        refs[key] = TicketRef(key, slot.channel_account_id, slot.team_id, platform)
    for slot in slots:
        if not (slot.is_new or slot.reopened):
            continue
        key = key_of[id(slot)]
        first = first_item.get(key)
        if slot.is_new:
            at = slot.created_at or (first.msg.sent_at if first else now)
        elif ledger.live_resolution(key) is None and first is not None:
            at = first.msg.sent_at  # reopened by the buyer: a new wait for a solution begins
        else:
            continue
        policy = policy_for(key, slot, first)
        if policy.resolution is not None:
            calendar = resolver.calendar(policy, slot.channel_account_id)
            ledger.start(refs[key], ClockKind.RESOLUTION, policy, calendar, at)

    for item in ordered:
        msg = item.msg
        if msg.auto is not None:
            continue
        slot = item.ticket
        assert slot is not None
        tid = key_of[id(slot)]
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
        policy = policy_for(tid, slot, item)
        calendar = resolver.calendar(policy, slot.channel_account_id)
        if tid in ledger.paused:
            for c in ledger.live(tid):
                if c.state.paused_at is not None and at >= c.state.paused_at:
                    ledger.change(c, clocks.resume(c.state, calendar, at))
        if running is not None:
            continue
        answered_before = slot.first_response_at is not None and slot.first_response_at < at
        kind = ClockKind.NEXT_RESPONSE if tid in ledger.had_first or answered_before else ClockKind.FIRST_RESPONSE
        started = ledger.start(refs[tid], kind, policy, calendar, at)
        if started is not None:
            result.started_by[id(started)] = item

    engine.check_on_write(ledger, refs, now)
    for key, (due, state) in engine.summarize(ledger, now).items():
        slot = result.slot_of[key]
        slot.sla_due_at, slot.sla_state = due, state
    return result


def finish(session: Session, planned: Plan) -> None:
    """Give the planned clocks their ticket and message ids, write them, and queue their events."""
    ledger = planned.ledger
    for key, clock_list in ledger.by_ticket.items():
        if key < 0:
            ticket_id = planned.slot_of[key].id
            assert ticket_id is not None, "finish() runs after the write step"
            for c in clock_list:
                c.ticket_id = ticket_id
    for c in (c for clock_list in ledger.by_ticket.values() for c in clock_list):
        item = planned.started_by.get(id(c))
        if item is not None:
            c.message_id = item.message_id
    for _name, payload in ledger.events:
        if payload["ticket_id"] < 0:
            payload["ticket_id"] = planned.slot_of[payload["ticket_id"]].id
    engine.write_clocks(session.connection(), ledger)
    engine.publish_events(session, ledger)
