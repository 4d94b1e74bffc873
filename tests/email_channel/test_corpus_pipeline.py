"""Every real-world mail of the shared corpus through the whole pipeline, not just the parser.

Nothing raises; every mail becomes a message on a ticket, except exactly the
few without usable content, which are quarantined with the parser's reason.
Machine mail (bounces, auto-replies) is stored but never left in the queue.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa

from channels.email import parse_email
from helpdesk.ingest.models import QuarantinedInput
from helpdesk.ingest.pipeline import ingest
from helpdesk.ingest.quarantine import RawInput
from helpdesk.tickets.models import Message, Ticket
from tests.email.test_corpus import QUARANTINED, _corpus_dir, _corpus_files


def test_whole_corpus_through_the_pipeline(session: Any, make_account: Any) -> None:
    root = _corpus_dir()
    files = _corpus_files(root)
    make_account(name="mailbox", kind="email", platform=None)
    outcomes: Counter[str] = Counter()
    refused: dict[str, str] = {}
    for start in range(0, len(files), 200):
        part = files[start : start + 200]
        result = ingest(session, [RawInput(p.read_bytes(), "email", "mailbox") for p in part], source="corpus")
        session.commit()
        for path, outcome in zip(part, result.outcomes, strict=True):
            outcomes[outcome.status] += 1
            if outcome.status == "quarantined":
                refused[path.relative_to(root).as_posix()] = outcome.reason or ""
    assert refused == QUARANTINED
    assert outcomes["ingested"] + outcomes["duplicate"] == len(files) - len(QUARANTINED)
    # Many corpus files are variants of one fixture mail with the same Message-ID; import is idempotent
    # on Message-ID, so each distinct id is one message.
    distinct_ids = {
        parse_email(path.read_bytes(), account="mailbox").external_id
        for path in files
        if path.relative_to(root).as_posix() not in QUARANTINED
    }
    assert outcomes["ingested"] == len(distinct_ids)
    assert session.scalar(sa.select(sa.func.count(Message.id))) == outcomes["ingested"]
    assert session.scalar(sa.select(sa.func.count(QuarantinedInput.id))) == len(QUARANTINED)
    # machine mail is kept but out of the queue: every ticket opened only by a bounce is solved
    bounce_only = session.scalars(
        sa.select(Ticket.status).where(
            Ticket.id.in_(
                sa.select(Message.ticket_id)
                .group_by(Message.ticket_id)
                .having(sa.func.min(sa.func.coalesce(Message.auto, "")) == "bounce")
            )
        )
    ).all()
    assert len(bounce_only) > 300
    assert set(bounce_only) == {"solved"}
