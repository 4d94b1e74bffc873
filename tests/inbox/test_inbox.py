"""The inbox: visibility, saved views and counts, filters, sorting, keyset pages, bulk actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk.audit.models import AuditEvent
from helpdesk.inbox import services
from helpdesk.inbox.queries import Filters
from helpdesk.tickets.models import TicketStatus
from tests.conftest import T0
from tests.web import csrf_token, login, post


def ids_in(html: str) -> set[int]:
    import re

    return {int(m) for m in re.findall(r'data-ticket-id="(\d+)"', html)}


def test_agent_sees_only_their_teams_stores(client: Any, world: Any, make_ticket: Any) -> None:
    mine = make_ticket("shop-de")
    make_ticket("shop-jp")
    login(client, world.eu)
    html = client.get("/").get_data(as_text=True)
    assert ids_in(html) == {mine.id}
    assert "shop-jp" not in html  # not even as a filter choice or store view


def test_lead_sees_everything(client: Any, world: Any, make_ticket: Any) -> None:
    a, b = make_ticket("shop-de"), make_ticket("shop-jp")
    login(client, world.lead)
    assert ids_in(client.get("/").get_data(as_text=True)) == {a.id, b.id}


def test_default_sort_is_sla_due_with_no_due_date_last(session: Any, world: Any, make_ticket: Any) -> None:
    late = make_ticket(sla_due_at=T0 + timedelta(hours=5))
    none = make_ticket()
    soon = make_ticket(sla_due_at=T0 + timedelta(hours=1))
    page = services.inbox_page(session, world.lead, None)
    assert [t.id for t in page.tickets] == [soon.id, late.id, none.id]


def test_keyset_pages_walk_everything_once_even_when_tickets_arrive(session: Any, world: Any, make_ticket: Any) -> None:
    expected = []
    for n in range(7):
        due = T0 + timedelta(hours=n % 3) if n < 5 else None  # ties on sla_due_at, then two without one
        expected.append(make_ticket(sla_due_at=due))
    seen: list[int] = []
    cursor = None
    for round_ in range(10):
        page = services.inbox_page(session, world.lead, None, cursor=cursor, limit=2)
        seen.extend(t.id for t in page.tickets)
        if round_ == 1:
            make_ticket(sla_due_at=T0 - timedelta(days=1))  # sorts before the cursor: must not shift later pages
        cursor = page.next_cursor
        if cursor is None:
            break
    order = sorted(expected, key=lambda t: (t.sla_due_at is None, t.sla_due_at or T0, t.id))
    assert seen == [t.id for t in order]
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_time_sorts_page_by_creation(session: Any, world: Any, make_ticket: Any, sort: str) -> None:
    tickets = [make_ticket(created_at=T0 + timedelta(minutes=n)) for n in range(5)]
    seen, cursor = [], None
    while True:
        page = services.inbox_page(session, world.lead, None, sort=sort, cursor=cursor, limit=2)
        seen.extend(t.id for t in page.tickets)
        cursor = page.next_cursor
        if not cursor:
            break
    ids = [t.id for t in tickets]
    assert seen == (ids[::-1] if sort == "newest" else ids)


def test_saved_views_and_counts(client: Any, session: Any, world: Any, make_ticket: Any) -> None:
    make_ticket(assignee_id=world.eu.id)
    make_ticket(sla_state="warning")
    make_ticket(sla_state="breached")
    make_ticket(status=TicketStatus.PENDING)
    make_ticket(status=TicketStatus.SOLVED)
    make_ticket("shop-jp")  # invisible to eu: counted nowhere
    login(client, world.eu)
    counts = client.get("/inbox/counts").get_json()
    assert counts["mine"] == 1
    assert counts["unassigned"] == 3
    assert counts["open"] == 4
    assert counts["at_risk"] == 1
    assert counts["breached"] == 1
    assert counts["pending"] == 1
    assert counts["solved"] == 1
    assert counts["platform:ebay"] == 4
    assert counts[f"account:{world.de.id}"] == 4
    assert f"account:{world.jp.id}" not in counts
    assert len(ids_in(client.get("/?view=breached").get_data(as_text=True))) == 1
    assert client.get("/?view=nonsense").status_code == 404
    assert client.get("/?sort=sideways").status_code == 400
    assert client.get("/?cursor=garbage").status_code == 400


def test_filters(session: Any, world: Any, make_ticket: Any) -> None:
    from helpdesk.tickets.models import TicketTag

    tagged = make_ticket(priority="urgent", language="de")
    tagged.tags.append(TicketTag(ticket_id=tagged.id, tag="refund"))
    assigned = make_ticket(assignee_id=world.eu.id, language="en", created_at=T0 + timedelta(days=3))
    session.commit()

    def ids(**kw: Any) -> set[int]:
        return {t.id for t in services.inbox_page(session, world.lead, None, filters=Filters(**kw)).tickets}

    assert ids(tag="Refund") == {tagged.id}
    assert ids(priority="urgent") == {tagged.id}
    assert ids(language="en") == {assigned.id}
    assert ids(assignee_id=world.eu.id) == {assigned.id}
    assert ids(unassigned=True) == {tagged.id}
    assert ids(platform="ebay") == {tagged.id, assigned.id}
    assert ids(platform="amazon") == set()
    assert ids(account_id=world.de.id) == {tagged.id, assigned.id}
    assert ids(date_from=(T0 + timedelta(days=2)).date()) == {assigned.id}
    assert ids(date_to=(T0 + timedelta(days=1)).date()) == {tagged.id}
    assert ids(team_id=world.asia.id) == set()


def test_filter_bar_query_string(client: Any, world: Any, make_ticket: Any) -> None:
    urgent = make_ticket(priority="urgent")
    make_ticket()
    login(client, world.eu)
    assert ids_in(client.get("/?priority=urgent&assignee=none&sort=newest").get_data(as_text=True)) == {urgent.id}


def test_live_row_only_for_matching_visible_tickets(client: Any, world: Any, make_ticket: Any) -> None:
    mine, other = make_ticket(), make_ticket("shop-jp")
    login(client, world.eu)
    assert client.get(f"/inbox/row/{mine.id}").status_code == 200
    assert client.get(f"/inbox/row/{other.id}").status_code == 204
    assert client.get(f"/inbox/row/{mine.id}?view=solved").status_code == 204


def test_bulk_actions_touch_only_visible_tickets(client: Any, session: Any, world: Any, make_ticket: Any) -> None:
    a, b, foreign = make_ticket(), make_ticket(), make_ticket("shop-jp")
    login(client, world.eu)
    data = {"ticket": [a.id, b.id, foreign.id], "action": "status", "value_status": "pending", "back": "/"}
    response = post(client, "/inbox/bulk", data)
    assert response.status_code == 302
    session.expire_all()
    assert (a.status, b.status, foreign.status) == ("pending", "pending", "new")
    post(client, "/inbox/bulk", {"ticket": [a.id], "action": "tag", "value_tag": "VIP"})
    post(client, "/inbox/bulk", {"ticket": [a.id, b.id], "action": "assign", "value_assign": str(world.eu.id)})
    session.expire_all()
    assert a.tag_names == ["vip"]
    assert a.assignee_id == b.assignee_id == world.eu.id
    refused = post(
        client, "/inbox/bulk", {"ticket": [a.id], "action": "assign", "value_assign": str(world.asia_agent.id)}
    )
    assert refused.status_code == 302
    session.expire_all()
    assert a.assignee_id == world.eu.id  # Aiko cannot see shop-de


def test_bulk_merge_folds_same_customer_tickets_into_the_oldest(
    client: Any, session: Any, world: Any, make_ticket: Any
) -> None:
    first, second = make_ticket(buyer="anna"), make_ticket(buyer="anna")
    login(client, world.eu)
    asked = post(client, "/inbox/bulk", {"ticket": [second.id, first.id], "action": "merge", "back": "/"})
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and f"Merge these tickets into #{first.id}?" in html  # nothing merges unconfirmed
    assert f'id="merge-source-{second.id}"' in html and "Merged into #" in html
    session.expire_all()
    assert second.merged_into_id is None
    post(client, "/inbox/bulk", {"ticket": [second.id, first.id], "action": "merge", "confirmed": "1"})
    session.expire_all()
    assert second.merged_into_id == first.id
    assert second.status == "closed"
    assert first.message_count == 2
    # recorded like a merge from the ticket page, so it can be undone; a bulk reopen leaves the merged ticket closed
    assert session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "ticket.merged")) is not None
    post(client, "/inbox/bulk", {"ticket": [second.id, first.id], "action": "status", "value_status": "pending"})
    session.expire_all()
    assert (first.status, second.status) == ("pending", "closed")


def test_bulk_without_csrf_token_is_refused(client: Any, session: Any, world: Any, make_ticket: Any) -> None:
    a = make_ticket()
    login(client, world.eu)
    csrf_token(client, "/")
    response = client.post("/inbox/bulk", data={"ticket": [a.id], "action": "status", "value_status": "solved"})
    assert response.status_code == 400
    session.expire_all()
    assert a.status == "new"
