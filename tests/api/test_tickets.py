"""``/api/v1/tickets`` and ``/api/v1/merges``: the inbox's list and the ticket page's actions, for integrations.

``world``: shop-de belongs to team Europe (agent ``eu``), shop-jp to team Asia
(agent ``asia_agent``); the lead sees both.  Every test runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk.accounts.models import Team
from helpdesk.audit.models import AuditEvent
from helpdesk.customers.models import Customer
from helpdesk.ingest.models import QuarantinedInput
from helpdesk.outbox.models import OutboxEvent
from helpdesk.tickets.models import Message, Ticket
from helpdesk.webhooks import services as webhooks
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.conftest import T0


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.json
    return [t["id"] for t in response.json["tickets"]]


def walk(client: Any, headers: dict[str, str], query: str, limit: int) -> list[int]:
    """Every page of a list, following ``next_cursor``."""
    seen: list[int] = []
    cursor = None
    for _ in range(50):
        url = f"/api/v1/tickets?{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")  # URL-safe as given
        body = client.get(url, headers=headers).json
        assert len(body["tickets"]) <= limit
        seen += [t["id"] for t in body["tickets"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the cursor never ended")


# --- list -----------------------------------------------------------------------------------------


def test_an_agent_lists_only_their_stores_tickets_whatever_they_ask(
    client: Any, world: Any, make_ticket: Any, bearer: Any
) -> None:
    de = make_ticket("shop-de")
    jp = make_ticket("shop-jp")
    headers = bearer(world.eu, "read")
    assert ids(client.get("/api/v1/tickets", headers=headers)) == [de.id]
    # naming the other team's store gives an empty list, not its tickets and not an error
    assert ids(client.get(f"/api/v1/tickets?view=account:{world.jp.id}", headers=headers)) == []
    assert ids(client.get(f"/api/v1/tickets?account_id={world.jp.id}", headers=headers)) == []
    assert ids(client.get("/api/v1/tickets?view=platform:amazon", headers=headers)) == []
    lead = bearer(world.lead, "read")
    assert sorted(ids(client.get("/api/v1/tickets?sort=oldest", headers=lead))) == sorted([de.id, jp.id])
    assert ids(client.get(f"/api/v1/tickets?view=account:{world.jp.id}", headers=lead)) == [jp.id]


def test_views_and_filters_are_the_inboxs(client: Any, world: Any, make_ticket: Any, bearer: Any, session: Any) -> None:
    mine = make_ticket(assignee_id=world.eu.id, priority="high", language="fr")
    free = make_ticket(status="open", team_id=None)  # every other ticket has its store's team, Europe
    pending = make_ticket(status="pending", assignee_id=world.eu.id)
    solved = make_ticket(status="solved")
    late = make_ticket(sla_state="breached", sla_due_at=T0)
    warned = make_ticket(sla_state="warning", sla_due_at=T0 + timedelta(hours=1))
    tagged = make_ticket()
    tagged.tags = []
    session.commit()
    from helpdesk.tickets.models import TicketTag

    session.add(TicketTag(ticket_id=tagged.id, tag="refund"))
    session.commit()
    headers = bearer(world.eu, "read")

    def listed(query: str) -> set[int]:
        return set(ids(client.get(f"/api/v1/tickets?{query}", headers=headers)))

    everything_open = {mine.id, free.id, pending.id, late.id, warned.id, tagged.id}
    assert listed("view=open") == everything_open
    assert listed("") == everything_open  # the default view, as in the inbox
    assert listed("view=mine") == {mine.id, pending.id}
    assert listed("view=unassigned") == everything_open - {mine.id, pending.id}
    assert listed("view=pending") == {pending.id}
    assert listed("view=solved") == {solved.id}
    assert listed("view=breached") == {late.id}
    assert listed("view=at_risk") == {warned.id}
    assert listed("view=platform:ebay") == everything_open
    assert listed(f"view=account:{world.de.id}") == everything_open
    assert listed("status=pending") == {pending.id}
    assert listed("priority=high") == {mine.id}
    assert listed("language=fr") == {mine.id}
    assert listed("tag=refund") == {tagged.id}
    assert listed(f"assignee_id={world.eu.id}") == {mine.id, pending.id}
    assert listed(f"unassigned=true&assignee_id={world.eu.id}") == everything_open - {mine.id, pending.id}
    assert listed(f"team_id={world.europe.id}") == everything_open - {free.id}
    assert listed("platform=amazon") == set()
    # dates are whole days in the user's time zone (UTC here); tickets were created on T0's day
    day = T0.date().isoformat()
    assert listed(f"created_from={day}&created_to={day}") == everything_open
    assert listed(f"created_to={(T0.date() - timedelta(days=1)).isoformat()}") == set()


def test_search_finds_what_the_inbox_search_finds(client: Any, world: Any, make_ticket: Any, bearer: Any) -> None:
    wanted = make_ticket(order_refs=("302-1234567-7654321",), body_text="Wo bleibt mein Paket?")
    make_ticket(body_text="Falsche Farbe geliefert")
    make_ticket("shop-jp", order_refs=("302-1234567-7654321",))
    headers = bearer(world.eu, "read")
    assert ids(client.get("/api/v1/tickets?q=302-1234567-7654321", headers=headers)) == [wanted.id]
    assert ids(client.get("/api/v1/tickets?q=Paket", headers=headers)) == [wanted.id]


@pytest.mark.parametrize("sort", ["sla", "newest", "oldest"])
def test_pages_follow_the_sort_without_gaps_or_repeats(
    sort: str, client: Any, world: Any, make_ticket: Any, bearer: Any, session: Any
) -> None:
    tickets = [
        make_ticket(sla_due_at=T0 + timedelta(hours=h) if h is not None else None)
        for h in (5, None, 1, 3, None, 1, None, 2)
    ]
    same = tickets[2].created_at  # two tickets created at the same instant: the id breaks the tie
    tickets[3].created_at = same
    session.commit()
    if sort == "sla":
        due = [t for t in tickets if t.sla_due_at is not None]
        expected = [t.id for t in sorted(due, key=lambda t: (t.sla_due_at, t.id))]
        expected += sorted(t.id for t in tickets if t.sla_due_at is None)
    else:
        order = sorted(tickets, key=lambda t: (t.created_at, t.id), reverse=sort == "newest")
        expected = [t.id for t in order]
    headers = bearer(world.eu, "read")
    for limit in (1, 3, 100):
        assert walk(client, headers, f"sort={sort}", limit) == expected


def test_bad_list_input_is_400_naming_the_parameter(client: Any, world: Any, make_ticket: Any, bearer: Any) -> None:
    for _ in range(3):
        make_ticket()
    headers = bearer(world.eu, "read")
    cursor = client.get("/api/v1/tickets?limit=1&sort=newest", headers=headers).json["next_cursor"]
    assert cursor
    inner = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    _kind, at, last_id = inner.split("~")
    tampered = [
        f"d~{at}~{last_id}",
        f"c~{at[:-6]}~{last_id}",
        f"c~{at}~{'9' * 30}",
        f"c~{at}~-1",
        f"c~yesterday~{last_id}",
    ]
    for bad in ("garbage", "!!!!", "", *(base64.urlsafe_b64encode(t.encode()).decode() for t in tampered)):
        response = client.get("/api/v1/tickets", query_string={"sort": "newest", "cursor": bad}, headers=headers)
        if not bad:  # an empty cursor is no cursor: the first page
            assert response.status_code == 200
            continue
        assert response.status_code == 400, bad
        assert response.json["error"]["field"] == "cursor"
    for query, field_name in (
        ("status=shipped", "status"),
        ("sort=random", "sort"),
        ("limit=101", "limit"),
        ("limit=0", "limit"),
        ("view=everything", "view"),
        ("view=account:" + "9" * 30, "view"),
        ("created_to=9999-12-31", "created_to"),
        ("created_from=yesterday", "created_from"),
    ):
        response = client.get(f"/api/v1/tickets?{query}", headers=headers)
        assert response.status_code == 400, query
        assert response.json["error"]["field"] == field_name, query


# --- get ------------------------------------------------------------------------------------------


def test_get_a_ticket_with_everything_an_integration_needs(
    client: Any, world: Any, make_ticket: Any, bearer: Any
) -> None:
    ticket = make_ticket(
        order_refs=("12-34567-89012",), assignee_id=world.eu.id, sla_state="warning", sla_due_at=T0, language="de"
    )
    body = client.get(f"/api/v1/tickets/{ticket.id}", headers=bearer(world.eu, "read")).json
    assert body["id"] == ticket.id and body["status"] == "new" and body["priority"] == "normal"
    assert body["channel_account_id"] == world.de.id and body["platform"] == "ebay"
    assert body["customer_id"] == ticket.customer_id and body["order_number"] == "12-34567-89012"
    assert body["assignee_id"] == world.eu.id and body["team_id"] == world.europe.id
    assert body["language"] == "de" and body["sla_state"] == "warning" and body["message_count"] == 1
    assert body["sla_due_at"] in ("2026-01-05T09:00:00Z", "2026-01-05T09:00:00+00:00")  # aware, with an offset
    assert body["created_at"].endswith(("Z", "+00:00"))


def test_another_teams_ticket_is_404_everywhere(client: Any, world: Any, make_ticket: Any, bearer: Any) -> None:
    jp = make_ticket("shop-jp", buyer="buyer_9")
    other = make_ticket("shop-jp", buyer="buyer_9")
    headers = bearer(world.eu)
    for response in (
        client.get(f"/api/v1/tickets/{jp.id}", headers=headers),
        client.get("/api/v1/tickets/999999", headers=headers),
        client.patch(f"/api/v1/tickets/{jp.id}", json={"status": "solved"}, headers=headers),
        client.post(f"/api/v1/tickets/{jp.id}/merge", json={"into": other.id}, headers=headers),
    ):
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"
    assert jp.status == "new"


# --- change ---------------------------------------------------------------------------------------


@dataclass
class Receiver:
    url: str = ""
    calls: list[bytes] = field(default_factory=list)


@pytest.fixture
def receiver(session: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """A loopback endpoint subscribed to ``ticket.updated``."""
    box = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            box.calls.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("HELPDESK_TEST_TICKETS_SECRET", "s3cret")
    session.add(
        WebhookSubscription(
            name="erp", url=box.url, secret_env="HELPDESK_TEST_TICKETS_SECRET", events=["ticket.updated"]
        )
    )
    session.commit()
    webhooks.forget_cache()
    yield box
    webhooks.forget_cache()
    server.shutdown()
    server.server_close()


def test_patch_assigns_solves_and_tags_like_the_ticket_page(
    client: Any, world: Any, make_ticket: Any, bearer: Any, session: Any, receiver: Receiver
) -> None:
    ticket = make_ticket()
    headers = bearer(world.eu)
    response = client.patch(
        f"/api/v1/tickets/{ticket.id}",
        json={"assignee_id": world.eu.id, "status": "solved", "priority": "urgent", "tags": ["Refund", "dhl"]},
        headers=headers,
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["assignee_id"], body["status"], body["priority"]) == (world.eu.id, "solved", "urgent")
    assert body["tags"] == ["dhl", "refund"]
    session.expire_all()
    stored = session.get(Ticket, ticket.id)
    assert stored.status == "solved" and stored.solved_at is not None
    audit = session.scalars(
        sa.select(AuditEvent.data).where(AuditEvent.ticket_id == ticket.id, AuditEvent.action == "ticket.updated")
    ).all()
    assert {"assignee_id": world.eu.id} in audit and {"status": "solved"} in audit
    assert {"tags": ["dhl", "refund"]} in audit
    actors = set(session.scalars(sa.select(AuditEvent.actor_id).where(AuditEvent.action == "ticket.updated")))
    assert actors == {world.eu.id}
    # the same events as the UI's: outbox rows, and the subscribed endpoint's deliveries
    announced = session.scalars(sa.select(OutboxEvent.payloads).where(OutboxEvent.name == "ticket.updated")).all()
    assert sorted(str(p["changes"]) for batch in announced for p in batch) == sorted(
        str(c)
        for c in (
            {"assignee_id": world.eu.id},
            {"status": "solved"},
            {"priority": "urgent"},
            {"tags": ["dhl", "refund"]},
        )
    )
    deliveries = session.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.ticket_id == ticket.id)).all()
    assert sorted(d.event for d in deliveries) == ["ticket.updated"] * 4
    assert any(d.payload["changes"] == {"status": "solved"} for d in deliveries)
    # null unassigns; the same value again changes nothing and writes nothing
    count = session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    assert client.patch(f"/api/v1/tickets/{ticket.id}", json={"priority": "urgent"}, headers=headers).status_code == 200
    assert session.scalar(sa.select(sa.func.count(AuditEvent.id))) == count
    cleared = client.patch(f"/api/v1/tickets/{ticket.id}", json={"assignee_id": None}, headers=headers)
    assert cleared.json["assignee_id"] is None


def test_patch_moves_a_ticket_only_to_a_team_that_serves_its_store(
    client: Any, world: Any, make_ticket: Any, bearer: Any, session: Any
) -> None:
    night = Team(name="Night shift")
    session.add(night)
    session.flush()
    session.execute(
        sa.insert(sa.table("team_channel_account", sa.column("team_id"), sa.column("channel_account_id"))),
        [{"team_id": night.id, "channel_account_id": world.de.id}],
    )
    session.commit()
    ticket = make_ticket()
    headers = bearer(world.eu)
    moved = client.patch(f"/api/v1/tickets/{ticket.id}", json={"team_id": night.id}, headers=headers)
    assert moved.status_code == 200 and moved.json["team_id"] == night.id
    for team_id in (world.asia.id, 987654):
        refused = client.patch(f"/api/v1/tickets/{ticket.id}", json={"team_id": team_id}, headers=headers)
        assert refused.status_code == 422
        assert refused.json["error"]["field"] == "team_id"
        assert refused.json["error"]["message"] == "No team with that id serves this ticket's store."
    assert client.patch(f"/api/v1/tickets/{ticket.id}", json={"team_id": None}, headers=headers).json["team_id"] is None


def test_patch_refusals_name_the_field_and_change_nothing(
    client: Any, world: Any, make_ticket: Any, bearer: Any, session: Any
) -> None:
    ticket = make_ticket()
    headers = bearer(world.eu)
    url = f"/api/v1/tickets/{ticket.id}"
    for body, status, field_name in (
        ({"status": "shipped"}, 422, "status"),
        ({"priority": "asap"}, 422, "priority"),
        ({"status": None}, 422, "status"),
        ({"colour": "red"}, 422, "colour"),
        ({"priority": "high", "assignee_id": world.asia_agent.id}, 422, "assignee_id"),  # cannot see shop-de
    ):
        response = client.patch(url, json=body, headers=headers)
        assert response.status_code == status, body
        assert response.json["error"]["field"] == field_name, body
    session.expire_all()
    assert session.get(Ticket, ticket.id).priority == "normal"  # the valid half of a refused request is not kept
    read_only = client.patch(url, json={"status": "solved"}, headers=bearer(world.eu, "read"))
    assert read_only.status_code == 403 and read_only.json["error"]["code"] == "insufficient_scope"


# --- create ---------------------------------------------------------------------------------------


def case(world: Any, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel_account_id": world.de.id,
        "customer": {"email": "jonas@example.test", "name": "Jonas Weber"},
        "subject": "Return request",
        "message": "The parcel arrived damaged; I would like to return it.",
        "order_ref": "12-34567-89012",
        "language": "de",
        "priority": "high",
        "tags": ["return"],
        "external_id": "case-1001",
    }
    body.update(overrides)
    return body


def test_create_opens_a_ticket_through_the_pipeline_once(client: Any, world: Any, bearer: Any, session: Any) -> None:
    headers = bearer(world.eu)
    response = client.post("/api/v1/tickets", json=case(world), headers=headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["channel_account_id"] == world.de.id and body["team_id"] == world.europe.id
    assert (body["subject"], body["priority"], body["tags"]) == ("Return request", "high", ["return"])
    assert (body["order_number"], body["language"], body["message_count"]) == ("12-34567-89012", "de", 1)
    customer = session.get(Customer, body["customer_id"])
    assert customer.display_name == "Jonas Weber"
    message = session.scalars(sa.select(Message).where(Message.ticket_id == body["id"])).one()
    assert message.direction == "in" and message.body_text.startswith("The parcel")
    events = set(session.scalars(sa.select(OutboxEvent.name)))
    assert {"ticket.created", "message.received"} <= events
    assert (
        session.scalar(
            sa.select(AuditEvent.actor_id).where(
                AuditEvent.ticket_id == body["id"], AuditEvent.action == "ticket.updated"
            )
        )
        == world.eu.id
    )
    # the same case again: the same ticket, 200, nothing new
    again = client.post("/api/v1/tickets", json=case(world, message="Sent twice by a retry"), headers=headers)
    assert again.status_code == 200 and again.json["id"] == body["id"]
    assert session.scalar(sa.select(sa.func.count(Ticket.id))) == 1
    assert session.scalar(sa.select(sa.func.count(Message.id))) == 1


def test_an_idempotency_key_answers_a_retry_with_the_first_answer(
    client: Any, world: Any, bearer: Any, session: Any
) -> None:
    headers = {**bearer(world.eu), "Idempotency-Key": "retry-7"}
    body = case(world, external_id=None)
    first = client.post("/api/v1/tickets", json=body, headers=headers)
    second = client.post("/api/v1/tickets", json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json == second.json
    assert session.scalar(sa.select(sa.func.count(Ticket.id))) == 1
    # without a key and without an external id it is a new message; like any channel's, the pipeline threads
    # it onto the buyer's open ticket about the same order, which keeps its own priority
    third = client.post("/api/v1/tickets", json={**body, "priority": "low"}, headers=bearer(world.eu))
    assert third.status_code == 201 and third.json["id"] == first.json["id"]
    assert (third.json["message_count"], third.json["priority"]) == (2, "high")
    fourth = client.post("/api/v1/tickets", json={**body, "order_ref": "99-1"}, headers=bearer(world.eu))
    assert fourth.status_code == 201 and fourth.json["id"] != first.json["id"]


def test_create_refusals_name_the_field(client: Any, world: Any, bearer: Any, session: Any) -> None:
    headers = bearer(world.eu)
    for body, field_name in (
        (case(world, channel_account_id=world.jp.id), "channel_account_id"),  # another team's store
        (case(world, channel_account_id=424242), "channel_account_id"),
        (case(world, customer={"name": "Nobody"}), "customer"),
        (case(world, message=""), "message"),
        (case(world, priority="asap"), "priority"),
        (case(world, language="not a language"), "language"),
        (case(world, sender="me"), "sender"),
    ):
        response = client.post("/api/v1/tickets", json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.json["error"]["field"] == field_name, response.json
    assert session.scalar(sa.select(sa.func.count(Ticket.id))) == 0
    # what the pipeline refused is kept for an admin, as from any channel
    assert session.scalar(sa.select(sa.func.count(QuarantinedInput.id))) == 1
    read_only = client.post("/api/v1/tickets", json=case(world), headers=bearer(world.eu, "read"))
    assert read_only.status_code == 403
    # a refusal is not the answer remembered for its Idempotency-Key: the corrected case goes through
    keyed = {**headers, "Idempotency-Key": "fix-and-retry"}
    assert client.post("/api/v1/tickets", json=case(world, language="??"), headers=keyed).status_code == 422
    assert client.post("/api/v1/tickets", json=case(world), headers=keyed).status_code == 201


# --- merge ----------------------------------------------------------------------------------------


def test_merge_and_undo(client: Any, world: Any, make_ticket: Any, bearer: Any, session: Any) -> None:
    older = make_ticket(buyer="buyer_5")
    newer = make_ticket(buyer="buyer_5")
    stranger = make_ticket(buyer="buyer_6")
    headers = bearer(world.eu)
    merged = client.post(f"/api/v1/tickets/{newer.id}/merge", json={"into": older.id}, headers=headers)
    assert merged.status_code == 200, merged.json
    assert merged.json["ticket"]["id"] == older.id and merged.json["ticket"]["message_count"] == 2
    event = session.get(AuditEvent, merged.json["merge_event_id"])
    assert (event.action, event.ticket_id, event.actor_id) == ("ticket.merged", newer.id, world.eu.id)
    again = client.post(f"/api/v1/tickets/{newer.id}/merge", json={"into": older.id}, headers=headers)
    assert again.status_code == 409
    other = client.post(f"/api/v1/tickets/{stranger.id}/merge", json={"into": older.id}, headers=headers)
    assert other.status_code == 422 and other.json["error"]["field"] == "into"
    assert "same customer" in other.json["error"]["message"]
    # undo: the asia agent may not even learn that the merge exists
    undo_url = f"/api/v1/merges/{merged.json['merge_event_id']}/undo"
    assert client.post(undo_url, headers=bearer(world.asia_agent)).status_code == 404
    assert client.post(undo_url, headers=bearer(world.eu, "read")).status_code == 403
    undone = client.post(undo_url, headers=headers)
    assert undone.status_code == 200, undone.json
    assert undone.json["source"]["id"] == newer.id and undone.json["source"]["merged_into_id"] is None
    assert undone.json["source"]["message_count"] == 1 and undone.json["target"]["message_count"] == 1
    twice = client.post(undo_url, headers=headers)
    assert twice.status_code == 409 and twice.json["error"]["message"] == "This merge was already undone."
    assert client.post("/api/v1/merges/999999/undo", headers=headers).status_code == 404


def test_merging_into_a_ticket_the_caller_cannot_see_is_refused(
    client: Any, world: Any, make_ticket: Any, bearer: Any
) -> None:
    mine = make_ticket(buyer="buyer_5")
    theirs = make_ticket("shop-jp", buyer="buyer_5")
    response = client.post(f"/api/v1/tickets/{mine.id}/merge", json={"into": theirs.id}, headers=bearer(world.eu))
    assert response.status_code == 422 and response.json["error"]["field"] == "into"
    assert response.json["error"]["message"] == f"no ticket {theirs.id} that you may see"
