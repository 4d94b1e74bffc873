"""Report figures against a hand-built dataset with known answers, the page, its CSV and its API twin."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from helpdesk.customers.models import Customer
from helpdesk.reports.services import ReportQuery, backlog, breached_tickets, percentile, sla_report
from helpdesk.sla.models import SlaClock
from helpdesk.tickets.models import Ticket
from tests.web import login

H = timedelta(hours=1)
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def d(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def as_user(client: Any, user: Any) -> None:
    login(client, user)


@pytest.fixture
def dataset(session: Any, make_account: Any, make_user: Any) -> dict[str, Any]:
    """Seven tickets on two stores; the expected figures are worked out in each test."""
    amz = make_account(name="amz", kind="email", platform="amazon", display_name="Amazon US")
    eb = make_account(name="eb", platform="ebay", display_name="eBay DE")
    agent = make_user("ana@example.test", name="Ana")
    customer = Customer(display_name="Buyer")
    session.add(customer)
    session.flush()

    def ticket(account: Any, status: str, created: datetime, solved: datetime | None = None, **kw: Any) -> Ticket:
        t = Ticket(
            subject=f"t{created:%d%H}",
            status=status,
            channel_account_id=account.id,
            platform=account.platform,
            customer_id=customer.id,
            created_at=created,
            solved_at=solved,
            **kw,
        )
        session.add(t)
        session.flush()
        return t

    def clock(
        t: Ticket,
        kind: str,
        started: datetime,
        status: str,
        stopped: datetime | None = None,
        breached: datetime | None = None,
    ) -> None:
        elapsed = (stopped - started).total_seconds() if stopped and status != "cancelled" else None
        session.add(
            SlaClock(
                ticket_id=t.id,
                channel_account_id=t.channel_account_id,
                platform=t.platform,
                elapsed_s=elapsed,
                kind=kind,
                started_at=started,
                target_s=86400,
                warn_share=0.75,
                due_at=started + 24 * H,
                warning_at=started + 18 * H,
                status=status,
                stopped_at=stopped,
                breached_at=breached,
                paused_total_s=0,
            )
        )

    t1 = ticket(amz, "solved", d(2, 10), d(2, 20), assignee_id=agent.id)
    clock(t1, "first_response", d(2, 10), "met", d(2, 12))  # 2 h, met
    clock(t1, "next_response", d(2, 14), "breached", d(3, 16), d(3, 14, 1))  # answered late
    t2 = ticket(amz, "open", d(2, 11), assignee_id=agent.id)
    clock(t2, "first_response", d(2, 11), "met", d(2, 15))  # 4 h, met
    t3 = ticket(eb, "solved", d(3, 9), d(3, 9, 30))
    clock(t3, "first_response", d(3, 9), "met", d(3, 10))  # 1 h, met
    t4 = ticket(eb, "open", d(3, 12))
    clock(t4, "first_response", d(3, 12), "running")  # undecided
    t5 = ticket(eb, "open", d(3, 13))
    clock(t5, "first_response", d(3, 13), "cancelled", d(3, 14))  # no response needed
    t6 = ticket(amz, "solved", d(1, 23), d(2, 1))
    clock(t6, "first_response", d(1, 23), "met", d(2, 0))  # before the range (UTC)
    t7 = ticket(eb, "new", d(3, 8))
    clock(t7, "first_response", d(3, 8), "breached", None, d(4, 8, 1))  # unanswered, overdue
    session.commit()
    return {"amz": amz, "eb": eb, "agent": agent, "tickets": [t1, t2, t3, t4, t5, t6, t7]}


def by_label(report: Any) -> dict[str, Any]:
    return {g.label: g for g in report.groups}


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([1.0, 2.0], 50) == 1.0
    assert percentile([1.0, 2.0, 4.0], 90) == 4.0
    assert percentile([5.0], 90) == 5.0


def test_figures_per_platform(session: Any, dataset: Any) -> None:
    report = sla_report(session, ReportQuery(date(2026, 3, 2), date(2026, 3, 3), "UTC", "platform"), now=NOW)
    groups = by_label(report)
    amazon, ebay = groups["amazon"], groups["ebay"]
    # amazon: t1 first (met), t1 next (breached), t2 first (met) -> 3 decided, 2 met, 1 breached, 66.7 %
    assert (amazon.decided, amazon.met, amazon.breached, amazon.compliance_pct) == (3, 2, 1, 66.7)
    # answered first responses 2 h and 4 h: p50 = 1st of 2 (2 h), p90 = 2nd (4 h)
    assert (amazon.first_response_p50_s, amazon.first_response_p90_s) == (2 * 3600, 4 * 3600)
    # resolution over tickets whose first clock started in range: only t1 is solved, 10 h
    assert (amazon.resolution_p50_s, amazon.resolution_p90_s) == (10 * 3600, 10 * 3600)
    # ebay: t3 met, t7 breached (unanswered); t4 running and t5 cancelled do not count
    assert (ebay.decided, ebay.met, ebay.breached, ebay.compliance_pct) == (2, 1, 1, 50.0)
    assert (ebay.first_response_p50_s, ebay.resolution_p50_s) == (3600, 1800)
    total = report.total
    # 5 decided, 3 met -> 60 %; first responses 1, 2, 4 h: p50 = 2nd (2 h), p90 = 3rd (4 h)
    assert (total.decided, total.met, total.breached, total.compliance_pct) == (5, 3, 2, 60.0)
    assert (total.first_response_p50_s, total.first_response_p90_s) == (7200, 14400)
    # resolutions 0.5 h and 10 h: p50 = 1st, p90 = 2nd
    assert (total.resolution_p50_s, total.resolution_p90_s) == (1800, 36000)
    # per day: 2 March holds t1 (2 clocks) and t2, 3 March holds t3 and t7
    assert [(x.label, x.decided, x.met, x.compliance_pct) for x in report.days] == [
        ("2026-03-02", 3, 2, 66.7),
        ("2026-03-03", 2, 1, 50.0),
    ]


def test_dates_are_read_in_the_viewers_time_zone(session: Any, dataset: Any) -> None:
    # In Shanghai (UTC+8) 2-3 March runs from 1 March 16:00 to 3 March 16:00 UTC: t6 (1 March 23:00 UTC)
    # joins 2 March; everything else keeps its day (t3 at 17:00, t7 at 16:00 local on 3 March).
    report = sla_report(session, ReportQuery(date(2026, 3, 2), date(2026, 3, 3), "Asia/Shanghai"), now=NOW)
    assert (report.total.decided, report.total.met) == (6, 4)
    assert [(x.decided, x.met) for x in report.days] == [(4, 3), (2, 1)]


def test_figures_per_agent_and_store(session: Any, dataset: Any) -> None:
    agents = by_label(sla_report(session, ReportQuery(date(2026, 3, 2), date(2026, 3, 3), group="agent"), now=NOW))
    assert (agents["Ana"].decided, agents["Ana"].met) == (3, 2)
    assert (agents["—"].decided, agents["—"].met) == (2, 1)
    stores = by_label(sla_report(session, ReportQuery(date(2026, 3, 2), date(2026, 3, 3), group="store"), now=NOW))
    assert set(stores) == {"Amazon US", "eBay DE"}


def test_backlog_by_age(session: Any, dataset: Any) -> None:
    rows = {b.label: b.counts for b in backlog(session, "platform", NOW)}
    # open at 4 March 12:00: t2 (49 h), t4 (exactly 24 h -> 1-3 d), t5 (23 h), t7 (28 h)
    assert rows == {"amazon": [0, 0, 1, 0, 0], "ebay": [0, 1, 2, 0, 0]}


def test_drill_down_lists_the_breached_clocks(session: Any, dataset: Any) -> None:
    query = ReportQuery(date(2026, 3, 2), date(2026, 3, 3), group="platform")
    t1, t7 = dataset["tickets"][0], dataset["tickets"][6]
    assert [r.ticket_id for r in breached_tickets(session, query, "ebay")] == [t7.id]
    assert {r.ticket_id for r in breached_tickets(session, query, None)} == {t1.id, t7.id}


def test_agents_do_not_see_reports(client: Any, dataset: Any, make_user: Any) -> None:
    as_user(client, dataset["agent"])
    assert client.get("/reports/").status_code == 404
    assert client.get("/reports/export/groups.csv").status_code == 404


def test_lead_sees_tables_chart_and_csv(client: Any, dataset: Any, make_user: Any) -> None:
    lead = make_user("lead@example.test", name="Lea", role="lead")
    as_user(client, lead)
    args = "?from=2026-03-02&to=2026-03-03&group=platform"
    page = client.get("/reports/" + args)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and 'class="target"' in html and "66.7" in html
    response = client.get("/reports/export/groups.csv" + args)
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][:5] == ["group", "decided", "met", "breached", "compliance_pct"]
    assert rows[1][:5] == ["amazon", "3", "2", "1", "66.7"]
    assert rows[-1][:5] == ["total", "5", "3", "2", "60.0"]
    backlog_rows = list(
        csv.reader(io.StringIO(client.get("/reports/export/backlog.csv" + args).get_data().decode("utf-8-sig")))
    )
    assert backlog_rows[0] == ["group", "< 4 h", "4–24 h", "1–3 d", "3–7 d", "> 7 d"]
    breached = client.get("/reports/export/breached.csv" + args + "&key=ebay").get_data().decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(breached)))) == 2
    assert client.get("/reports/breached" + args + "&key=ebay").status_code == 200
    days = list(csv.reader(io.StringIO(client.get("/reports/export/days.csv" + args).get_data().decode("utf-8-sig"))))
    assert [r[:3] for r in days[1:]] == [["2026-03-02", "3", "2"], ["2026-03-03", "2", "1"]]


def test_days_follow_a_daylight_saving_change(session: Any, make_account: Any) -> None:
    """Berlin moves to summer time on 29 March 2026 at 01:00 UTC; local midnight of 30 March is 22:00 UTC."""
    account = make_account(name="amz", kind="email", platform="amazon")
    customer = Customer(display_name="Buyer")
    session.add(customer)
    session.flush()
    for started in (
        datetime(2026, 3, 28, 22, 59, tzinfo=UTC),  # 28 March 23:59 CET
        datetime(2026, 3, 28, 23, 30, tzinfo=UTC),  # 29 March 00:30 CET
        datetime(2026, 3, 29, 21, 59, tzinfo=UTC),  # 29 March 23:59 CEST
        datetime(2026, 3, 29, 22, 0, tzinfo=UTC),  # 30 March 00:00 CEST
    ):
        t = Ticket(
            subject="x",
            status="open",
            channel_account_id=account.id,
            platform="amazon",
            customer_id=customer.id,
            created_at=started,
        )
        session.add(t)
        session.flush()
        session.add(
            SlaClock(
                ticket_id=t.id,
                channel_account_id=account.id,
                platform="amazon",
                elapsed_s=3600,
                kind="first_response",
                started_at=started,
                target_s=86400,
                warn_share=0.75,
                due_at=started + 24 * H,
                warning_at=started + 18 * H,
                status="met",
                stopped_at=started + H,
                paused_total_s=0,
            )
        )
    session.commit()
    report = sla_report(session, ReportQuery(date(2026, 3, 28), date(2026, 3, 30), "Europe/Berlin"), now=NOW)
    assert [x.decided for x in report.days] == [1, 2, 1]
