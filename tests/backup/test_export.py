"""``helpdesk export``: every customer, order, ticket and message as JSON lines, streamed a chunk at a time."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import Party
from tests.backup.conftest import LARGE, SMALL, run
from tests.conftest import T0


def read_lines(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        return [json.loads(line) for line in fh]


@pytest.fixture
def more_tickets(one_ticket: dict[str, Any], session: Any, make_message: Any) -> None:
    """Four more tickets from other buyers, one of them in Japanese with an internal tag."""
    from helpdesk.ingest.pipeline import ingest
    from helpdesk.tickets.models import Ticket, TicketTag

    messages = [
        make_message(
            account="backup-shop",
            external_id=f"more-{n}",
            sender=Party(platform_id=f"buyer_{n}", name=f"Buyer {n}"),
            subject=f"Frage {n}" if n else "配送について",
            body_text="荷物はいつ届きますか？" if n == 0 else f"Frage Nummer {n}",
        )
        for n in range(4)
    ]
    ingest(session, messages, source="test")
    ticket = session.scalar(sa.select(Ticket).where(Ticket.subject == "配送について"))
    session.add(TicketTag(ticket_id=ticket.id, tag="vip"))
    session.commit()


def test_export_folder_has_every_record_with_its_content(
    app: Any, session: Any, more_tickets: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpdesk.backup import export
    from helpdesk.customers.models import Customer
    from helpdesk.orders.models import Order
    from helpdesk.tickets.models import Message, Ticket

    monkeypatch.setattr(export, "CHUNK", 2)  # several chunks per table: the keyset must neither skip nor repeat
    out = tmp_path / "export"
    result = run(app, "export", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "customers.jsonl",
        "messages.jsonl",
        "orders.jsonl",
        "tickets.jsonl",
    ]
    records = {kind: read_lines(out / f"{kind}s.jsonl") for kind in ("customer", "order", "ticket", "message")}
    for kind, model in (("customer", Customer), ("order", Order), ("ticket", Ticket), ("message", Message)):
        ids = [r["id"] for r in records[kind]]
        assert ids == sorted(session.scalars(sa.select(model.id))), kind
        assert {r["kind"] for r in records[kind]} == {kind}
    assert len(records["ticket"]) == 5
    assert f"{len(records['message'])} messages" in result.output

    [ticket] = [t for t in records["ticket"] if t["subject"] == "Lampe kaputt"]
    assert ticket["channel_account"] == "backup-shop"
    assert ticket["order_number"] == "12-34567-89012"
    assert ticket["created_at"].endswith("Z")
    [order] = [o for o in records["order"] if o["id"] == ticket["order_id"]]
    assert order["total"] == "59.90" and order["currency"] == "EUR"
    assert order["placed_at"] == (T0 - timedelta(days=3)).isoformat().replace("+00:00", "Z")
    assert [(line["title"], line["quantity"], line["unit_price"]) for line in order["lines"]] == [("Lamp", 2, "29.95")]
    [customer] = [c for c in records["customer"] if c["id"] == ticket["customer_id"]]
    assert customer["display_name"] == "Jonas Weber"
    assert {(i["scheme"], i["value"]) for i in customer["identities"]} >= {("email", "jonas@example.test")}

    [message] = [m for m in records["message"] if m["ticket_id"] == ticket["id"]]
    assert message["body_text"].startswith("Die Lampe ist kaputt")
    assert message["direction"] == "in"
    by_name = {a["filename"]: a for a in message["attachments"]}
    large, small = by_name["photo.bin"], by_name["invoice.pdf"]
    assert large["sha256"] == hashlib.sha256(LARGE).hexdigest() and large["size"] == len(LARGE)
    instance = app.config["HELPDESK_SETTINGS"].instance_path
    assert (instance / large["path"]).read_bytes() == LARGE  # the path names the file under the instance folder
    assert small["sha256"] == hashlib.sha256(SMALL).hexdigest() and small["path"] is None  # kept in the database

    [japanese] = [t for t in records["ticket"] if t["subject"] == "配送について"]
    assert japanese["tags"] == ["vip"]
    assert "荷物はいつ届きますか？" in (out / "messages.jsonl").read_text(encoding="utf-8")  # UTF-8, not \\u escapes


def test_export_to_one_file_holds_the_same_records_in_kind_order(app: Any, more_tickets: None, tmp_path: Path) -> None:
    folder, single = tmp_path / "folder", tmp_path / "all.jsonl.gz"
    assert run(app, "export", "--output", str(folder)).exit_code == 0
    result = run(app, "export", "--output", str(single))
    assert result.exit_code == 0, result.output
    joined = [r for kind in ("customer", "order", "ticket", "message") for r in read_lines(folder / f"{kind}s.jsonl")]
    assert read_lines(single) == joined


def test_export_never_overwrites(app: Any, one_ticket: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "export"
    assert run(app, "export", "--output", str(out)).exit_code == 0
    before = (out / "tickets.jsonl").read_bytes()
    again = run(app, "export", "--output", str(out))
    assert again.exit_code != 0 and "already exists" in again.output
    assert (out / "tickets.jsonl").read_bytes() == before
