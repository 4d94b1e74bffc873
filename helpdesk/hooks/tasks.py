"""Housekeeping for notifications: forget delivery ids older than any platform's retry window."""

from __future__ import annotations

from huey import crontab

from helpdesk.extensions import db
from helpdesk.hooks.services import prune_receipts
from helpdesk.tasks import huey


@huey.periodic_task(crontab(minute="17", hour="3"))
def prune_push_receipts() -> None:
    from helpdesk.tasks import _app

    if _app is None:
        return
    with _app.app_context():
        prune_receipts(db.session)
        db.session.commit()
        db.session.remove()
