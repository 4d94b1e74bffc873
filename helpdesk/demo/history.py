"""Weeks of a desk's life for the demo: buyers write, agents answer in their working hours, tickets get solved.

Buyer messages come from :func:`helpdesk.demo.synthetic.stream` (threads,
languages, order numbers) re-timed to a desk's rhythm: fewer at weekends and
at night.  The team that covers a store answers during its working hours
(weekdays 08–18, Saturdays 10–14, its own time zone), mostly within an hour
or two; a message from Saturday afternoon waits for Monday, and now and then
a ticket is forgotten for a day.  So most answers are on time and some are
late, per platform as its own SLA policy counts them.

Nothing goes around the pipeline.  Answers enter as the seller's outgoing
messages through :func:`helpdesk.ingest.pipeline.ingest`, one day at a time
and *as of* that day's end, so the SLA step starts, stops and breaches the
clocks exactly as it does for live traffic; solving runs the clock
transition of the inbox's status change (:func:`solve`).  Then each answer
is credited to the agent who wrote it, and the ticket goes to that agent as
a reply from the inbox would give it.  Bulk statements throughout: the whole
history loads in seconds.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels.base import Direction, InboundMessage, Party
from helpdesk.db import any_of
from helpdesk.ingest.pipeline import ingest
from helpdesk.sla import clock as clocks
from helpdesk.sla import engine
from helpdesk.sla.engine import TicketRef
from helpdesk.tickets.models import Message, Ticket, TicketStatus

# local working hours per weekday (Monday = 0); Sunday closed
WORKING_HOURS = {0: (8, 18), 1: (8, 18), 2: (8, 18), 3: (8, 18), 4: (8, 18), 5: (10, 14)}
DAY_WEIGHT = (1.0, 1.0, 0.95, 0.9, 0.85, 0.6, 0.5)  # buyers write less at weekends
SOLVE_SHARE = 0.95  # answered conversations an agent solves once the buyer has what they need
SOLVE_BETWEEN_SHARE = 0.6  # ... and those solved before the buyer writes again (which reopens them)
FORGOTTEN_SHARE = 0.05  # answers that slip by a day or more, as some do on every desk
QUEUE = timedelta(hours=3)
"""The last hours' messages are still waiting: the inbox has a queue to work on."""
ANSWERS = {
    "en": "Hello,\n\nthank you for your message. We have checked your order and will take care of it today.\n\n"
    "Kind regards",
    "de": "Hallo,\n\nvielen Dank für Ihre Nachricht. Wir haben Ihre Bestellung geprüft und kümmern uns heute darum."
    "\n\nMit freundlichen Grüßen",
    "ja": "お問い合わせありがとうございます。ご注文を確認し、本日中に対応いたします。",
    "es": "Hola:\n\ngracias por su mensaje. Hemos revisado su pedido y nos ocupamos hoy mismo.\n\nSaludos cordiales",
    "ar": "مرحبا، شكرا لرسالتك. لقد راجعنا طلبك وسنهتم به اليوم.",
}


@dataclass(frozen=True)
class Staff:
    zone: ZoneInfo
    agents: tuple[tuple[int, str], ...]  # (user id, name), the first ones answer most


@dataclass
class History:
    """Every message (buyers' and agents') in time order, and what happens around them."""

    messages: list[InboundMessage] = field(default_factory=list)
    authors: dict[tuple[str, str], int] = field(default_factory=dict)  # (store, answer's external id) → user id
    solves: list[tuple[datetime, str, str]] = field(default_factory=list)  # (at, store, answer's external id)


def arrival_times(rng: random.Random, count: int, start: datetime, end: datetime) -> list[datetime]:
    """``count`` instants between ``start`` and ``end``: fewer at weekends and at night (UTC 22–06)."""
    span = (end - start).total_seconds()
    out: list[datetime] = []
    while len(out) < count:
        at = start + timedelta(seconds=rng.random() * span)
        weight = DAY_WEIGHT[at.weekday()] * (1.0 if 6 <= at.hour < 22 else 0.35)
        if rng.random() < weight:
            out.append(at)
    return sorted(out)


def next_open(zone: ZoneInfo, at: datetime) -> datetime:
    """The first instant at or after ``at`` when the team works."""
    local = at.astimezone(zone)
    for days in range(8):
        day = local.date() + timedelta(days=days)
        hours = WORKING_HOURS.get(day.weekday())
        if hours is None:
            continue
        opens = datetime.combine(day, time(hours[0]), zone)
        closes = datetime.combine(day, time(hours[1]), zone)
        if local < closes:
            return max(local, opens).astimezone(UTC)
    raise AssertionError("a team works every week")


def add_working_time(zone: ZoneInfo, at: datetime, hours: float) -> datetime:
    """``at`` moved on by ``hours`` of the team's working time (evenings and Sundays do not count)."""
    left = timedelta(hours=hours)
    at = next_open(zone, at)
    while True:
        local = at.astimezone(zone)
        closes = datetime.combine(local.date(), time(WORKING_HOURS[local.weekday()][1]), zone)
        if local + left <= closes:
            return (local + left).astimezone(UTC)
        left -= closes - local
        at = next_open(zone, closes.astimezone(UTC) + timedelta(seconds=1))


def answer_delay(rng: random.Random) -> float:
    """Working hours an agent takes to answer: about an hour, sometimes a few, now and then a day."""
    hours = min(6.0, rng.lognormvariate(math.log(1.0), 0.8))
    if rng.random() < FORGOTTEN_SHARE:
        hours += rng.uniform(8.0, 40.0)
    return hours


def _thread_keys(messages: Sequence[InboundMessage]) -> list[tuple[str, str]]:
    """The conversation of each message: its thread id, or the first message of its e-mail reply chain."""
    root: dict[tuple[str, str], str] = {}
    keys = []
    for msg in messages:
        if msg.external_thread_id:
            keys.append((msg.account, msg.external_thread_id))
            continue
        parent = root.get((msg.account, msg.in_reply_to or ""))
        root[(msg.account, msg.external_id)] = parent or msg.external_id
        keys.append((msg.account, parent or msg.external_id))
    return keys


def plan(
    buyers: Sequence[InboundMessage],
    teams: dict[str, Staff],
    now: datetime,
    seed: int = 2026,
) -> History:
    """The agents' side of ``buyers``' conversations up to ``now``: answers, who wrote them, solvings.

    An answer is dropped when the buyer wrote again before it (the next
    answer covers both) or when it would come after ``now`` (the ticket is
    waiting in the inbox).  A ticket is solved some time after an answer
    unless the buyer writes again the same day (a later message reopens it,
    as ingest does with a solved ticket).
    """
    rng = random.Random(seed)
    threads: dict[tuple[str, str], list[InboundMessage]] = defaultdict(list)
    for key, msg in zip(_thread_keys(buyers), buyers, strict=True):
        threads[key].append(msg)
    history = History(messages=list(buyers))
    for (store, _thread), conversation in threads.items():
        team = teams[store]
        weights = [4, 2, *([1] * (len(team.agents) - 2))][: len(team.agents)]
        agent_id, agent_name = rng.choices(team.agents, weights)[0]
        for i, msg in enumerate(conversation):
            last = i + 1 == len(conversation)
            following = now if last else conversation[i + 1].sent_at
            at = add_working_time(team.zone, msg.sent_at, answer_delay(rng))
            if at >= following or at >= now - QUEUE:
                continue
            if rng.random() < 0.1:  # a colleague steps in
                agent_id, agent_name = rng.choice(team.agents)
            answer = InboundMessage(
                channel=msg.channel,
                account=store,
                external_id=f"{msg.external_id}-answer",
                sent_at=at,
                sender=Party(name=agent_name),
                recipient=msg.sender,
                direction=Direction.OUT,
                body_text=ANSWERS.get(msg.language or "en", ANSWERS["en"]),
                platform=msg.platform,
                external_thread_id=msg.external_thread_id,
                in_reply_to=None if msg.external_thread_id else msg.external_id,
                subject=msg.subject if msg.subject.startswith("Re: ") else f"Re: {msg.subject}",
                language=msg.language,
                site=msg.site,
            )
            history.messages.append(answer)
            history.authors[(store, answer.external_id)] = agent_id
            if rng.random() < (SOLVE_SHARE if last else SOLVE_BETWEEN_SHARE):
                # half are solved as the answer goes out, the rest once the buyer confirms or goes quiet
                if rng.random() < 0.5:
                    solved_at = at + timedelta(minutes=rng.randint(1, 10))
                else:
                    solved_at = add_working_time(team.zone, at, rng.uniform(0.5, 12.0))
                day_end = datetime.combine(solved_at.date() + timedelta(days=1), time(0), UTC)
                if solved_at < now and min(day_end, now) <= following:
                    history.solves.append((solved_at, store, answer.external_id))
    history.messages.sort(key=lambda m: m.sent_at)
    history.solves.sort()
    return history


def replay(
    session: Session,
    history: History,
    accounts: dict[str, int],
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Ingest the history one UTC day at a time, as of each day's end; credit answers; solve. Returns tickets."""
    tickets: dict[tuple[str, str], int] = {}
    solves = iter(history.solves)
    pending_solve = next(solves, None)
    messages = history.messages
    first = messages[0].sent_at if messages else now
    day_end = datetime.combine(first.date() + timedelta(days=1), time(0), UTC)
    position = 0
    while position < len(messages) or pending_solve is not None:
        as_of = min(day_end, now)
        batch = []
        while position < len(messages) and messages[position].sent_at < as_of:
            batch.append(messages[position])
            position += 1
        if batch:
            result = ingest(session, batch, source="demo", now=as_of)
            for msg, outcome in zip(batch, result.outcomes, strict=True):
                if outcome.ticket_id is not None:
                    tickets[(msg.account, msg.external_id)] = outcome.ticket_id
            credit(session, [m for m in batch if m.direction is Direction.OUT], history, accounts, tickets)
            if progress:
                progress(sum(1 for m in batch if m.direction is Direction.IN))
        due: list[tuple[int, datetime]] = []
        while pending_solve is not None and pending_solve[0] < as_of:
            at, store, external_id = pending_solve
            due.append((tickets[(store, external_id)], at))
            pending_solve = next(solves, None)
        if due:
            solve(session, due, as_of)
        if as_of >= now:
            break
        day_end += timedelta(days=1)
    await_buyers(session)
    return len(set(tickets.values()))


def await_buyers(session: Session) -> None:
    """Every other answered, unsolved ticket waits on the buyer (pending), as agents mark them after asking.

    Only tickets without a live clock: there is nothing for a pending status to pause.
    """
    t = Ticket.__table__.c
    session.execute(
        sa.update(Ticket.__table__)
        .where(
            t.status == str(TicketStatus.OPEN),
            t.sla_state.is_(None),
            t.last_inbound_at < t.last_message_at,
            t.id % 2 == 0,
        )
        .values(status=str(TicketStatus.PENDING))
    )


def credit(
    session: Session,
    answers: list[InboundMessage],
    history: History,
    accounts: dict[str, int],
    tickets: dict[tuple[str, str], int],
) -> None:
    """Give each answer its author, and its ticket the author (unless held) and the open status, as a reply does."""
    if not answers:
        return
    m = Message.__table__.c
    t = Ticket.__table__.c
    rows = [
        {
            "acc": accounts[a.account],
            "ext": a.external_id,
            "uid": history.authors[(a.account, a.external_id)],
            "tid": tickets[(a.account, a.external_id)],
        }
        for a in answers
    ]
    session.execute(
        sa.update(Message.__table__)
        .where(m.channel_account_id == sa.bindparam("acc"), m.external_id == sa.bindparam("ext"))
        .values(author_user_id=sa.bindparam("uid")),
        [{"acc": r["acc"], "ext": r["ext"], "uid": r["uid"]} for r in rows],
    )
    first_answer: dict[int, int] = {}
    for r in rows:
        first_answer.setdefault(r["tid"], r["uid"])
    session.execute(
        sa.update(Ticket.__table__)
        .where(t.id == sa.bindparam("tid"), t.assignee_id.is_(None))
        .values(assignee_id=sa.bindparam("uid")),
        [{"tid": tid, "uid": uid} for tid, uid in first_answer.items()],
    )
    session.execute(
        sa.update(Ticket.__table__)
        .where(any_of(t.id, first_answer, session.get_bind().dialect.name), t.status == str(TicketStatus.NEW))
        .values(status=str(TicketStatus.OPEN))
    )


def solve(session: Session, solved: list[tuple[int, datetime]], now: datetime) -> None:
    """Solve tickets at the given instants: the inbox's status change to solved, for many tickets at once.

    As :func:`helpdesk.sla.services.on_status_change` does, a live
    resolution clock stops at the solving instant; response clocks keep
    running (an unanswered buyer stays unanswered).
    """
    ids = [tid for tid, _at in solved]
    t = Ticket.__table__.c
    dialect = session.get_bind().dialect.name
    refs = {
        row.id: TicketRef(row.id, row.channel_account_id, row.team_id, row.platform)
        for row in session.execute(
            sa.select(t.id, t.channel_account_id, t.team_id, t.platform).where(any_of(t.id, ids, dialect))
        )
    }
    ledger = engine.load(session, ids)
    for tid, at in solved:
        resolution = ledger.live_resolution(tid)
        if resolution is not None and at >= resolution.state.started_at:
            before = resolution.state
            ledger.change(resolution, clocks.stop(resolution.state, at))
            engine.note_stop(ledger, resolution, before, refs[tid])
    engine.check_on_write(ledger, refs, now)
    engine.save(session, ledger, now)
    session.execute(
        sa.update(Ticket.__table__)
        .where(
            t.id == sa.bindparam("tid"), sa.or_(t.status == str(TicketStatus.NEW), t.status == str(TicketStatus.OPEN))
        )
        .values(status=str(TicketStatus.SOLVED), solved_at=sa.bindparam("at"), updated_at=sa.bindparam("at")),
        [{"tid": tid, "at": at} for tid, at in solved],
    )


def retime(messages: Sequence[InboundMessage], arrivals: Sequence[datetime]) -> list[InboundMessage]:
    """The same messages at new instants, in order (threads keep their order: the stream is chronological)."""
    return [replace(msg, sent_at=at) for msg, at in zip(messages, arrivals, strict=True)]
