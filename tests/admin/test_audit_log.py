"""The audit log page: admins and leads read it newest first, filtered, a page at a time, in sentences."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from helpdesk.audit.models import AuditEvent
from helpdesk.tickets import services as tickets
from tests.web import login, post


def _rows(html: str) -> list[str]:
    return [chunk.split("</tr>")[0] for chunk in html.split("<tr data-action=")[1:]]


def test_agents_get_404_leads_and_admins_read_it(client: Any, world: Any, make_user: Any) -> None:
    login(client, world.eu)
    assert client.get("/admin/audit/").status_code == 404
    post(client, "/logout", {})
    login(client, world.lead)
    assert client.get("/admin/audit/").status_code == 200
    assert 'href="/admin/audit/"' in client.get("/admin/").get_data(as_text=True)


def test_events_read_as_sentences_with_ticket_links_and_filters(
    client: Any, session: Any, world: Any, make_user: Any, make_ticket: Any
) -> None:
    admin = make_user("admin@example.test", name="Ada", role="admin")
    ticket = make_ticket()
    other = make_ticket()
    tickets.assign(session, ticket, world.eu.id, world.lead)
    tickets.set_status(session, other, "solved", world.eu)
    session.commit()
    login(client, admin)
    post(client, "/admin/teams", {"name": "Americas"})
    post(client, f"/admin/users/{world.eu.id}/deactivate", {})

    html = client.get("/admin/audit/").get_data(as_text=True)
    rows = _rows(html)
    assert len(rows) == 4
    assert "Ada deactivated the user eu@example.test" in rows[0]  # newest first
    assert "Ada created the team Americas" in rows[1]
    assert f"Emil changed ticket #{other.id}: status solved" in rows[2]
    assert f"Lena changed ticket #{ticket.id}: assigned to Emil" in rows[3]
    assert f'href="/tickets/{ticket.id}"' in rows[3]

    by_ticket = _rows(client.get(f"/admin/audit/?ticket={ticket.id}").get_data(as_text=True))
    assert len(by_ticket) == 1 and "assigned to Emil" in by_ticket[0]
    by_actor = _rows(client.get(f"/admin/audit/?actor={admin.id}").get_data(as_text=True))
    assert len(by_actor) == 2 and all("Ada" in r for r in by_actor)
    by_action = _rows(client.get("/admin/audit/?action=team.created").get_data(as_text=True))
    assert len(by_action) == 1 and "Americas" in by_action[0]

    old = session.scalars(sa.select(AuditEvent).where(AuditEvent.ticket_id == ticket.id)).one()
    old.at = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    session.commit()
    dated = _rows(client.get("/admin/audit/?from=2025-06-01&to=2025-06-01").get_data(as_text=True))
    assert len(dated) == 1 and "assigned to Emil" in dated[0]
    assert len(_rows(client.get("/admin/audit/?from=2025-06-02").get_data(as_text=True))) == 3
    empty = client.get("/admin/audit/?to=2025-05-31").get_data(as_text=True)
    assert "Nothing recorded matches these filters" in empty


def test_pages_go_back_in_time_without_gaps_or_repeats(client: Any, session: Any, world: Any) -> None:
    session.add_all(
        AuditEvent(actor_type="system", action="user.reactivated", data={"email": f"u{n}@example.test"})
        for n in range(120)
    )
    session.commit()
    login(client, world.lead)
    seen: list[str] = []
    path = "/admin/audit/?action=user.reactivated"
    while path:
        html = client.get(path).get_data(as_text=True)
        seen += [r.split("reactivated the user ")[1].split("<")[0].strip() for r in _rows(html)]
        older = html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0] if 'rel="next"' in html else None
        path = older.replace("&amp;", "&") if older else ""
    assert seen == [f"u{n}@example.test" for n in reversed(range(120))]


def test_unknown_actions_and_cli_actors_still_read(client: Any, session: Any, world: Any) -> None:
    session.add(
        AuditEvent(
            actor_type="system", action="user.created", data={"email": "x@example.test", "role": "agent", "via": "cli"}
        )
    )
    session.add(AuditEvent(actor_type="channel", action="something.new", data={}))
    session.commit()
    login(client, world.lead)
    rows = _rows(client.get("/admin/audit/").get_data(as_text=True))
    assert "A marketplace: something.new" in rows[0]
    assert "The command line created the user x@example.test (agent)" in rows[1]


def test_chinese_sentences(client: Any, session: Any, world: Any, make_user: Any, compiled_translations: None) -> None:
    admin = make_user("admin@example.test", name="Ada", role="admin", locale="zh_Hans")
    login(client, admin)
    post(client, "/admin/teams", {"name": "Americas"})
    html = client.get("/admin/audit/").get_data(as_text=True)
    assert "审计日志" in html and "Ada 创建了团队 Americas" in html


def test_a_merge_reads_as_a_sentence_and_can_be_undone_from_the_log(
    client: Any, session: Any, world: Any, make_ticket: Any
) -> None:
    from helpdesk.tickets import merging
    from helpdesk.tickets.models import Ticket

    source, target = make_ticket(), make_ticket()
    event = merging.merge(session, source, target, world.lead)
    session.commit()
    login(client, world.lead)
    html = client.get(f"/admin/audit/?ticket={source.id}").get_data(as_text=True)
    assert f"Lena merged ticket #{source.id} into #{target.id}; messages moved: 1" in html
    undo = f'action="/tickets/{source.id}/merges/{event.id}/undo"'
    assert undo in html
    post(client, f"/tickets/{source.id}/merges/{event.id}/undo", {})
    session.expire_all()
    assert session.get(Ticket, source.id).merged_into_id is None
    html = client.get(f"/admin/audit/?ticket={source.id}").get_data(as_text=True)
    assert undo not in html and "This merge was already undone." in html
    assert f"Lena undid the merge of ticket #{source.id} into #{target.id}" in html
