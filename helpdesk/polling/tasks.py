"""Background polling: a minutely sweep queues one poll job per due account."""

from __future__ import annotations

import logging

from flask import current_app
from huey import crontab

from helpdesk.channelaccounts.silence import notice_silent_accounts
from helpdesk.extensions import db
from helpdesk.polling.services import PollReport, due_accounts, poll_account
from helpdesk.tasks import huey, task, task_lease

log = logging.getLogger(__name__)


def _record_skip(account_id: int) -> None:
    """Say on the account that this poll did not run, so its silence can be explained (then skip as before)."""
    from helpdesk.channelaccounts.models import ChannelAccount
    from helpdesk.channelaccounts.silence import record_skip

    account = db.session.get(ChannelAccount, account_id)
    if account is not None:
        record_skip(account, "another poll of this account held its lock")
        db.session.commit()


def _poll_now(account_id: int) -> dict[str, object]:
    with task_lease(f"poll-account-{account_id}", on_busy=lambda: _record_skip(account_id)):
        settings = current_app.config["HELPDESK_SETTINGS"]
        report: PollReport = poll_account(
            db.session,
            account_id,
            interval_s=settings.poll_interval_s,
            max_attachment_bytes=settings.attachment_max_bytes,
        )
        return report.__dict__


@task(retries=0)
def poll_account_task(account_id: int) -> dict[str, object]:
    """The scheduled poll; one that finds the account locked is simply skipped until the next."""
    return _poll_now(account_id)


@task(retries=10, retry_delay=2)
def poll_soon_task(account_id: int) -> dict[str, object]:
    """Poll an account IMAP IDLE rang for; retried while another poll of it holds the lock."""
    return _poll_now(account_id)


@huey.periodic_task(crontab(minute="*"))
def poll_due_accounts() -> None:
    from helpdesk.tasks import _app

    if _app is None:
        return
    with _app.app_context():
        for account_id in due_accounts(db.session):
            poll_account_task(account_id)
        try:
            notice_silent_accounts(db.session, _app.config["HELPDESK_SETTINGS"].poll_interval_s)
            db.session.commit()
        except Exception:  # telling admins must never stop the polls being queued next minute
            db.session.rollback()
            log.exception("could not tell admins about silent channel accounts")
        db.session.remove()
