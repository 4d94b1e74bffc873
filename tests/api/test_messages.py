"""``/api/v1/tickets/{id}/messages``, ``…/notes`` and ``/api/v1/attachments/{id}``: the composer's rules, by token."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from helpdesk import events
from helpdesk.audit.models import AuditEvent
from helpdesk.macros.models import PolicyOverride
from helpdesk.notifications.models import Notification
from helpdesk.tickets.models import Attachment, Message, Ticket
from helpdesk.tickets.services import add_reply
from tests.email_channel.conftest import Recorder, smtp_server
from tests.tickets.test_attachments import PDF, email_ticket

__all__ = ["email_ticket", "smtp_server"]


def messages_of(session: Any, ticket: Any) -> list[Message]:
    session.expire_all()
    return list(session.scalars(sa.select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id)))


def multipart(client: Any, path: str, headers: dict[str, str], fields: dict[str, Any], uploads: list[Any]) -> Any:
    data = {**fields, "files": [(io.BytesIO(content), name, kind) for content, name, kind in uploads]}
    return client.post(path, data=data, headers=headers, content_type="multipart/form-data")


def test_the_conversation_is_listed_oldest_first_and_paged(
    client: Any, session: Any, world: Any, make_ticket: Any, bearer: Any
) -> None:
    ticket = make_ticket(body_html="<p>Where is <b>my</b> lamp?</p><script>alert(1)</script>")
    note = add_reply(session, ticket, world.eu, "Checking with the warehouse.", internal=True)
    reply = add_reply(session, ticket, world.eu, "It ships today.")
    session.commit()
    headers = bearer(world.eu, "read")

    first = client.get(f"/api/v1/tickets/{ticket.id}/messages?limit=2", headers=headers)

    assert first.status_code == 200
    page = first.json
    assert [m["id"] for m in page["messages"]] == sorted(m["id"] for m in page["messages"])
    incoming, noted = page["messages"]
    assert page["next_after"] == noted["id"] == note.id
    assert (incoming["direction"], incoming["internal"], incoming["author"]["kind"]) == ("in", False, "customer")
    assert incoming["author"]["customer_id"] == ticket.customer_id and incoming["delivery_state"] == "received"
    assert "<b>my</b>" in incoming["body_html"] and "script" not in incoming["body_html"]
    assert datetime.fromisoformat(incoming["sent_at"]).utcoffset() is not None  # ISO 8601 with an offset
    assert (noted["internal"], noted["author"], noted["delivery_state"]) == (
        True,
        {"kind": "user", "user_id": world.eu.id, "customer_id": None, "name": "Emil"},
        "received",
    )
    rest = client.get(f"/api/v1/tickets/{ticket.id}/messages?limit=2&after={page['next_after']}", headers=headers).json
    assert [m["id"] for m in rest["messages"]] == [reply.id] and rest["next_after"] is None
    assert rest["messages"][0]["delivery_state"] == "queued" and rest["messages"][0]["direction"] == "out"

    refused = client.get(f"/api/v1/tickets/{ticket.id}/messages?limit=501", headers=headers)
    assert refused.status_code == 400 and refused.json["error"]["field"] == "limit"


def test_another_teams_ticket_and_its_files_are_not_found(
    client: Any, session: Any, world: Any, make_ticket: Any, bearer: Any
) -> None:
    ticket = make_ticket()  # shop-de: team Europe; Aiko of team Asia may not see it
    note = add_reply(session, ticket, world.eu, "Photo of the box", internal=True)
    session.flush()
    from helpdesk.tickets.attachments import attach, upload

    [item] = attach(session, note, [upload("box.png", "image/png", b"\x89PNG\r\n\x1a\nfake")])
    session.commit()
    asia = bearer(world.asia_agent)

    for response in (
        client.get(f"/api/v1/tickets/{ticket.id}/messages", headers=asia),
        client.get(f"/api/v1/tickets/{ticket.id}/messages/{note.id}", headers=asia),
        client.get(f"/api/v1/attachments/{item.id}", headers=asia),
        client.post(f"/api/v1/tickets/{ticket.id}/messages", json={"body": "hi"}, headers=asia),
        client.post(f"/api/v1/tickets/{ticket.id}/notes", json={"body": "hi"}, headers=asia),
        client.get(f"/api/v1/attachments/{item.id + 1000}", headers=bearer(world.lead)),
        client.get(f"/api/v1/tickets/{ticket.id + 1000}/messages", headers=bearer(world.lead)),
    ):
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"
    assert len(messages_of(session, ticket)) == 2  # nothing was added by Aiko
    other = make_ticket()
    assert client.get(f"/api/v1/tickets/{other.id}/messages/{note.id}", headers=bearer(world.eu)).status_code == 404

    download = client.get(f"/api/v1/attachments/{item.id}", headers=bearer(world.eu, "read"))
    assert download.status_code == 200 and download.data == b"\x89PNG\r\n\x1a\nfake"
    assert download.headers["Content-Type"] == "image/png"
    assert download.headers["Content-Disposition"] == 'inline; filename="box.png"'
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert client.get(f"/api/v1/attachments/{item.id}").status_code == 401


def test_a_reply_is_accepted_queued_and_delivered_over_smtp(
    client: Any, session: Any, world: Any, email_ticket: Any, smtp_server: Any, bearer: Any
) -> None:
    recorder: Recorder = smtp_server[1]
    ticket = email_ticket()
    heard: list[tuple[str, Any]] = []

    def listener(name: str, payload: Any) -> None:
        heard.append((name, payload.get("state")))

    events.listen("message.created", "message.delivery")(listener)
    try:
        response = client.post(
            f"/api/v1/tickets/{ticket.id}/messages",
            json={"body": "Here is your invoice, Jonas.", "status": "solved"},
            headers=bearer(world.lead),
        )
    finally:
        events.unlisten(listener)

    assert response.status_code == 202, response.json
    accepted = response.json
    assert (accepted["delivery_state"], accepted["direction"], accepted["internal"]) == ("queued", "out", False)
    assert accepted["author"] == {"kind": "user", "user_id": world.lead.id, "customer_id": None, "name": "Lena"}
    polled = client.get(f"/api/v1/tickets/{ticket.id}/messages/{accepted['id']}", headers=bearer(world.lead, "read"))
    assert polled.json["delivery_state"] == "sent" and polled.json["delivery_error"] is None
    assert polled.json["external_id"]  # the Message-ID the mail went out with
    (mail,) = recorder.received
    assert mail["To"].addresses[0].addr_spec == "jonas@example.test"
    assert "Here is your invoice, Jonas." in mail.get_body(("plain",)).get_content()
    assert heard == [("message.created", None), ("message.delivery", "sending"), ("message.delivery", "sent")]
    session.expire_all()
    assert session.get(Ticket, ticket.id).status == "solved"  # the composer's "then set solved"
    actions = session.scalars(sa.select(AuditEvent.action).where(AuditEvent.ticket_id == ticket.id))
    assert "reply.queued" in list(actions)


def test_a_reply_with_files_goes_out_as_mime_parts(
    client: Any, session: Any, world: Any, email_ticket: Any, smtp_server: Any, bearer: Any
) -> None:
    recorder: Recorder = smtp_server[1]
    ticket = email_ticket()

    response = multipart(
        client,
        f"/api/v1/tickets/{ticket.id}/messages",
        bearer(world.lead),
        {"body": "Invoice attached."},
        [(PDF, "invoice-1042.pdf", "application/pdf")],
    )

    assert response.status_code == 202, response.json
    [attachment] = response.json["attachments"]
    assert (attachment["filename"], attachment["content_type"], attachment["size"]) == (
        "invoice-1042.pdf",
        "application/pdf",
        len(PDF),
    )
    assert attachment["url"].endswith(f"/api/v1/attachments/{attachment['id']}")
    (mail,) = recorder.received
    assert [(p.get_filename(), p.get_content()) for p in mail.iter_attachments()] == [("invoice-1042.pdf", PDF)]
    download = client.get(attachment["url"], headers=bearer(world.lead, "read"))
    assert download.data == PDF and download.headers["Content-Disposition"] == 'attachment; filename="invoice-1042.pdf"'


def test_files_over_the_channels_limit_are_413_naming_the_file(
    client: Any, session: Any, world: Any, email_ticket: Any, bearer: Any, make_ticket: Any
) -> None:
    ticket = email_ticket(smtp_max_message_bytes=256 * 1024 + 4000)  # 3 kB of files once base64'd
    uploads = [(b"a" * 1000, "a.txt", "text/plain"), (b"b" * 3000, "big.txt", "text/plain")]

    response = multipart(client, f"/api/v1/tickets/{ticket.id}/messages", bearer(world.lead), {"body": "x"}, uploads)

    assert response.status_code == 413
    error = response.json["error"]
    assert (error["code"], error["field"]) == ("too_large", "files")
    assert "This channel takes at most 3.0 kB of files per reply; yours come to 4.0 kB." in error["message"]
    assert "big.txt" in error["message"]
    assert session.scalar(sa.select(sa.func.count(Attachment.id))) == 0
    assert [m.direction for m in messages_of(session, ticket)] == ["in"]

    ebay = make_ticket()  # the marketplace takes no files at all: 422, with the way out
    refused = multipart(client, f"/api/v1/tickets/{ebay.id}/messages", bearer(world.eu), {"body": "x"}, uploads[:1])
    assert refused.status_code == 422 and refused.json["error"]["code"] == "files_refused"
    assert "attach them to an internal note" in refused.json["error"]["message"]


def test_a_reply_breaking_the_marketplaces_rules_is_refused_listing_them(
    client: Any, session: Any, world: Any, make_ticket: Any, bearer: Any
) -> None:
    ticket = make_ticket()  # an eBay store: no contact details, no links
    body = "Write to me at jonas@example.com instead."

    response = client.post(f"/api/v1/tickets/{ticket.id}/messages", json={"body": body}, headers=bearer(world.eu))

    assert response.status_code == 422
    error = response.json["error"]
    assert (error["code"], error["field"]) == ("policy_violation", "body")
    assert [(v["code"], v["detail"]) for v in error["violations"]] == [("email_address", "jonas@example.com")]
    assert "Remove the e-mail address jonas@example.com" in error["message"]
    assert body[error["violations"][0]["start"] : error["violations"][0]["end"]] == "jonas@example.com"
    assert [m.direction for m in messages_of(session, ticket)] == ["in"]  # nothing queued

    # an agent's override is ignored, as in the composer; a lead's goes out and is kept with the reason
    override = {"body": body, "policy_override": "buyer asked for it"}
    agent = client.post(f"/api/v1/tickets/{ticket.id}/messages", json=override, headers=bearer(world.eu))
    assert agent.status_code == 422
    lead = client.post(f"/api/v1/tickets/{ticket.id}/messages", json=override, headers=bearer(world.lead))
    assert lead.status_code == 202
    kept = session.scalars(sa.select(PolicyOverride)).one()
    assert (kept.message_id, kept.rules, kept.reason) == (lead.json["id"], ["email_address"], "buyer asked for it")


def test_a_channel_that_cannot_send_replies_points_to_notes(
    client: Any, session: Any, world: Any, make_ticket: Any, bearer: Any
) -> None:
    world.de.kind = "webhook"  # a signed webhook brings tickets in and sends nothing back
    ticket = make_ticket()

    response = client.post(f"/api/v1/tickets/{ticket.id}/messages", json={"body": "hi"}, headers=bearer(world.eu))

    assert response.status_code == 409
    assert response.json["error"]["code"] == "cannot_reply"
    assert f"/api/v1/tickets/{ticket.id}/notes" in response.json["error"]["message"]
    noted = client.post(f"/api/v1/tickets/{ticket.id}/notes", json={"body": "hi"}, headers=bearer(world.eu))
    assert noted.status_code == 201


def test_a_note_with_a_mention_notifies_the_colleague_and_keeps_its_files(
    client: Any, session: Any, world: Any, make_ticket: Any, bearer: Any
) -> None:
    ticket = make_ticket()
    fields = {"body": "@Lena can we refund? @Aiko too", "mentions": [str(world.lead.id), str(world.asia_agent.id)]}

    response = multipart(
        client, f"/api/v1/tickets/{ticket.id}/notes", bearer(world.eu), fields, [(PDF, "label.pdf", "text/html")]
    )

    assert response.status_code == 201, response.json
    note = response.json
    assert (note["internal"], note["delivery_state"], note["direction"]) == (True, "received", "out")
    assert [(a["filename"], a["content_type"]) for a in note["attachments"]] == [("label.pdf", "application/pdf")]
    session.expire_all()
    notified = session.scalars(sa.select(Notification.user_id).where(Notification.ticket_id == ticket.id))
    assert list(notified) == [world.lead.id]  # not Aiko: she may not see the ticket

    as_json = client.post(
        f"/api/v1/tickets/{ticket.id}/notes", json={"body": "@Lena once more", "mentions": [world.lead.id]},
        headers=bearer(world.eu),
    )  # fmt: skip
    assert as_json.status_code == 201
    assert [m.is_internal for m in messages_of(session, ticket)] == [False, True, True]


def test_a_mention_id_beyond_64_bits_is_refused_not_a_crash(
    client: Any, session: Any, world: Any, make_ticket: Any, bearer: Any
) -> None:
    ticket = make_ticket()
    path = f"/api/v1/tickets/{ticket.id}/notes"
    as_json = client.post(path, json={"body": "hi", "mentions": [world.lead.id, 2**64]}, headers=bearer(world.eu))
    assert (as_json.status_code, as_json.json["error"]["field"]) == (422, "mentions.1")
    fields = {"body": "hi", "mentions": [str(-(2**63) - 1)]}
    as_form = multipart(client, path, bearer(world.eu), fields, [])
    assert (as_form.status_code, as_form.json["error"]["field"]) == (422, "mentions.0")
    assert len(messages_of(session, ticket)) == 1


def test_refusals_name_the_field_and_change_nothing(
    client: Any, session: Any, world: Any, make_ticket: Any, bearer: Any
) -> None:
    ticket = make_ticket()
    path = f"/api/v1/tickets/{ticket.id}/messages"
    first_id = messages_of(session, ticket)[0].id
    add_reply(session, ticket, world.lead, "Lena answered meanwhile.")
    session.commit()

    unknown = client.post(path, json={"text": "hi"}, headers=bearer(world.eu))
    assert unknown.status_code == 422 and unknown.json["error"]["field"] == "text"
    status = client.post(path, json={"body": "hi", "status": "closed"}, headers=bearer(world.eu))
    assert status.status_code == 422 and status.json["error"]["field"] == "status"
    empty = client.post(path, json={"body": "  "}, headers=bearer(world.eu))
    assert (empty.status_code, empty.json["error"]["code"], empty.json["error"]["field"]) == (422, "invalid", "body")
    read_only = client.post(path, json={"body": "hi"}, headers=bearer(world.eu, "read"))
    assert read_only.status_code == 403 and read_only.json["error"]["code"] == "insufficient_scope"
    note = client.post(f"/api/v1/tickets/{ticket.id}/notes", json={"body": "hi"}, headers=bearer(world.eu, "read"))
    assert note.status_code == 403
    collision = client.post(path, json={"body": "My draft", "seen_message_id": first_id}, headers=bearer(world.eu))
    assert collision.status_code == 409
    assert (collision.json["error"]["code"], collision.json["error"]["field"]) == ("collision", "seen_message_id")
    assert len(messages_of(session, ticket)) == 2
    forced = client.post(
        path, json={"body": "My draft", "seen_message_id": first_id, "force": True}, headers=bearer(world.eu)
    )
    assert forced.status_code == 202
    assert len(messages_of(session, ticket)) == 3
