"""The ticket page and its actions: permissions (404, never 403), conversation, sidebars, changes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import OrderLineRecord, OrderRecord, Party
from helpdesk import events
from helpdesk.orders.services import upsert_orders
from helpdesk.tickets.models import Attachment, AttachmentBlob, Message, Ticket
from tests.web import csrf_token, login, post


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/tickets/{id}"),
        ("get", "/tickets/{id}/messages/{mid}"),
        ("get", "/tickets/{id}/live"),
        ("post", "/tickets/{id}/reply"),
        ("post", "/tickets/{id}/assign"),
        ("post", "/tickets/{id}/status"),
        ("post", "/tickets/{id}/priority"),
        ("post", "/tickets/{id}/tags"),
        ("post", "/tickets/{id}/merge"),
    ],
)
def test_agent_gets_404_for_another_teams_ticket(
    client: Any, session: Any, world: Any, make_ticket: Any, method: str, path: str
) -> None:
    foreign = make_ticket("shop-jp")
    mid = session.scalar(sa.select(Message.id).where(Message.ticket_id == foreign.id))
    login(client, world.eu)
    url = path.format(id=foreign.id, mid=mid)
    if method == "get":
        response = client.get(url)
    else:
        response = post(client, url, {"body": "hi", "status": "solved", "into": foreign.id})
    assert response.status_code == 404
    assert client.get("/tickets/999999").status_code == 404  # same answer as for a ticket that does not exist
    session.expire_all()
    assert foreign.status == "new"


def test_page_shows_conversation_customer_card_and_order(
    client: Any, session: Any, world: Any, make_ticket: Any
) -> None:
    upsert_orders(
        session,
        [
            OrderRecord(
                platform="ebay",
                account="shop-de",
                order_number="11-22222-33333",
                status="Shipped",
                currency="EUR",
                total=Decimal("1234.50"),
                buyer=Party(platform_id="buyer_1"),
                lines=(OrderLineRecord(title="Desk lamp LED", quantity=2, unit_price=Decimal("617.25")),),
                carrier="DHL",
                tracking_number="TRK123",
            )
        ],
    )
    session.commit()
    ticket = make_ticket(body_text="Where is order 11-22222-33333?", order_refs=("11-22222-33333",))
    other = make_ticket()  # same buyer: listed on the customer card
    login(client, world.eu)
    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Where is order 11-22222-33333?" in html
    assert "Desk lamp LED" in html and "TRK123" in html and "DHL" in html
    assert "€1,234.50" in html  # Babel, in the agent's locale and the order's currency
    assert f"#{other.id}" in html
    assert 'id="macro-picker"' in html  # the composer searches macros
    assert "ebay" in html  # identity scheme on the customer card


def test_an_arabic_message_reads_right_to_left(client: Any, world: Any, make_ticket: Any) -> None:
    ticket = make_ticket(body_text="أين طلبي؟ لم يصل بعد.")
    login(client, world.eu)
    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    # dir="auto": the browser takes each message's direction from its own first strong letter
    assert 'dir="auto">أين طلبي؟ لم يصل بعد.</div>' in html


def test_customer_card_hides_tickets_from_stores_the_agent_cannot_see(
    client: Any, world: Any, make_ticket: Any
) -> None:
    ticket = make_ticket(buyer="shared_buyer")
    foreign = make_ticket("shop-jp", buyer="shared_buyer", subject="Hidden subject")
    login(client, world.eu)
    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert f"#{foreign.id}" not in html
    assert "Hidden subject" not in html


def test_buyer_html_is_sanitised_and_quoted_history_collapsed(
    client: Any, session: Any, world: Any, make_ticket: Any
) -> None:
    ticket = make_ticket(body_text="Hello\n> old quote", body_html="<p>Hi</p>")
    msg = session.scalar(sa.select(Message).where(Message.ticket_id == ticket.id))
    msg.body_html = '<p>Hi</p><script>alert(1)</script><img src=x onerror="alert(2)">'  # stored as received
    msg.stripped_text = "Hello"
    session.commit()
    login(client, world.eu)
    response = client.get(f"/tickets/{ticket.id}")
    html = response.get_data(as_text=True)
    assert "<script>alert(1)" not in html and "onerror" not in html
    assert "Quoted history" in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_actions_change_the_ticket_and_publish_events(client: Any, session: Any, world: Any, make_ticket: Any) -> None:
    ticket = make_ticket()
    heard: list[tuple[str, dict[str, Any]]] = []

    def listener(name: str, payload: Any) -> None:
        heard.append((name, dict(payload)))

    events.listen("ticket.updated")(listener)
    try:
        login(client, world.eu)
        page = f"/tickets/{ticket.id}"
        post(client, f"{page}/assign", {"assignee": "me"}, page)
        post(client, f"{page}/status", {"status": "pending"}, page)
        post(client, f"{page}/priority", {"priority": "high"}, page)
        post(client, f"{page}/tags", {"tags": "Refund, vip , refund"}, page)
        bad = post(client, f"{page}/status", {"status": "exploded"}, page)
    finally:
        events.unlisten(listener)
    assert bad.status_code == 302
    session.expire_all()
    assert ticket.assignee_id == world.eu.id
    assert (ticket.status, ticket.priority, ticket.tag_names) == ("pending", "high", ["refund", "vip"])
    changes = [p["changes"] for name, p in heard]
    assert changes == [
        {"assignee_id": world.eu.id},
        {"status": "pending"},
        {"priority": "high"},
        {"tags": ["refund", "vip"]},
    ]


def test_merge_with_another_ticket_of_the_same_customer(
    client: Any, session: Any, world: Any, make_ticket: Any
) -> None:
    first, second = make_ticket(buyer="anna"), make_ticket(buyer="anna")
    stranger = make_ticket(buyer="bob")
    login(client, world.eu)
    page = f"/tickets/{second.id}"
    assert f'value="{first.id}"' in client.get(page).get_data(as_text=True)
    response = post(client, f"{page}/merge", {"into": first.id, "confirmed": "1"}, page)
    assert response.headers["Location"].endswith(f"/tickets/{first.id}")
    refused = post(client, f"/tickets/{stranger.id}/merge", {"into": first.id, "confirmed": "1"}, page)
    assert refused.headers["Location"].endswith(f"/tickets/{stranger.id}")
    session.expire_all()
    assert second.merged_into_id == first.id and second.status == "closed"
    assert stranger.merged_into_id is None
    assert session.scalar(sa.select(sa.func.count(Message.id)).where(Message.ticket_id == first.id)) == 2


def test_post_without_csrf_token_is_refused(client: Any, session: Any, world: Any, make_ticket: Any) -> None:
    ticket = make_ticket()
    login(client, world.eu)
    assert client.post(f"/tickets/{ticket.id}/reply", data={"body": "hi"}).status_code == 400
    assert client.post(f"/tickets/{ticket.id}/status", data={"status": "solved"}).status_code == 400
    session.expire_all()
    assert ticket.message_count == 1 and ticket.status == "new"


def test_attachments_download_with_safe_headers(client: Any, session: Any, world: Any, make_ticket: Any) -> None:
    ticket = make_ticket()
    msg = session.scalar(sa.select(Message).where(Message.ticket_id == ticket.id))
    session.add(AttachmentBlob(sha256="a" * 64, size=5, data=b"<svg>"))
    session.flush()
    att = Attachment(message_id=msg.id, sha256="a" * 64, filename="evil.svg", content_type="image/svg+xml", size=5)
    session.add(att)
    session.commit()
    login(client, world.eu)
    response = client.get(f"/tickets/attachments/{att.id}")
    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    login(client, world.asia_agent)
    assert client.get(f"/tickets/attachments/{att.id}").status_code == 404


def test_live_message_fragment(client: Any, session: Any, world: Any, make_ticket: Any) -> None:
    ticket = make_ticket(body_text="fragment text")
    other = make_ticket()
    mid = session.scalar(sa.select(Message.id).where(Message.ticket_id == ticket.id))
    login(client, world.eu)
    assert "fragment text" in client.get(f"/tickets/{ticket.id}/messages/{mid}").get_data(as_text=True)
    assert client.get(f"/tickets/{other.id}/messages/{mid}").status_code == 404
    csrf_token(client, "/")
    assert session.get(Ticket, ticket.id) is not None


def test_customer_notes_are_saved_from_the_card(client: Any, session: Any, world: Any, make_ticket: Any) -> None:
    ticket = make_ticket(buyer="noted")
    foreign = make_ticket("shop-jp", buyer="stranger")
    login(client, world.eu)
    page = f"/tickets/{ticket.id}"
    response = post(client, f"/customers/{ticket.customer_id}/notes", {"notes": " Prefers e-mail ", "back": page}, page)
    assert response.headers["Location"].endswith(page)
    assert "Prefers e-mail" in client.get(page).get_data(as_text=True)
    # a customer the agent has no ticket of is invisible, like their tickets
    assert post(client, f"/customers/{foreign.customer_id}/notes", {"notes": "x"}, page).status_code == 404
    assert client.post(f"/customers/{ticket.customer_id}/notes", data={"notes": "no token"}).status_code == 400
