"""Bad input is quarantined with a reason; the rest of the batch goes on; replay works."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from channels.base import InboundMessage, Party
from helpdesk.ingest.models import QuarantinedInput
from helpdesk.ingest.pipeline import ingest
from helpdesk.ingest.quarantine import RawInput
from helpdesk.ingest.replay import replay
from helpdesk.tickets.models import Message

GOOD = {
    "channel": "ebay",
    "account": "shop-de",
    "external_id": "ok-1",
    "sent_at": "2026-01-05T09:14:27Z",
    "sender": {"platform_id": "buyer_1", "name": "Jonas"},
    "body_text": "Hallo",
}


def raw(obj: Any) -> RawInput:
    return RawInput(json.dumps(obj).encode() if not isinstance(obj, bytes) else obj, "json")


def test_malformed_messages_are_quarantined_and_valid_ones_ingested(session: Any, make_account: Any) -> None:
    make_account()
    batch = [
        raw(GOOD),
        raw({**GOOD, "external_id": "bad-date", "sent_at": "yesterday"}),
        raw({**GOOD, "external_id": "naive", "sent_at": "2026-01-05T09:14:27"}),
        raw({k: v for k, v in GOOD.items() if k != "sender"} | {"external_id": "no-sender"}),
        raw({**GOOD, "external_id": "ok-2"}),
        raw(b"{not json"),
        raw({**GOOD, "external_id": "", "body_text": "x"}),
        raw({**GOOD, "external_id": "empty", "body_text": "   "}),
        raw({**GOOD, "external_id": "unknown-account", "account": "nope"}),
        raw({**GOOD, "external_id": "lang", "language": "German!"}),
        raw({**GOOD, "external_id": "att", "attachments": [{"filename": "a.pdf", "content_base64": "%%%"}]}),
        InboundMessage(
            channel="ebay",
            account="shop-de",
            external_id="dc-naive",
            sent_at=datetime(2026, 1, 5, 9, 0),
            sender=Party(platform_id="b"),
            body_text="x",
        ),
        raw({**GOOD, "external_id": "ok-3", "sender": {"email": "buyer@example.test"}}),
    ]
    result = ingest(session, batch, source="import:test.jsonl")
    session.commit()
    assert [o.status for o in result.outcomes] == (
        ["ingested"] + ["quarantined"] * 3 + ["ingested"] + ["quarantined"] * 7 + ["ingested"]
    )
    assert session.scalar(sa.select(sa.func.count(Message.id))) == 3
    refused = [o for o in result.outcomes if o.status == "quarantined"]
    assert [o.field for o in refused] == [
        "sent_at",
        "sent_at",
        "sender",
        None,
        "external_id",
        "body_text",
        "account",
        "language",
        "attachments[0].content_base64",
        "sent_at",
    ]
    assert "no UTC offset" in refused[1].reason
    assert "Expecting property name" in refused[3].reason
    assert "no channel account named 'nope'" in refused[6].reason
    rows = session.scalars(sa.select(QuarantinedInput).order_by(QuarantinedInput.id)).all()
    assert len(rows) == 10
    assert {r.reason for r in rows} == {o.reason for o in refused}
    assert rows[0].raw == json.dumps({**GOOD, "external_id": "bad-date", "sent_at": "yesterday"}).encode()
    assert all(r.source == "import:test.jsonl" and r.status == "pending" for r in rows)


def test_replay_ingests_once_the_cause_is_fixed(session: Any, make_account: Any) -> None:
    make_account()
    ingest(
        session,
        [raw({**GOOD, "account": "shop-uk"}), raw({**GOOD, "external_id": "x", "sent_at": "bad"})],
        source="test",
    )
    session.commit()
    first = replay(session)
    session.commit()
    assert (first.replayed, first.still_failing) == (0, 2)
    assert session.scalar(sa.select(sa.func.count(QuarantinedInput.id))) == 2  # no new entries while replaying
    make_account(name="shop-uk")
    second = replay(session)
    session.commit()
    assert (second.replayed, second.still_failing) == (1, 1)
    assert session.scalar(sa.select(sa.func.count(Message.id))) == 1
    by_field = {r.field: (r.status, r.attempts) for r in session.scalars(sa.select(QuarantinedInput))}
    assert by_field == {"account": ("replayed", 2), "sent_at": ("pending", 2)}


def test_oversized_attachment_is_dropped_not_the_message(session: Any, make_account: Any, app: Any) -> None:
    import base64

    make_account()
    big = base64.b64encode(b"x" * 2048).decode()
    msg = {
        **GOOD,
        "attachments": [
            {"filename": "big.bin", "content_base64": big},
            {"filename": "small.txt", "content_base64": base64.b64encode(b"hi").decode()},
        ],
    }
    result = ingest(session, [raw(msg)], source="test", max_attachment_bytes=1024)
    session.commit()
    assert result.ingested == 1
    stored = session.scalars(sa.select(Message)).one()
    assert [a.filename for a in stored.attachments] == ["small.txt"]
    assert "big.bin (2048 bytes)" in stored.meta["dropped_attachments"]
    assert stored.sent_at == datetime(2026, 1, 5, 9, 14, 27, tzinfo=UTC)
