"""The list's details: requester, where a ticket came from, count and position, select-all, empty bulk actions."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import OrderLineRecord, OrderRecord, Party
from helpdesk.inbox import queries
from helpdesk.ingest.pipeline import ingest
from helpdesk.orders.services import upsert_orders
from tests.conftest import T0
from tests.web import csrf_token, login

pytestmark = pytest.mark.usefixtures("compiled_translations")


def _row(html: str, ticket_id: int) -> str:
    match = re.search(rf'<tr data-ticket-id="{ticket_id}".*?</tr>', html, re.S)
    assert match, f"no row for ticket {ticket_id}"
    return match.group(0)


def _many(session: Any, make_message: Any, n: int) -> None:
    """``n`` tickets of shop-de in one ingest batch (one ticket each)."""
    batch = [
        make_message(
            external_id=f"many-{i}",
            external_thread_id=f"many-thread-{i}",
            sender=Party(platform_id=f"buyer_{i}", name=f"Buyer {i}"),
            sent_at=T0 + timedelta(minutes=i),
        )
        for i in range(n)
    ]
    ingest(session, batch, source="test")
    session.commit()


def test_requester_column_shows_name_and_platform_handle(client: Any, world: Any, make_ticket: Any) -> None:
    ticket = make_ticket(buyer="jonas_w")
    login(client, world.lead)
    html = client.get("/").get_data(as_text=True)
    assert ">Requester</th>" in html
    row = _row(html, ticket.id)
    assert '<td class="requester"><span dir="auto">Jonas W</span><span class="handle" dir="auto">jonas_w</span>' in row


def test_relayed_mail_shows_its_marketplace_and_the_mailbox(
    client: Any, session: Any, world: Any, make_account: Any, make_message: Any, make_ticket: Any
) -> None:
    make_account(name="support-mail", display_name="support@shop.example", kind="email", platform=None)
    relayed = make_message(
        channel="email",
        account="support-mail",
        platform="amazon",
        external_id="<relay-1@marketplace.amazon.de>",
        sender=Party(email="k8x2@marketplace.amazon.de", name="Katrin"),
    )
    plain = make_message(
        channel="email",
        account="support-mail",
        external_id="<plain-1@example.org>",
        sender=Party(email="a@example.org"),
    )
    ingest(session, [relayed, plain], source="test")
    session.commit()
    native = make_ticket()  # an eBay message from the eBay account: no "via"
    login(client, world.lead)
    html = client.get("/?sort=newest").get_data(as_text=True)
    assert '<td class="source">eBay</td>' in _row(html, native.id)
    ids = [int(i) for i in re.findall(r'<tr data-ticket-id="(\d+)"', html)]
    texts = {i: _row(html, i) for i in ids}
    relay_row = next(r for r in texts.values() if "Katrin" in r)
    assert '<td class="source">Amazon<span class="via">via support@shop.example</span></td>' in relay_row
    plain_row = next(r for r in texts.values() if "a@example.org" in r)
    assert '<td class="source"><span class="via">support@shop.example</span></td>' in plain_row


def test_count_and_position_of_each_page(client: Any, session: Any, world: Any, make_message: Any) -> None:
    _many(session, make_message, 55)
    login(client, world.lead)
    first = client.get("/").get_data(as_text=True)
    assert "1–50 of <span data-total>55</span>" in first
    next_url = re.search(r'<a class="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "p=2" in next_url
    second = client.get(next_url).get_data(as_text=True)
    assert "51–55 of <span data-total>55</span>" in second
    assert 'data-filtered="0"' in second  # unfiltered: the page's script shows the view's own count


def test_a_large_filtered_list_says_how_many_up_to_a_cap(
    client: Any, session: Any, world: Any, make_message: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(queries, "COUNT_CAP", 20)
    _many(session, make_message, 55)
    login(client, world.lead)
    html = client.get("/?platform=ebay").get_data(as_text=True)
    assert "1–50 of <span data-total>50+</span>" in html and 'data-filtered="1"' in html


def test_position_arithmetic_and_the_chinese_wording(client: Any, world: Any, make_user: Any, make_ticket: Any) -> None:
    rows: Any = [object()] * 50
    page = queries.Page(tickets=rows, next_cursor=None, sort="sla", view="open", number=21, total=1000, capped=True)
    assert (page.first, page.last, page.shown_total) == (1001, 1050, 1050)
    make_ticket()
    user = make_user("cn@example.test", name="王芳", locale="zh_Hans", role="lead")
    login(client, user)
    html = client.get("/").get_data(as_text=True)
    assert "全选本页" in html and "第 1–1 条，共 <span data-total>1</span> 条" in html


def test_search_finds_tickets_by_tracking_number_and_sku(
    client: Any, session: Any, world: Any, make_ticket: Any
) -> None:
    def order(number: str, sku: str, tracking: str | None) -> OrderRecord:
        return OrderRecord(
            platform="ebay",
            account="shop-de",
            order_number=number,
            status="SHIPPED",
            currency="EUR",
            total=Decimal("20.00"),
            updated_at=T0,
            buyer=Party(platform_id=f"buyer-{number}"),
            lines=(OrderLineRecord(title="Lamp", quantity=1, unit_price=Decimal("20.00"), sku=sku),),
            tracking_number=tracking,
        )

    upsert_orders(session, [order("27-1", "LAMP-BRASS", "1Z999AA10123456784"), order("27-2", "KETTLE-9", None)])
    session.commit()
    lamp = make_ticket(buyer="buyer-27-1", order_refs=("27-1",))
    kettle = make_ticket(buyer="buyer-27-2", order_refs=("27-2",))
    make_ticket(buyer="someone", body_text="unrelated")
    login(client, world.lead)

    def found(q: str) -> set[int]:
        html = client.get("/", query_string={"q": q}).get_data(as_text=True)
        return {int(i) for i in re.findall(r'<tr data-ticket-id="(\d+)"', html)}

    assert found("1Z999AA10123456784") == {lamp.id}
    assert found("1z 999 aa1 01 2345 6784") == {lamp.id}  # as printed on a label, typed lower-case
    assert found("KETTLE-9") == {kettle.id}
    assert found("kettle-9") == {kettle.id}


def test_tracking_and_sku_searches_use_an_index(session: Any) -> None:
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        pytest.skip("the plan is read from SQLite; PostgreSQL chooses by statistics")
    plans = [
        " ".join(str(r[-1]) for r in session.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}")))
        for sql in (
            "SELECT id FROM order_record WHERE tracking_number IN ('A', 'B')",
            "SELECT order_id FROM order_line WHERE sku IN ('A', 'B')",
        )
    ]
    assert "ix_order_record_tracking" in plans[0] and "ix_order_line_sku" in plans[1]


def test_bulk_action_with_nothing_selected_says_what_to_do(client: Any, world: Any, make_ticket: Any) -> None:
    ticket = make_ticket()
    login(client, world.eu)
    html = client.get("/").get_data(as_text=True)
    assert 'id="select-all"' in html and 'id="bulk-hint"' in html
    token = csrf_token(client, "/")
    response = client.post(
        "/inbox/bulk", data={"csrf_token": token, "action": "status", "value_status": "solved", "back": "/?view=open"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/?view=open"
    page = client.get("/?view=open").get_data(as_text=True)
    assert "No tickets were selected. Tick the tickets to change" in page
    assert "tickets updated" not in page
    assert f'data-ticket-id="{ticket.id}"' in page  # nothing was solved
