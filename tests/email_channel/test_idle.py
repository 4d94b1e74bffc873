"""IMAP IDLE against the real Dovecot: mail rings within seconds, and the ring polls the mailbox."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from channels.base import AccountConfig
from channels.email.idle import IdleWatcher
from channels.email.settings import load_settings
from helpdesk.tickets.models import Message
from tests.email_channel.conftest import PASSWORD, mail


class Bell:
    """Counts rings; ``wait_for(n)`` waits until there were at least ``n``."""

    def __init__(self) -> None:
        self.rings = 0
        self._changed = threading.Condition()

    def __call__(self) -> None:
        with self._changed:
            self.rings += 1
            self._changed.notify_all()

    def wait_for(self, n: int, timeout: float = 10.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.rings >= n, timeout)


def watcher(mailbox: Any, bell: Callable[[], None], port: int | None = None, **options: Any) -> IdleWatcher:
    config = AccountConfig(
        name="support",
        kind="email",
        settings={
            "imap_host": mailbox.host,
            "imap_port": port or mailbox.port,
            "imap_security": "none",
            "user": mailbox.user,
            "timeout_s": 5,
        },
        secrets={"password": PASSWORD},
    )
    return IdleWatcher(load_settings(config), config.store(), bell, **options)


def test_new_mail_rings_within_seconds_and_a_burst_rings_little(mailbox) -> None:
    bell = Bell()
    w = watcher(mailbox, bell)
    w.start()
    try:
        assert bell.wait_for(1), "no ring on connect (mail may have arrived while nobody listened)"
        assert w.state == "idling"
        started = time.monotonic()
        mailbox.append(mail(1))
        assert bell.wait_for(2), "the new mail did not ring"
        assert time.monotonic() - started < 5
        before = bell.rings
        for n in range(2, 12):
            mailbox.append(mail(n))
        assert bell.wait_for(before + 1)
        time.sleep(2.5)  # the burst's tail rings once more after the interval
        assert before + 1 <= bell.rings <= before + 4, f"ten mails rang {bell.rings - before} times"
    finally:
        w.stop()
    assert not w.running


def test_a_dropped_connection_is_reopened_and_rings_again(mailbox, cutting_proxy) -> None:
    proxy = cutting_proxy(cut_after=None)
    bell = Bell()
    w = watcher(mailbox, bell, port=proxy.port)
    w.start()
    try:
        assert bell.wait_for(1)
        proxy.cut_now()
        assert bell.wait_for(2, timeout=15), f"no reconnect after the cut (state {w.state}, {w.last_error})"
        assert w.connects == 2
        mailbox.append(mail(1))
        assert bell.wait_for(3), "no ring for mail after the reconnect"
    finally:
        w.stop()


def test_refused_credentials_keep_the_watcher_alive_and_failing(mailbox) -> None:
    bell = Bell()
    w = watcher(mailbox, bell)
    w.credentials.update({"password": "wrong"})
    w.start()
    try:
        deadline = time.monotonic() + 10
        while w.state != "failing" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert w.state == "failing" and "login" in (w.last_error or "").lower()
        assert w.running and bell.rings == 0
    finally:
        w.stop()


def test_the_supervisor_polls_idle_accounts_when_mail_arrives(app, session, mailbox, email_account) -> None:
    from helpdesk.polling.watchers import WatcherSupervisor

    quiet = email_account(name="quiet")  # no idle: left to the minutely poll
    email_account(name="instant", idle=True)
    supervisor = WatcherSupervisor(app, refresh_s=0.5)
    supervisor.start()
    try:
        deadline = time.monotonic() + 10
        while not supervisor.watchers and time.monotonic() < deadline:
            time.sleep(0.05)
        assert quiet.id not in supervisor.watchers and len(supervisor.watchers) == 1
        mailbox.append(mail(1, subject="Lamp arrived broken"))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            session.rollback()
            subjects = session.scalars(sa.select(Message.subject)).all()
            if subjects:
                break
            time.sleep(0.1)
        assert subjects == ["Lamp arrived broken"]
    finally:
        supervisor.stop()


def test_the_supervisor_follows_accounts_switched_on_changed_and_off(app, session, mailbox, email_account) -> None:
    from helpdesk.channelaccounts.models import ChannelAccount
    from helpdesk.polling.watchers import WatcherSupervisor

    account = email_account(name="instant", idle=True)
    supervisor = WatcherSupervisor(app)
    try:
        supervisor.sync()
        first = supervisor.watchers[account.id][1]
        assert first.running
        supervisor.sync()
        assert supervisor.watchers[account.id][1] is first  # unchanged account: same connection

        session.execute(
            sa.update(ChannelAccount).values(settings={**account.settings, "folder": "Support"}, enabled=True)
        )
        session.commit()
        supervisor.sync()
        second = supervisor.watchers[account.id][1]
        assert second is not first and not first.running and second.settings.folder == "Support"

        session.execute(sa.update(ChannelAccount).values(enabled=False))
        session.commit()
        supervisor.sync()
        assert supervisor.watchers == {} and not second.running
    finally:
        supervisor.stop()
