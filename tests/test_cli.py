"""The CLI an admin uses: init, demo, ingest, users, quarantine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from helpdesk.accounts.models import User
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.customers.models import Customer
from helpdesk.ingest.models import QuarantinedInput
from helpdesk.orders.models import Order
from helpdesk.tickets.models import Message, Ticket


def run(app: Any, *args: str, env: dict[str, str] | None = None) -> Any:
    return app.test_cli_runner().invoke(args=["helpdesk", *args], env=env)


def test_init_is_idempotent(app: Any) -> None:
    first = run(app, "init")
    assert first.exit_code == 0, first.output
    assert "Database ready" in first.output
    assert run(app, "init").exit_code == 0


def test_demo_loads_a_believable_helpdesk_once(app: Any, session: Any) -> None:
    result = run(app, "demo")
    assert result.exit_code == 0, result.output
    assert "lead@demo.example" in result.output and "helpdesk-demo" in result.output
    tickets = session.scalar(sa.select(sa.func.count(Ticket.id)))
    customers = session.scalar(sa.select(sa.func.count(Customer.id)))
    assert 1800 <= tickets <= 2300  # 60 days of history
    assert 500 <= customers <= 650
    platforms = set(session.scalars(sa.select(Ticket.platform).distinct()))
    assert {"amazon", "ebay", "shopify"} <= platforms
    kinds = set(session.scalars(sa.select(ChannelAccount.kind).distinct()))
    assert kinds == {"email", "ebay", "amazon", "shopify"}  # every demo store is an account of a real connector
    languages = set(session.scalars(sa.select(Ticket.language).distinct()))
    assert {"de", "en", "ja", "es", "ar"} <= languages
    assert session.scalar(sa.select(sa.func.count(Order.id))) > 1000
    assert session.scalar(sa.select(sa.func.count(Ticket.id)).where(Ticket.order_id.is_not(None))) > 1000
    statuses = set(session.scalars(sa.select(Ticket.status).distinct()))
    assert {"new", "open", "pending", "solved"} <= statuses
    again = run(app, "demo")
    assert "already present" in again.output
    assert session.scalar(sa.select(sa.func.count(Ticket.id))) == tickets


def test_ingest_file_imports_and_quarantines(app: Any, session: Any, tmp_path: Path, make_account: Any) -> None:
    make_account()
    good = {
        "channel": "ebay",
        "account": "shop-de",
        "external_id": "1",
        "sent_at": "2026-01-05T09:00:00+01:00",
        "sender": {"platform_id": "b1"},
        "body_text": "Hallo",
        "order_refs": ["27-13905-66214"],
    }
    lines = [
        json.dumps(good),
        "not json at all",
        json.dumps({**good, "external_id": "2"}),
        "",
        json.dumps({**good, "external_id": "3", "sent_at": "2026-01-05"}),
    ]
    path = tmp_path / "messages.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = run(app, "ingest", str(path), "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert "2 ingested, 0 duplicates, 2 quarantined" in result.output
    assert "quarantine list" in result.output
    assert "0 ingested, 2 duplicates, 2 quarantined" in run(app, "ingest", str(path)).output
    assert session.scalar(sa.select(sa.func.count(Message.id))) == 2
    listing = run(app, "quarantine", "list", "--json")
    entries = [json.loads(line) for line in listing.output.splitlines()]
    assert {e["source"] for e in entries} == {"import:messages.jsonl"}
    assert len(entries) == 2  # two bad lines, imported twice: each kept once, seen twice
    assert [e["seen"] for e in entries] == [2, 2]
    assert any(e["field"] == "sent_at" and "no UTC offset" in e["reason"] for e in entries)


def test_quarantine_retry_needs_a_selection(app: Any) -> None:
    result = run(app, "quarantine", "retry")
    assert result.exit_code != 0
    assert "--all" in result.output


def test_quarantine_retry_replays_after_fix(app: Any, session: Any, tmp_path: Path, make_account: Any) -> None:
    msg = {
        "channel": "ebay",
        "account": "later",
        "external_id": "1",
        "sent_at": "2026-01-05T09:00:00Z",
        "sender": {"platform_id": "b1"},
        "body_text": "Hallo",
    }
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps(msg) + "\n")
    run(app, "ingest", str(path))
    make_account(name="later")
    result = run(app, "quarantine", "retry", "--all")
    assert "1 replayed, 0 still failing" in result.output
    assert session.scalar(sa.select(QuarantinedInput.status)) == "replayed"
    assert session.scalar(sa.select(sa.func.count(Message.id))) == 1


def test_create_user_reads_password_from_environment(app: Any, session: Any) -> None:
    result = run(
        app,
        "create-user",
        "--email",
        "Lead@Example.test",
        "--name",
        "Lena",
        "--role",
        "lead",
        "--password-env",
        "PW",
        env={"PW": "a-long-password"},
    )
    assert result.exit_code == 0, result.output
    user = session.scalars(sa.select(User)).one()
    assert (user.email, user.role) == ("lead@example.test", "lead")
    assert user.password_hash.startswith("$argon2id$")
    dup = run(
        app,
        "create-user",
        "--email",
        "lead@example.test",
        "--name",
        "X",
        "--password-env",
        "PW",
        env={"PW": "a-long-password"},
    )
    assert dup.exit_code != 0 and "already exists" in dup.output
