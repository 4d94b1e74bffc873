"""Quarantine: input that failed validation, kept raw so it can be replayed.

Bad input never stops a batch and is never lost: it waits here with a reason
that names the offending field until an admin fixes the cause and retries.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import Base, utcnow


class QuarantinedInput(Base):
    __tablename__ = "quarantined_input"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(64))  # e.g. "poll:shop-de", "import:messages.jsonl"
    raw_format: Mapped[str] = mapped_column(sa.String(40))  # "json", "email" or a connector's "<kind>.<record>"
    account: Mapped[str | None] = mapped_column(sa.String(120))
    raw: Mapped[bytes] = mapped_column(sa.LargeBinary)
    reason: Mapped[str] = mapped_column(sa.Text)
    field: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16), default="pending", index=True)  # pending, replayed
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_tried_at: Mapped[datetime | None]
    # sha256 of (raw_format, account, raw): the same bad input arriving again is this row seen once more
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True, index=True)
    seen_count: Mapped[int] = mapped_column(default=1, server_default="1")
    last_seen_at: Mapped[datetime | None]
