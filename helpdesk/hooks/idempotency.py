"""``Idempotency-Key``: a retried delivery gets the first answer again and changes nothing.

The key is claimed (inserted, flushed) before the work starts, under a
unique constraint per account: a concurrent copy of the same delivery waits
on that row and, once the first commits, fails to insert and reads the
stored answer instead of making a second ticket.  Kept a day and more
(longer than any sender's retry schedule), then pruned by housekeeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.channelaccounts.models import IdempotentResponse
from helpdesk.db import utcnow

KEEP = timedelta(hours=48)


@dataclass(frozen=True)
class Stored:
    status: int
    body: str


def claim(session: Session, account_id: int, key: str) -> IdempotentResponse | Stored | None:
    """The claimed row (do the work, then :func:`record`), the earlier answer, or None while it is still running."""
    try:
        with session.begin_nested():
            row = IdempotentResponse(account_id=account_id, key=key, status=0, body="")
            session.add(row)
            session.flush()
        return row
    except sa.exc.IntegrityError:
        pass
    earlier = session.scalar(
        sa.select(IdempotentResponse).where(IdempotentResponse.account_id == account_id, IdempotentResponse.key == key)
    )
    if earlier is None or earlier.status == 0:
        return None
    return Stored(earlier.status, earlier.body)


def record(row: IdempotentResponse, status: int, body: str) -> None:
    """Keep the answer with the claim; the caller commits both with the work."""
    row.status = status
    row.body = body


def prune(session: Session) -> int:
    """Forget answers older than :data:`KEEP`."""
    return session.execute(
        sa.delete(IdempotentResponse).where(IdempotentResponse.created_at < utcnow() - KEEP)
    ).rowcount
