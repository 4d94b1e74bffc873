"""Translation jobs: one message into one language, retried with back-off on rate limits and outages."""

from __future__ import annotations

from huey import crontab

from helpdesk.extensions import db
from helpdesk.tasks import huey, in_app, task, task_lease
from helpdesk.translation import services


@task()
def translate_message_task(translation_id: int) -> str:
    # Two jobs for one row (a second click, a late retry) never call the provider at once; the later one finds
    # the row done and stops.  The wait is ours (Retry-After, else growing), so the job schedules its successor.
    with task_lease(f"translation:{translation_id}"):
        outcome = services.run_message_translation(db.session, translation_id)
        db.session.commit()
    if outcome.retry_in is not None:
        translate_message_task.schedule(args=(translation_id,), delay=outcome.retry_in)
    return outcome.status


def requeue_stranded() -> int:
    """Queue a job for every pending translation whose job was lost; how many."""
    ids = services.stranded(db.session)
    db.session.rollback()  # only read: end the transaction before the jobs (inline in tests) write
    for translation_id in ids:
        translate_message_task(translation_id)
    return len(ids)


@huey.periodic_task(crontab(minute="*/5"))
def requeue_stranded_task() -> None:
    in_app(requeue_stranded)
