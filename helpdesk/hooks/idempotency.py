"""``Idempotency-Key``: a retried delivery gets the first answer again and changes nothing.

Looked up under the ingest write lock before the work and recorded with it,
in the same transaction, under a unique constraint per account: a copy of
the same delivery in a later batch reads the stored answer instead of making
a second ticket, and a delivery whose work failed left nothing behind, so
its retry is worked.  Kept a day and more (longer than any sender's retry
schedule), then pruned by housekeeping.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.channelaccounts.models import IdempotentResponse
from helpdesk.db import bulk_insert, utcnow
from helpdesk.ingest.batch import select_by_pairs

KEEP = timedelta(hours=48)


@dataclass(frozen=True)
class Stored:
    status: int
    body: str


def lookup(session: Session, pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], Stored]:
    """The stored answers among ``pairs`` of (account id, key), in one statement; status 0 means still running."""
    r = IdempotentResponse.__table__.c
    columns = (r.account_id, r.key, r.status, r.body)
    rows = select_by_pairs(session.connection(), columns, r.account_id, r.key, pairs) if pairs else ()
    return {(row.account_id, row.key): Stored(row.status, row.body) for row in rows}


def record_many(session: Session, answers: Sequence[tuple[int, str, int, str]]) -> None:
    """Keep each (account id, key, status, body) with the work it answered; the caller commits both.

    The caller holds the ingest write lock from before its :func:`lookup`, so no
    other batch records the same key in between; if something else did, the
    unique constraint fails this batch, which stores nothing and can be retried.
    """
    if answers:
        now = utcnow()
        rows = [{"account_id": a, "key": k, "status": s, "body": b, "created_at": now} for a, k, s, b in answers]
        bulk_insert(session.connection(), IdempotentResponse.__table__, rows)  # every batch: no ORM bulk path


def prune(session: Session) -> int:
    """Forget answers older than :data:`KEEP`."""
    return session.execute(
        sa.delete(IdempotentResponse).where(IdempotentResponse.created_at < utcnow() - KEEP)
    ).rowcount
