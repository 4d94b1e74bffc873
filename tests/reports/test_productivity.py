"""Per-agent productivity from tickets that went through the real ingest and inbox services at known times;
the report's CSV files for Excel and its filter choices."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import UTC, date, datetime
from typing import Any

import pytest

from channels.base import Party
from helpdesk.ingest.pipeline import ingest
from helpdesk.reports.productivity import productivity
from helpdesk.reports.services import ReportQuery
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.services import add_reply, set_status
from tests.api.test_api import bearer
from tests.web import login

BEN = "王芳"  # a CJK name, as on many cross-border desks: the CSV must keep it
RANGE = ReportQuery(date(2026, 3, 2), date(2026, 3, 3), "UTC")


def d(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def desk(session: Any, make_account: Any, make_user: Any, make_message: Any) -> dict[str, Any]:
    """Five tickets on two platforms with replies, a note and solvings at known instants."""
    make_account(name="amz", kind="email", platform="amazon")
    make_account(name="eb", platform="ebay")
    ana = make_user("ana@example.test", name="Ana")
    ben = make_user("wang@example.test", name=BEN)
    lead = make_user("lead@example.test", name="Lea", role="lead")
    tickets: dict[str, Ticket] = {}

    def buyer(name: str, account: str, at: datetime, thread: str | None = None) -> None:
        msg = make_message(
            channel="email" if account == "amz" else "ebay",
            account=account,
            sent_at=at,
            sender=Party(platform_id=f"buyer_{name}", email=f"{name}@buyer.example", name=name),
            external_thread_id=thread or f"thread-{name}",
        )
        outcome = ingest(session, [msg], source="test").outcomes[0]
        tickets[name] = session.get(Ticket, outcome.ticket_id)

    def reply(name: str, user: Any, at: datetime, internal: bool = False) -> None:
        add_reply(
            session, tickets[name], user, "Thank you, your parcel ships today.", internal=internal, force=True, at=at
        )

    buyer("a", "amz", d(2, 9))
    reply("a", ana, d(2, 10))
    set_status(session, tickets["a"], "solved", ana, at=d(2, 12))
    buyer("b", "amz", d(2, 9))
    reply("b", ana, d(2, 11))
    buyer("b", "amz", d(2, 13), thread="thread-b")  # the buyer asks again
    reply("b", ana, d(2, 14))
    set_status(session, tickets["b"], "solved", ana, at=d(3, 10))
    buyer("c", "eb", d(3, 8))
    reply("c", ben, d(3, 9))
    reply("c", ana, d(3, 9, 30), internal=True)  # a note is no reply
    set_status(session, tickets["c"], "solved", ben, at=d(3, 15))
    buyer("d", "eb", d(1, 15))
    reply("d", ben, d(1, 16))  # before the range in UTC, inside it in Tokyo
    reply("d", ben, d(3, 20))
    reply("d", ben, d(3, 21))  # inside the range in UTC, 4 March in Tokyo
    buyer("e", "eb", d(2, 16))
    set_status(session, tickets["e"], "solved", lead, at=d(2, 17))  # solved without a reply, unassigned
    buyer("f", "eb", d(2, 8))
    reply("f", ben, d(2, 9))
    set_status(session, tickets["f"], "solved", ben, at=d(4, 9))  # solved after the range
    session.commit()
    return {"ana": ana, "ben": ben, "lead": lead, "tickets": tickets}


def by_label(result: Any) -> dict[str, Any]:
    return {a.label: a for a in result.agents}


def hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds()


def test_replies_solved_one_touch_and_handle_time_per_agent(session: Any, desk: Any) -> None:
    agents = by_label(productivity(session, RANGE))
    assert set(agents) == {"Ana", BEN, "—"}
    ana, ben, nobody = agents["Ana"], agents[BEN], agents["—"]
    # Ana: a (1 reply), b (2 replies); her note on c is not a reply
    assert (ana.replies, ana.solved, ana.one_touch, ana.one_touch_pct) == (3, 2, 1, 50.0)
    # handle times: a 10:00 → 12:00, b first reply 2 March 11:00 → 3 March 10:00; nearest-rank median = the shorter
    assert ana.handle_p50_s == hours(d(2, 10), d(2, 12))
    # Ben: replies on c, f and twice on d inside the range (d's first was before it); f is solved after the range
    assert (ben.replies, ben.solved, ben.one_touch) == (4, 1, 1)
    assert ben.handle_p50_s == hours(d(3, 9), d(3, 15))
    # e: solved by a lead without any reply, nobody holds it
    assert (nobody.replies, nobody.solved, nobody.one_touch, nobody.handle_p50_s) == (0, 1, 0, None)


def test_total_and_platform_filter(session: Any, desk: Any) -> None:
    total = productivity(session, RANGE).total
    assert (total.replies, total.solved, total.one_touch) == (7, 4, 2)
    handles = sorted([hours(d(2, 10), d(2, 12)), hours(d(2, 11), d(3, 10)), hours(d(3, 9), d(3, 15))])
    assert total.handle_p50_s == handles[1]
    ebay = by_label(productivity(session, ReportQuery(RANGE.start, RANGE.end, "UTC", platform="ebay")))
    assert set(ebay) == {BEN, "—"}
    assert (ebay[BEN].replies, ebay[BEN].solved) == (4, 1)


def test_dates_are_local_days(session: Any, desk: Any) -> None:
    """In Tokyo (UTC+9) 2–3 March runs from 1 March 15:00 to 3 March 15:00 UTC."""
    ben = by_label(productivity(session, ReportQuery(RANGE.start, RANGE.end, "Asia/Tokyo")))[BEN]
    # d's reply at 1 March 16:00 UTC is in, its replies at 3 March 20:00 and 21:00 UTC are not; c and f are
    assert ben.replies == 3


def test_page_chart_csv_and_api(client: Any, session: Any, desk: Any) -> None:
    login(client, desk["lead"])
    args = "?from=2026-03-02&to=2026-03-03"
    html = client.get("/reports/" + args).get_data(as_text=True)
    assert 'id="productivity"' in html and 'class="chart bars"' in html
    assert "first agent reply" in html  # the handle-time definition is on the page
    raw = client.get("/reports/export/agents.csv" + args).get_data()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["agent", "replies", "solved", "one_touch", "one_touch_pct", "handle_p50_h"]
    assert rows[1][:4] == ["Ana", "3", "2", "1"]
    assert rows[-1][:4] == ["total", "7", "4", "2"]


def test_agents_get_404(client: Any, desk: Any) -> None:
    login(client, desk["ana"])
    assert client.get("/reports/export/agents.csv").status_code == 404


def test_api_twin_returns_the_page_figures(client: Any, session: Any, desk: Any) -> None:
    headers = bearer(session, desk["lead"])
    body = client.get("/api/v1/reports/agents?from=2026-03-02&to=2026-03-03", headers=headers).json
    expected = productivity(session, RANGE)
    assert body["agents"] == [a.as_dict() for a in expected.agents]
    assert (body["total"]["replies"], body["total"]["solved"]) == (7, 4)
    agent_headers = bearer(session, desk["ana"])
    assert client.get("/api/v1/reports/agents", headers=agent_headers).status_code == 404


@pytest.mark.parametrize("name", ["groups", "days", "backlog", "breached", "agents"])
def test_every_csv_starts_with_a_bom_and_keeps_cjk(client: Any, desk: Any, name: str) -> None:
    """Excel reads a CSV without a byte order mark in the legacy code page: 王芳 would turn to mojibake."""
    login(client, desk["lead"])
    response = client.get(f"/reports/export/{name}.csv?from=2026-03-02&to=2026-03-03&group=agent")
    raw = response.get_data()
    assert response.mimetype == "text/csv"
    assert raw.startswith(codecs.BOM_UTF8)
    assert raw.count(codecs.BOM_UTF8) == 1
    if name in ("groups", "agents"):
        assert BEN in raw.decode("utf-8-sig")


def test_platform_filter_offers_the_desks_platforms(client: Any, desk: Any) -> None:
    login(client, desk["lead"])
    html = client.get("/reports/?platform=ebay").get_data(as_text=True)
    assert '<input type="text" name="platform"' not in html
    assert '<select name="platform">' in html
    assert '<option value="amazon" >amazon</option>' in html
    assert '<option value="ebay" selected>ebay</option>' in html


def test_store_team_and_agent_filters_are_choices_and_apply(client: Any, session: Any, desk: Any) -> None:
    from helpdesk.channelaccounts.models import ChannelAccount

    login(client, desk["lead"])
    html = client.get("/reports/").get_data(as_text=True)
    for name in ("store", "team", "agent"):
        assert f'<select name="{name}">' in html
        assert f'<input type="text" name="{name}"' not in html
    ben = desk["ben"]
    assert f'<option value="{ben.id}" >{BEN}</option>' in html
    eb = session.query(ChannelAccount).filter_by(name="eb").one()
    only_eb = by_label(productivity(session, ReportQuery(RANGE.start, RANGE.end, "UTC", store=eb.id)))
    assert set(only_eb) == {BEN, "—"}  # Ana only replied on the Amazon store
    only_ben = productivity(session, ReportQuery(RANGE.start, RANGE.end, "UTC", agent=ben.id))
    assert [(a.label, a.replies, a.solved) for a in only_ben.agents] == [(BEN, 4, 1)]
    page = client.get(f"/reports/?from=2026-03-02&to=2026-03-03&agent={ben.id}").get_data(as_text=True)
    assert f'<option value="{ben.id}" selected>{BEN}</option>' in page
    assert client.get("/reports/?store=abc").status_code == 400
