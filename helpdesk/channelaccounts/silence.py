"""Silence is an error: an account whose polls have not succeeded for three intervals is failing, and says why.

A poll that fails says so itself; the dangerous case is the poll that never
happens — a dead worker, a lock that outlived its holder, a queue that is
not consumed.  Nothing reports those, so health is judged from time: when
did a poll last succeed, what was expected, and what became of the last
attempt (it failed, it was skipped, or there was none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import Session

from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.db import utcnow

#: Polls may miss this many intervals (a slow page, a restart) before the account counts as failing.
MISSED_INTERVALS = 3
#: Key in ``ChannelAccount.problems`` for the last attempt that did not run, and why.
SKIPPED = "skipped"
#: Key in ``ChannelAccount.problems``: the silence (its start) admins were told about, so they are told once.
NOTICED = "silence_noticed"


@dataclass(frozen=True)
class Silence:
    since: datetime  # the last successful poll, or when the account was added
    minutes: int
    last_attempt: str  # failed, skipped or none
    detail: str | None = None

    def sentence(self) -> str:
        """The silence in words, in the reader's language: how long, and what became of the last attempt."""
        head = ngettext("Not polled for %(num)d minute", "Not polled for %(num)d minutes", self.minutes)
        if self.last_attempt == "failed":
            return _("%(head)s; the last attempt failed: %(detail)s", head=head, detail=self.detail or "")
        if self.last_attempt == "skipped":
            return _(
                "%(head)s; the last attempt was skipped because another poll of this account still held its lock "
                "(a lock left by a stopped worker lapses within two minutes).",
                head=head,
            )
        return _("%(head)s; no poll was attempted since: check that the worker is running.", head=head)


def record_skip(account: ChannelAccount, why: str) -> None:
    """Keep that a scheduled poll did not run and why, so the silence it causes can be explained."""
    account.problems = {**(account.problems or {}), SKIPPED: {"at": utcnow().isoformat(), "why": why}}


def clear_after_success(account: ChannelAccount) -> None:
    """A poll succeeded: forget the skip and the notice, so the next silence is news again."""
    if account.problems and (SKIPPED in account.problems or NOTICED in account.problems):
        account.problems = {k: v for k, v in account.problems.items() if k not in (SKIPPED, NOTICED)}


def _skipped_at(problems: dict[str, Any] | None) -> datetime | None:
    entry = (problems or {}).get(SKIPPED)
    try:
        return datetime.fromisoformat(entry["at"]) if entry else None
    except (KeyError, TypeError, ValueError):
        return None


def silence_of(account: ChannelAccount, interval_s: int, now: datetime | None = None) -> Silence | None:
    """The account's silence if no poll has succeeded for ``MISSED_INTERVALS`` intervals; None otherwise."""
    if not account.enabled:
        return None
    now = now or utcnow()
    since = account.last_success_at or account.created_at
    if since is None or now - since <= timedelta(seconds=MISSED_INTERVALS * interval_s):
        return None
    minutes = int((now - since).total_seconds() // 60)
    failed_at = account.last_error_at
    skipped_at = _skipped_at(account.problems)
    if failed_at and failed_at > since and (skipped_at is None or failed_at >= skipped_at):
        return Silence(since, minutes, "failed", account.health_detail)
    if skipped_at and skipped_at > since:
        return Silence(since, minutes, "skipped", (account.problems or {})[SKIPPED].get("why"))
    return Silence(since, minutes, "none")


def notice_silent_accounts(session: Session, default_interval_s: int) -> int:
    """Tell admins, once per silence, about each account that went silent; how many accounts were new news.

    Run by the worker's minutely schedule: it catches polls that fail or are
    skipped.  A worker that does not run at all cannot report itself — the
    channels page, ``channels list`` and ``/health`` show that silence.
    """
    from helpdesk.notifications.services import notify_channel_silent
    from helpdesk.polling.services import interval_of

    told = 0
    for account in session.scalars(sa.select(ChannelAccount).where(ChannelAccount.enabled.is_(True))):
        silence = silence_of(account, interval_of(account, default_interval_s))
        if silence is None or (account.problems or {}).get(NOTICED) == silence.since.isoformat():
            continue
        notify_channel_silent(
            session,
            account_id=account.id,
            name=account.display_name or account.name,
            since=silence.since,
            last_attempt=silence.last_attempt,
            detail=silence.detail,
        )
        account.problems = {**(account.problems or {}), NOTICED: silence.since.isoformat()}
        told += 1
    return told
