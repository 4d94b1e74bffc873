"""Background work on tickets: sending replies through their channel."""

from __future__ import annotations

from helpdesk.extensions import db
from helpdesk.tasks import task
from helpdesk.tickets import delivery


@task()
def send_reply(message_id: int) -> str:
    """Send one queued reply; commits ``sending`` before the network call so a crash is visible.

    Two commits in one job on purpose: the claim (state ``sending``) must be
    durable before the platform is called, and the outcome after it.
    """
    claimed = delivery.start(db.session, message_id)
    if isinstance(claimed, delivery.Outcome):
        return claimed.state
    db.session.commit()
    outcome = delivery.send(db.session, *claimed)
    if outcome.retry_in is not None:
        db.session.commit()
        send_reply.schedule((message_id,), delay=outcome.retry_in)
    return outcome.state
