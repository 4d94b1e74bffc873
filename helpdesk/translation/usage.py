"""Characters sent per provider per calendar month (UTC): counted as they are sent, capped if the admin says so.

The counter is one upserted row per provider and month, added to in the
transaction that records the translation, so the admin page reads one row
instead of summing a log.  The cap is checked before a request leaves: a
desk that set 200,000 characters a month never sends the 200,001st.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from helpdesk.db import utcnow
from helpdesk.translation.base import QuotaExceeded
from helpdesk.translation.models import TranslationProvider, TranslationUsage


def month_of(at: datetime | None = None) -> str:
    return (at or utcnow()).strftime("%Y-%m")


def count(session: Session, provider: str, characters: int, at: datetime | None = None) -> None:
    """Add one request of ``characters`` to this month's counter of ``provider`` (one upsert)."""
    table = TranslationUsage.__table__
    conn = session.connection()
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).values(provider=provider, month=month_of(at), characters=characters, requests=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.provider, table.c.month],
        set_={"characters": table.c.characters + characters, "requests": table.c.requests + 1},
    )
    conn.execute(stmt)


def used(session: Session, provider: str, at: datetime | None = None) -> int:
    found = session.scalar(
        sa.select(TranslationUsage.characters).where(
            TranslationUsage.provider == provider, TranslationUsage.month == month_of(at)
        )
    )
    return int(found or 0)


def ensure_within_cap(session: Session, row: TranslationProvider, characters: int) -> None:
    """QuotaExceeded, in words an agent can act on, when sending ``characters`` more would pass the cap."""
    cap = row.monthly_char_cap
    if cap is None:
        return
    spent = used(session, row.kind)
    if spent + characters > cap:
        raise QuotaExceeded(
            _(
                "This month's translation allowance is used up: %(used)s of %(cap)s characters sent to "
                "%(provider)s. An admin can raise the monthly cap under Administration → Translation; "
                "it starts again on the 1st.",
                used=spent,
                cap=cap,
                provider=row.kind,
            )
        )


@dataclass(frozen=True)
class MonthUsage:
    provider: str
    characters: int
    requests: int
    cap: int | None

    @property
    def share(self) -> float | None:
        return self.characters / self.cap if self.cap else None


def this_month(session: Session) -> list[MonthUsage]:
    """Every provider's counter this month, configured providers first (zero when nothing was sent)."""
    month = month_of()
    counted = {
        u.provider: u for u in session.scalars(sa.select(TranslationUsage).where(TranslationUsage.month == month))
    }
    rows = list(session.scalars(sa.select(TranslationProvider).order_by(TranslationProvider.kind)))
    out = []
    for row in rows:
        u = counted.pop(row.kind, None)
        out.append(MonthUsage(row.kind, u.characters if u else 0, u.requests if u else 0, row.monthly_char_cap))
    out += [MonthUsage(u.provider, u.characters, u.requests, None) for u in counted.values()]
    return out
