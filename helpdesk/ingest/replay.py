"""Replay quarantined input once its cause is fixed (a parser bug, a missing account).

Messages go through the pipeline again; records a connector declared as
orders go to the order upsert.  Either way the entry leaves the pending list
only when its record was stored (or already was).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels.base import OrderRecord
from helpdesk.ingest import quarantine
from helpdesk.ingest.models import QuarantinedInput
from helpdesk.ingest.pipeline import Input, Rejection, ingest
from helpdesk.ingest.quarantine import RawInput
from helpdesk.orders.services import upsert_orders


def _replay_order(session: Session, row: QuarantinedInput, report: ReplayReport) -> bool:
    """Store the entry if its raw format holds an order; False when it is a message (or unparseable)."""
    try:
        record = quarantine.parse(RawInput(row.raw, row.raw_format, row.account))
    except Exception:  # the pipeline reports the reason for messages and unparseable input alike
        return False
    if not isinstance(record, OrderRecord):
        return False
    try:
        with session.begin_nested():
            upsert_orders(session, [record])
    except Exception as exc:
        quarantine.mark_tried([row], set())
        row.reason = f"{type(exc).__name__}: {exc}"
        report.still_failing += 1
        report.failures.append((row.id, row.reason))
        return True
    quarantine.mark_tried([row], {row.id})
    report.replayed += 1
    return True


@dataclass
class ReplayReport:
    replayed: int = 0
    still_failing: int = 0
    failures: list[tuple[int, str]] = field(default_factory=list)


def replay(session: Session, ids: list[int] | None = None) -> ReplayReport:
    """Run pending entries (all, or ``ids``) through the pipeline again; the caller commits."""
    stmt = sa.select(QuarantinedInput).where(QuarantinedInput.status == "pending").order_by(QuarantinedInput.id)
    if ids is not None:
        stmt = stmt.where(QuarantinedInput.id.in_(ids))
    report = ReplayReport()
    for row in session.scalars(stmt).all():
        if _replay_order(session, row, report):
            continue
        failure: list[Rejection] = []

        def keep_failure(_entry: Input, rejection: Rejection, sink: list[Rejection] = failure) -> None:
            sink.append(rejection)

        result = ingest(
            session,
            [RawInput(row.raw, row.raw_format, row.account)],
            source=f"replay:{row.id}",
            on_rejected=keep_failure,
        )
        replayed = {row.id} if result.outcomes[0].status in {"ingested", "duplicate"} else set()
        quarantine.mark_tried([row], replayed)
        if failure:
            row.reason = failure[0].reason
            row.field = failure[0].field
            report.still_failing += 1
            report.failures.append((row.id, row.reason))
        else:
            report.replayed += 1
    session.flush()
    return report
