"""Ticket merges are confirmed first, recorded exactly, and undone exactly — or refused with a reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import Party
from helpdesk import events
from helpdesk.audit.models import AuditEvent
from helpdesk.ingest.pipeline import ingest
from helpdesk.tickets import merging, services
from helpdesk.tickets.models import Attachment, AttachmentBlob, Message, Ticket
from tests.conftest import T0
from tests.web import login, post


@pytest.fixture
def published() -> Any:
    seen: list[tuple[str, dict[str, Any]]] = []

    def record(name: str, payload: Any) -> None:
        seen.append((name, dict(payload)))

    events.listen("ticket.updated")(record)
    yield seen
    events.unlisten(record)


def messages_of(session: Any, ticket: Ticket) -> set[int]:
    return set(session.scalars(sa.select(Message.id).where(Message.ticket_id == ticket.id)))


@pytest.fixture
def pair(session: Any, world: Any, make_ticket: Any) -> tuple[Ticket, Ticket]:
    """Anna's two tickets: the source has a note, an attachment, tags, an assignee and is pending."""
    target = make_ticket(buyer="anna")
    source = make_ticket(buyer="anna", status="pending")
    services.set_tags(session, target, ["vip"], world.lead)
    services.set_tags(session, source, ["vip", "return"], world.lead)
    services.assign(session, source, world.eu.id, world.lead)
    services.add_reply(session, source, world.eu, "Checking with the warehouse.", internal=True)
    inbound = session.scalar(sa.select(Message).where(Message.ticket_id == source.id, Message.direction == "in"))
    session.add(AttachmentBlob(sha256="b" * 64, size=3, data=b"pdf"))
    session.flush()
    session.add(
        Attachment(message_id=inbound.id, sha256="b" * 64, filename="label.pdf", content_type="application/pdf", size=3)
    )
    session.commit()
    return source, target


def test_confirmation_page_lists_what_moves_and_changes_nothing(
    client: Any, session: Any, world: Any, pair: tuple[Ticket, Ticket]
) -> None:
    source, target = pair
    login(client, world.eu)
    page = client.get(f"/tickets/{source.id}").get_data(as_text=True)
    assert f'action="/tickets/{source.id}/merge"' in page and 'method="get"' in page  # the sidebar only asks
    response = client.get(f"/tickets/{source.id}/merge?into={target.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Merge ticket #{source.id} into #{target.id}?" in html
    assert "Messages: 1" in html and "Internal notes: 1" in html and "Attachments: 1" in html
    assert "Tags added: return" in html  # vip is on the target already
    assert f'It is closed and marked "Merged into #{target.id}"' in html
    # a POST that skipped the page is sent to it, and nothing moved
    skipped = post(client, f"/tickets/{source.id}/merge", {"into": target.id}, f"/tickets/{source.id}")
    assert skipped.status_code == 303
    assert skipped.headers["Location"].endswith(f"/tickets/{source.id}/merge?into={target.id}")
    session.expire_all()
    assert source.merged_into_id is None and source.message_count == 2


def test_confirmation_refuses_what_merge_refuses(client: Any, session: Any, world: Any, make_ticket: Any) -> None:
    anna, bob = make_ticket(buyer="anna"), make_ticket(buyer="bob")
    login(client, world.eu)
    response = client.get(f"/tickets/{anna.id}/merge?into={bob.id}", follow_redirects=True)
    assert "Only tickets of the same customer can be merged." in response.get_data(as_text=True)
    foreign = make_ticket("shop-jp", buyer="anna")
    assert client.get(f"/tickets/{anna.id}/merge?into={foreign.id}").status_code == 404


def test_merge_records_exactly_what_moved_and_undo_restores_it(
    client: Any, session: Any, world: Any, make_message: Any, pair: tuple[Ticket, Ticket], published: Any
) -> None:
    source, target = pair
    source_messages, target_messages = messages_of(session, source), messages_of(session, target)
    login(client, world.eu)
    form = {"into": target.id, "confirmed": "1"}
    response = post(client, f"/tickets/{source.id}/merge", form, f"/tickets/{source.id}")
    assert response.headers["Location"].endswith(f"/tickets/{target.id}")
    session.expire_all()
    assert source.merged_into_id == target.id and source.status == "closed"
    assert messages_of(session, target) == source_messages | target_messages
    assert target.tag_names == ["return", "vip"] and target.message_count == 3
    record = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "ticket.merged")).one()
    assert record.ticket_id == source.id and record.actor_id == world.eu.id
    assert sorted(record.data["message_ids"]) == sorted(source_messages)
    assert record.data["tags_added"] == ["return"]
    assert record.data["source"]["status"] == "pending" and record.data["source"]["assignee_id"] == world.eu.id
    assert ("ticket.updated", source.id) in {(n, p["ticket_id"]) for n, p in published}

    # the buyer writes again on the old thread after the merge: ingest threads it onto the target, where it stays
    ingest(
        session,
        [
            make_message(
                external_id="after-merge",
                external_thread_id=source.external_thread_id,
                sender=Party(platform_id="anna", name="Anna"),
                sent_at=T0 + timedelta(days=1),
            )
        ],
        source="test",
    )
    session.commit()
    later = session.scalar(sa.select(Message.id).where(Message.external_id == "after-merge"))
    assert session.get(Message, later).ticket_id == target.id

    target_page = client.get(f"/tickets/{target.id}").get_data(as_text=True)
    undo_url = f"/tickets/{target.id}/merges/{record.id}/undo"
    assert f'action="{undo_url}"' in target_page  # the target's history offers the undo
    assert f'action="/tickets/{source.id}/merges/{record.id}/undo"' in client.get(f"/tickets/{source.id}").get_data(
        as_text=True
    )
    published.clear()
    response = post(client, undo_url, {}, f"/tickets/{target.id}")
    assert response.headers["Location"].endswith(f"/tickets/{source.id}")
    session.expire_all()
    assert messages_of(session, source) == source_messages
    assert messages_of(session, target) == target_messages | {later}
    assert source.merged_into_id is None and source.status == "pending" and source.closed_at is None
    assert source.assignee_id == world.eu.id and source.tag_names == ["return", "vip"]
    assert target.tag_names == ["vip"]
    assert (source.message_count, target.message_count) == (2, 2)
    undos = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "ticket.unmerged")).all()
    assert {u.ticket_id for u in undos} == {source.id, target.id}
    assert all(u.data["merge_event_id"] == record.id and u.actor_id == world.eu.id for u in undos)
    changes = {p["ticket_id"]: p["changes"] for n, p in published}
    assert changes[source.id]["merged_into_id"] is None and changes[source.id]["status"] == "pending"
    assert sorted(changes[target.id]["removed_message_ids"]) == sorted(source_messages)
    source_page = client.get(f"/tickets/{source.id}").get_data(as_text=True)
    assert 'id="composer"' in source_page and "undone" in source_page

    # undone once is undone for good
    again = post(client, undo_url, {}, f"/tickets/{target.id}")
    assert "This merge was already undone." in client.get(again.headers["Location"]).get_data(as_text=True)
    session.expire_all()
    assert messages_of(session, source) == source_messages


def test_merges_unwind_last_first(session: Any, world: Any, make_ticket: Any) -> None:
    a, b, c = (make_ticket(buyer="anna") for _ in range(3))
    a_msgs = messages_of(session, a)
    first = merging.merge(session, a, b, world.lead)
    second = merging.merge(session, b, c, world.lead)
    session.commit()
    assert messages_of(session, c) >= a_msgs
    with pytest.raises(services.TicketError, match=f"#{b.id} was merged into #{c.id} since. Undo that merge first"):
        merging.unmerge(session, first.id, world.lead)
    session.rollback()
    merging.unmerge(session, second.id, world.lead)
    merging.unmerge(session, first.id, world.lead)
    session.commit()
    assert messages_of(session, a) == a_msgs and a.merged_into_id is None and b.merged_into_id is None


def test_undo_refused_when_the_source_was_deleted(session: Any, world: Any, make_ticket: Any) -> None:
    target, source = make_ticket(buyer="anna"), make_ticket(buyer="anna")
    event = merging.merge(session, source, target, world.lead)
    session.commit()
    source_id, before = source.id, messages_of(session, target)
    session.execute(sa.delete(Ticket).where(Ticket.id == source_id))
    session.commit()
    session.expire_all()
    refusal = merging.undo_refusal(session, event)
    assert refusal == f"Ticket #{source_id} no longer exists, so this merge cannot be undone."
    with pytest.raises(services.TicketError, match="no longer exists"):
        merging.unmerge(session, event.id, world.lead)
    session.rollback()
    assert messages_of(session, target) == before


def test_undo_refused_when_a_moved_message_is_gone(session: Any, world: Any, make_ticket: Any) -> None:
    target, source = make_ticket(buyer="anna"), make_ticket(buyer="anna")
    moved = messages_of(session, source)
    event = merging.merge(session, source, target, world.lead)
    session.commit()
    session.execute(sa.delete(Message).where(Message.id.in_(moved)))
    session.commit()
    with pytest.raises(services.TicketError, match="no longer on ticket"):
        merging.unmerge(session, event.id, world.lead)
    session.rollback()
    session.expire_all()
    assert source.merged_into_id == target.id


def test_undo_needs_both_tickets_visible_and_a_real_merge(
    client: Any, session: Any, world: Any, make_ticket: Any
) -> None:
    target, source = make_ticket(buyer="anna"), make_ticket(buyer="anna")
    other = make_ticket(buyer="bob")
    event = merging.merge(session, source, target, world.lead)
    session.commit()
    login(client, world.asia_agent)  # sees neither store
    assert post(client, f"/tickets/{target.id}/merges/{event.id}/undo", {}).status_code == 404
    login(client, world.eu)
    assert post(client, f"/tickets/{other.id}/merges/{event.id}/undo", {}).status_code == 404  # not this ticket's
    note = session.scalars(sa.select(AuditEvent).where(AuditEvent.action != "ticket.merged")).first()
    assert post(client, f"/tickets/{target.id}/merges/{note.id + 1000}/undo", {}).status_code == 404
    assert client.post(f"/tickets/{target.id}/merges/{event.id}/undo").status_code == 400  # no CSRF token
    session.expire_all()
    assert source.merged_into_id == target.id


def test_merged_ticket_offers_no_composer_and_refuses_replies(
    client: Any, session: Any, world: Any, make_ticket: Any
) -> None:
    target, source = make_ticket(buyer="anna"), make_ticket(buyer="anna")
    merging.merge(session, source, target, world.lead)
    session.commit()
    login(client, world.eu)
    page = client.get(f"/tickets/{source.id}").get_data(as_text=True)
    assert 'id="composer"' not in page and 'id="body"' not in page
    assert f"This ticket was merged into #{target.id} and takes no replies." in page
    assert f'<a href="/tickets/{target.id}">Reply on #{target.id}</a>' in page
    assert 'id="merge-start"' not in page  # nothing more to merge from here
    response = post(client, f"/tickets/{source.id}/reply", {"body": "Still there?"}, f"/tickets/{target.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"This ticket was merged into #{target.id}. Reply on that ticket instead." in html
    assert "Still there?" in html  # the draft is shown to copy, not lost
    with pytest.raises(services.TicketError, match="merged into"):
        services.add_reply(session, source, world.eu, "note", internal=True)
    session.rollback()
    sent = post(client, f"/tickets/{source.id}/actions", {"action": "confirmDeliveryDetails"}, f"/tickets/{target.id}")
    assert sent.headers["Location"].endswith(f"/tickets/{source.id}")
    assert "Reply on that ticket instead." in client.get(sent.headers["Location"]).get_data(as_text=True)
    reopened = post(client, f"/tickets/{source.id}/status", {"status": "open"}, f"/tickets/{target.id}")
    flashed = client.get(reopened.headers["Location"]).get_data(as_text=True)
    assert f"Ticket #{source.id} is merged into #{target.id}. Undo the merge to work on it again." in flashed
    session.expire_all()
    assert source.status == "closed"
    assert session.scalar(sa.select(sa.func.count(Message.id)).where(Message.body_text == "Still there?")) == 0
