"""Background SLA work: the minutely sweep."""

from __future__ import annotations

from huey import crontab

from helpdesk.extensions import db
from helpdesk.sla.services import sweep_all
from helpdesk.tasks import huey, task_lease


@huey.periodic_task(crontab(minute="*"))
def sweep_clocks() -> None:
    """Record due warnings and breaches; events go out after the commit."""
    from helpdesk.tasks import _app

    if _app is None:
        return
    with _app.app_context(), task_lease("sla-sweep"):
        try:
            sweep_all(db.session)
        except BaseException:
            db.session.rollback()
            raise
        finally:
            db.session.remove()
