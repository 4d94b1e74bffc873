"""Watchers for the accounts whose connectors keep one (IMAP IDLE is one): a poll when data arrives.

Runs beside the task consumer (``serve`` in one process, or ``worker``).
Every ``refresh_s`` it asks every enabled account whose connector has the
``WATCH`` capability for a watcher (the connector decides, from the
account's settings, whether it wants one), starting, restarting and
stopping watchers as accounts are added, changed or switched off.  A ring
queues :func:`~helpdesk.polling.tasks.poll_soon_task`, which polls exactly as
the minutely schedule would; if a poll of that account is already running it
waits and tries again, so data that arrived during that poll is not left for
the next minute.  Nothing here knows a platform.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import sqlalchemy as sa
from flask import Flask

from channels import registry
from channels.base import Capability, ChannelError, Watcher
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.channelaccounts.services import build_connector
from helpdesk.extensions import db
from helpdesk.polling.tasks import poll_soon_task

log = logging.getLogger(__name__)


def watching_kinds() -> list[str]:
    return [kind for kind in registry.kinds() if Capability.WATCH in registry.get(kind).capabilities]


class WatcherSupervisor:
    """Keeps one watcher per enabled account whose connector wants one."""

    def __init__(self, app: Flask, refresh_s: float = 60.0) -> None:
        self.app = app
        self.refresh_s = refresh_s
        self.watchers: dict[int, tuple[str, Watcher]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="watcher-supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for _fingerprint, watcher in self.watchers.values():
            watcher.stop()
        self.watchers.clear()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync()
            except Exception:  # the database may be briefly unavailable; try again next round
                log.exception("the watcher supervisor could not read the accounts")
            self._stop.wait(self.refresh_s)

    def sync(self) -> None:
        """Start, restart and stop watchers to match the accounts as they are now."""
        wanted = self._wanted()
        for account_id in list(self.watchers):
            fingerprint, watcher = self.watchers[account_id]
            if wanted.get(account_id, (None,))[0] != fingerprint:
                watcher.stop()
                del self.watchers[account_id]
        for account_id, (fingerprint, watcher) in wanted.items():
            if account_id not in self.watchers:
                watcher.start()
                self.watchers[account_id] = (fingerprint, watcher)

    def _wanted(self) -> dict[int, tuple[str, Any]]:
        found: dict[int, tuple[str, Any]] = {}
        with self.app.app_context():
            kinds = watching_kinds()
            accounts = (
                db.session.scalars(
                    sa.select(ChannelAccount).where(ChannelAccount.kind.in_(kinds), ChannelAccount.enabled.is_(True))
                ).all()
                if kinds
                else []
            )
            for account in accounts:
                fingerprint = json.dumps(
                    [account.settings, account.secret_refs, account.secrets_sealed], sort_keys=True, default=str
                )
                known = self.watchers.get(account.id)
                if known is not None and known[0] == fingerprint:
                    found[account.id] = known
                    continue
                try:
                    watcher = build_connector(account).watcher(_ring(account.id))
                except (ChannelError, ValueError) as exc:  # the poller reports this as account health
                    log.warning("no watcher for %s: %s", account.name, exc)
                    continue
                if watcher is not None:
                    found[account.id] = (fingerprint, watcher)
            db.session.remove()
        return found


def _ring(account_id: int) -> Any:
    def ring() -> None:
        poll_soon_task(account_id)

    return ring
