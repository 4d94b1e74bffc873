"""Clocks kept by the ingestion pipeline, the inbox services and the sweep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from channels.base import AutoKind, Direction, Party
from helpdesk import events
from helpdesk.ingest.pipeline import ingest
from helpdesk.sla import services
from helpdesk.sla.models import SlaClock, SlaPolicy
from helpdesk.sla.policies import seed_defaults
from helpdesk.tickets.models import Ticket, TicketStatus

MON = datetime(2026, 1, 5, 9, 1, tzinfo=UTC)  # Monday 10:01 in Berlin
SELLER = Party(platform_id="seller", name="Shop")
BUYER = Party(platform_id="buyer_1", name="Jonas Weber", country="DE")


@pytest.fixture
def captured() -> Any:
    seen: list[tuple[str, dict[str, Any]]] = []

    def grab(name: str, payload: Any) -> None:
        seen.append((name, dict(payload)))

    events.listen("sla.warning", "sla.breached")(grab)
    yield seen
    events.unlisten(grab)


@pytest.fixture
def amazon(make_account: Any) -> Any:
    return make_account(name="amz-us", kind="email", platform="amazon", site="US", timezone="America/New_York")


def clocks(session: Any) -> list[SlaClock]:
    session.expire_all()
    return list(session.scalars(sa.select(SlaClock).order_by(SlaClock.id)))


def ticket(session: Any) -> Ticket:
    session.expire_all()
    return session.scalars(sa.select(Ticket)).one()


def run(session: Any, *messages: Any, now: datetime | None = None) -> None:
    """Ingest as if a minute after the latest message (or at ``now``)."""
    when = now or max(m.sent_at for m in messages) + timedelta(minutes=1)
    with time_machine.travel(when, tick=False):
        ingest(session, list(messages), source="test")
        session.commit()


def at(when: datetime) -> Any:
    return time_machine.travel(when, tick=False)


def test_amazon_first_response_is_due_24_hours_later_around_the_clock(
    session: Any, make_message: Any, amazon: Any
) -> None:
    sat = datetime(2026, 1, 10, 22, 0, tzinfo=UTC)  # a Saturday night: Amazon counts weekends
    run(session, make_message(account="amz-us", channel="email", sent_at=sat, external_thread_id="t"))
    [c] = clocks(session)
    assert (c.kind, c.status, c.started_at, c.due_at) == ("first_response", "running", sat, sat + timedelta(hours=24))
    assert c.warning_at == sat + timedelta(hours=18)  # 75 % of 24 h
    t = ticket(session)
    assert (t.sla_due_at, t.sla_state) == (sat + timedelta(hours=24), "ok")


def test_business_hours_skip_evenings_and_a_regional_holiday(
    session: Any, make_message: Any, make_account: Any
) -> None:
    make_account(
        name="ebay-de",
        timezone="Europe/Berlin",
        settings={"business_hours": {"mon-fri": "09:00-18:00"}, "holiday_country": "DE", "holiday_subdiv": "BY"},
    )
    run(session, make_message(account="ebay-de", sent_at=MON, external_thread_id="t"))
    [c] = clocks(session)
    # 24 business hours from Mon 10:01 Berlin: Mon 7 h 59, Tue 6 Jan is Epiphany in Bavaria (closed),
    # Wed 9 h (16 h 59 total), Thu needs 7 h 01 more: Thu 8 Jan 16:01 Berlin = 15:01 UTC.
    assert c.due_at == datetime(2026, 1, 8, 15, 1, tzinfo=UTC)


def test_outbound_reply_stops_and_next_buyer_message_restarts(session: Any, make_message: Any, amazon: Any) -> None:
    run(session, make_message(account="amz-us", channel="email", sent_at=MON, external_thread_id="t"))
    reply = make_message(
        account="amz-us",
        channel="email",
        sent_at=MON + timedelta(hours=2),
        external_thread_id="t",
        direction=Direction.OUT,
        sender=SELLER,
        recipient=BUYER,
    )
    run(session, reply)
    [first] = clocks(session)
    assert (first.status, first.stopped_at) == ("met", MON + timedelta(hours=2))
    assert (first.platform, first.channel_account_id, first.elapsed_s) == ("amazon", amazon.id, 7200)
    assert (ticket(session).sla_due_at, ticket(session).sla_state) == (None, None)
    later = MON + timedelta(hours=5)
    run(session, make_message(account="amz-us", channel="email", sent_at=later, external_thread_id="t"))
    first, second = clocks(session)
    assert (second.kind, second.status, second.due_at) == ("next_response", "running", later + timedelta(hours=24))
    # a second unanswered buyer message keeps the earlier, stricter due
    run(
        session,
        make_message(account="amz-us", channel="email", sent_at=later + timedelta(hours=1), external_thread_id="t"),
    )
    assert len(clocks(session)) == 2
    assert ticket(session).sla_due_at == later + timedelta(hours=24)


def test_late_reply_is_a_breach_recorded_once(session: Any, make_message: Any, amazon: Any, captured: Any) -> None:
    run(session, make_message(account="amz-us", channel="email", sent_at=MON, external_thread_id="t"))
    services.sweep(session, MON + timedelta(hours=25))
    session.commit()
    reply_at = MON + timedelta(hours=30)
    run(
        session,
        make_message(
            account="amz-us",
            channel="email",
            sent_at=reply_at,
            external_thread_id="t",
            direction=Direction.OUT,
            sender=SELLER,
            recipient=BUYER,
        ),
    )
    [c] = clocks(session)
    assert (c.status, c.breached_at, c.stopped_at) == ("breached", MON + timedelta(hours=25), reply_at)
    assert [n for n, _ in captured] == ["sla.breached"]


def test_auto_replies_start_nothing(session: Any, make_message: Any, amazon: Any) -> None:
    run(session, make_message(account="amz-us", channel="email", sent_at=MON, auto=AutoKind.AUTO_REPLY))
    assert clocks(session) == []


def test_auto_acknowledgement_does_not_stop_the_clock(session: Any, make_message: Any, amazon: Any) -> None:
    run(session, make_message(account="amz-us", channel="email", sent_at=MON, external_thread_id="t"))
    run(
        session,
        make_message(
            account="amz-us",
            channel="email",
            sent_at=MON + timedelta(minutes=1),
            external_thread_id="t",
            direction=Direction.OUT,
            sender=SELLER,
            recipient=BUYER,
            auto=AutoKind.AUTO_REPLY,
        ),
    )
    assert [c.status for c in clocks(session)] == ["running"]


def test_no_response_needed_cancels_without_breach(session: Any, make_message: Any, amazon: Any) -> None:
    run(session, make_message(account="amz-us", channel="email", sent_at=MON, external_thread_id="t"))
    run(
        session,
        make_message(
            account="amz-us",
            channel="email",
            sent_at=MON + timedelta(hours=1),
            external_thread_id="t",
            meta={"no_response_needed": "true"},
        ),
    )
    [c] = clocks(session)
    assert (c.status, c.breached_at) == ("cancelled", None)
    assert ticket(session).sla_state is None
    assert services.sweep(session, MON + timedelta(days=3)).breached == 0


def test_old_unanswered_message_is_breached_on_write(
    session: Any, make_message: Any, amazon: Any, captured: Any
) -> None:
    old = MON - timedelta(days=400)
    run(session, make_message(account="amz-us", channel="email", sent_at=old, external_thread_id="t"), now=MON)
    [c] = clocks(session)
    assert c.status == "breached"
    assert ticket(session).sla_state == "breached"
    assert [n for n, _ in captured] == ["sla.breached"]


def test_sweep_warns_then_breaches_once_each(session: Any, make_message: Any, amazon: Any, captured: Any) -> None:
    run(session, make_message(account="amz-us", channel="email", sent_at=MON, external_thread_id="t"))
    t_id = ticket(session).id
    assert services.sweep(session, MON + timedelta(hours=17)) == services.SweepResult(0, 0)
    assert services.sweep(session, MON + timedelta(hours=18)) == services.SweepResult(0, 1)
    session.commit()
    assert services.sweep(session, MON + timedelta(hours=19)) == services.SweepResult(0, 0)
    assert ticket(session).sla_state == "warning"
    # exactly at the due instant the target is still met
    assert services.sweep(session, MON + timedelta(hours=24)) == services.SweepResult(0, 0)
    assert services.sweep(session, MON + timedelta(hours=24, microseconds=1)) == services.SweepResult(1, 0)
    session.commit()
    assert services.sweep(session, MON + timedelta(hours=48)) == services.SweepResult(0, 0)
    session.commit()
    [c] = clocks(session)
    assert (c.status, c.breached_at, c.next_check_at) == ("breached", MON + timedelta(hours=24, microseconds=1), None)
    assert ticket(session).sla_state == "breached"
    assert captured == [
        (
            "sla.warning",
            {
                "ticket_id": t_id,
                "channel_account_id": amazon.id,
                "team_id": None,
                "clock": "first_response",
                "due_at": (MON + timedelta(hours=24)).isoformat(),
            },
        ),
        (
            "sla.breached",
            {
                "ticket_id": t_id,
                "channel_account_id": amazon.id,
                "team_id": None,
                "clock": "first_response",
                "due_at": (MON + timedelta(hours=24)).isoformat(),
            },
        ),
    ]


def test_seeded_policies_are_used_and_most_specific_wins(session: Any, make_message: Any, amazon: Any) -> None:
    assert seed_defaults(session) > 10
    assert seed_defaults(session) == 0
    session.add(
        SlaPolicy(
            name="VIP store",
            channel_account_id=amazon.id,
            first_response_s=3600,
            next_response_s=3600,
            calendar="24/7",
            holidays="none",
            closures=[],
            escalation={},
            source_note="",
        )
    )
    session.commit()
    run(session, make_message(account="amz-us", channel="email", sent_at=MON, external_thread_id="t"))
    [c] = clocks(session)
    assert c.due_at == MON + timedelta(hours=1)
    assert session.get(SlaPolicy, c.policy_id).name == "VIP store"


def test_agent_reply_stops_the_response_clock(session: Any, make_message: Any, amazon: Any) -> None:
    run(session, make_message(account="amz-us", channel="email", sent_at=MON, external_thread_id="t"))
    t = ticket(session)
    with at(MON + timedelta(hours=3)):
        services.on_agent_reply(session, t, MON + timedelta(hours=3))
        session.commit()
    [c] = clocks(session)
    assert (c.status, c.stopped_at) == ("met", MON + timedelta(hours=3))
    assert (ticket(session).sla_due_at, ticket(session).sla_state) == (None, None)


def test_pending_pauses_and_reopen_resumes_on_an_email_policy(
    session: Any, make_message: Any, make_account: Any
) -> None:
    make_account(name="mail", kind="email", platform=None, settings={"business_hours": {"mon-sun": "00:00-24:00"}})
    run(session, make_message(account="mail", channel="email", sent_at=MON, external_thread_id="t"))
    t = ticket(session)
    with at(MON + timedelta(hours=2)):
        services.on_status_change(session, t, TicketStatus.NEW, TicketStatus.PENDING, MON + timedelta(hours=2))
        session.commit()
    [c] = clocks(session)
    assert (c.status, c.remaining_s) == ("paused", 22 * 3600)
    assert ticket(session).sla_due_at is None
    t = ticket(session)
    with at(MON + timedelta(hours=12)):
        services.on_status_change(session, t, TicketStatus.PENDING, TicketStatus.OPEN, MON + timedelta(hours=12))
        session.commit()
    [c] = clocks(session)
    # 10 hours paused on an always-open calendar move the due 10 hours later
    assert (c.status, c.due_at) == ("running", MON + timedelta(hours=34))
    assert ticket(session).sla_due_at == MON + timedelta(hours=34)


def test_solving_stops_resolution_and_reopening_starts_a_new_one(session: Any, make_message: Any, amazon: Any) -> None:
    session.add(
        SlaPolicy(
            name="resolve in 3 days",
            platform="amazon",
            first_response_s=86400,
            resolution_s=3 * 86400,
            calendar="24/7",
            holidays="none",
            closures=[],
            escalation={},
            source_note="",
        )
    )
    session.commit()
    run(session, make_message(account="amz-us", channel="email", sent_at=MON, external_thread_id="t"))
    t = ticket(session)
    with at(MON + timedelta(hours=5)):
        services.on_status_change(session, t, TicketStatus.NEW, TicketStatus.SOLVED, MON + timedelta(hours=5))
        session.commit()
    kinds = {(c.kind, c.status) for c in clocks(session)}
    assert kinds == {("first_response", "running"), ("resolution", "met")}
    t = ticket(session)
    with at(MON + timedelta(hours=6)):
        services.on_status_change(session, t, TicketStatus.SOLVED, TicketStatus.OPEN, MON + timedelta(hours=6))
        session.commit()
    assert sorted((c.kind, c.status) for c in clocks(session)) == [
        ("first_response", "running"),
        ("resolution", "met"),
        ("resolution", "running"),
    ]


def test_sweep_commits_in_chunks(session: Any, make_message: Any, amazon: Any) -> None:
    run(
        session,
        make_message(account="amz-us", channel="email", sent_at=MON, external_thread_id="a"),
        make_message(
            account="amz-us", channel="email", sent_at=MON, external_thread_id="b", sender=Party(platform_id="buyer_2")
        ),
    )
    first = services.sweep(session, MON + timedelta(hours=25), limit=1)
    assert (first.breached, first.more) == (1, True)
    session.commit()
    assert services.sweep_all(session, MON + timedelta(hours=25)) == services.SweepResult(1, 0)


def test_breach_escalates_by_the_policy_rules(session: Any, make_message: Any, amazon: Any, make_user: Any) -> None:
    from helpdesk.accounts.models import Team
    from helpdesk.audit.models import AuditEvent

    lead = make_user("lead@example.test", role="lead")
    backup = make_user("backup@example.test")
    team = Team(name="US", members=[lead])
    session.add(team)
    session.add(
        SlaPolicy(
            name="Amazon with escalation",
            platform="amazon",
            first_response_s=3600,
            calendar="24/7",
            holidays="none",
            closures=[],
            source_note="",
            escalation={"reassign_to_user_id": backup.id, "notify_lead": True},
        )
    )
    session.commit()
    run(session, make_message(account="amz-us", channel="email", sent_at=MON, external_thread_id="t"))
    t = ticket(session)
    t.team_id = team.id
    session.commit()
    services.sweep(session, MON + timedelta(hours=2))
    session.commit()
    assert ticket(session).assignee_id == backup.id
    entry = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "sla.escalated")).one()
    assert entry.data == {"clock": "first_response", "reassigned_to": backup.id, "notify": [lead.id]}


def test_buyer_reopening_a_solved_ticket_starts_a_new_resolution_clock(
    session: Any, make_message: Any, amazon: Any
) -> None:
    session.add(
        SlaPolicy(
            name="resolve",
            platform="amazon",
            first_response_s=86400,
            resolution_s=86400,
            calendar="24/7",
            holidays="none",
            closures=[],
            escalation={},
            source_note="",
        )
    )
    session.commit()
    run(session, make_message(account="amz-us", channel="email", sent_at=MON, external_thread_id="t"))
    t = ticket(session)
    with at(MON + timedelta(hours=1)):
        services.on_status_change(session, t, TicketStatus.NEW, TicketStatus.SOLVED, MON + timedelta(hours=1))
        t.status = TicketStatus.SOLVED
        session.commit()
    run(
        session,
        make_message(account="amz-us", channel="email", sent_at=MON + timedelta(hours=2), external_thread_id="t"),
    )
    resolution = [(c.status, c.started_at) for c in clocks(session) if c.kind == "resolution"]
    assert resolution == [("met", MON), ("running", MON + timedelta(hours=2))]
