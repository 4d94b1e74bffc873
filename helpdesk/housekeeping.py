"""Daily housekeeping: forget what no longer protects anything.

Push delivery ids older than any platform's retry window, the stored
answers to signed ticket deliveries (Idempotency-Key) after two days, sign-in throttle
rows that no longer slow anyone down, session records over for a week, leases that lapsed long ago (a lease
row outlives its holder by design; only its expiry matters), and outbox
events older than a day that every once-only listener has passed (browsers
only need the last seconds of them) are deleted once a day.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from huey import crontab

from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.hooks.idempotency import prune as prune_idempotent
from helpdesk.hooks.services import prune_receipts
from helpdesk.leases import Lease
from helpdesk.outbox.store import prune as prune_outbox
from helpdesk.signin.records import Lifetimes
from helpdesk.signin.records import prune as prune_sessions
from helpdesk.signin.throttle import prune as prune_throttles
from helpdesk.tasks import huey

OUTBOX_RETENTION = timedelta(days=1)


def prune_leases(keep: timedelta = timedelta(days=1)) -> int:
    return db.session.execute(sa.delete(Lease).where(Lease.expires_at < utcnow() - keep)).rowcount


@huey.periodic_task(crontab(minute="17", hour="3"))
def daily_housekeeping() -> None:
    from helpdesk.tasks import _app

    if _app is None:
        return
    with _app.app_context():
        prune_receipts(db.session)
        prune_idempotent(db.session)
        prune_leases()
        prune_throttles(db.session)
        prune_sessions(db.session, Lifetimes.of(_app.config["HELPDESK_SETTINGS"]))
        prune_outbox(db.session, OUTBOX_RETENTION)
        db.session.commit()
        db.session.remove()
