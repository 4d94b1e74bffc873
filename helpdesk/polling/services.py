"""Poll one channel account: fetch pages, ingest them, advance the cursor.

Each page is one transaction: its messages, its quarantined input and the
cursor that covers them commit together, so a crash between pages re-reads
at most one page (and the dedupe step makes that harmless).  A run is capped
in pages and stops if another poller moved the cursor meanwhile.  Failures
become account health and a back-off, never an exception out of the worker.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels import registry
from channels.base import AccountConfig, AuthError, ChannelError, Connector, TransientChannelError
from helpdesk.channelaccounts.models import ChannelAccount, Health
from helpdesk.db import utcnow
from helpdesk.events import publish
from helpdesk.ingest import quarantine
from helpdesk.ingest.pipeline import ingest
from helpdesk.ingest.quarantine import RawInput

log = logging.getLogger(__name__)

MAX_PAGES = 20
PAGE_SIZE = 500
MAX_BACKOFF = timedelta(hours=1)


@dataclass
class PollReport:
    account: str
    pages: int = 0
    ingested: int = 0
    duplicates: int = 0
    quarantined: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)


class MissingSecret(AuthError):
    """An account names an environment variable that is not set."""


def account_config(account: ChannelAccount, env: dict[str, str] | None = None) -> AccountConfig:
    """Resolve the account's secret references from the environment."""
    env = dict(os.environ) if env is None else env
    secrets = {}
    for role, var in (account.secret_refs or {}).items():
        if var not in env:
            raise MissingSecret(f"environment variable {var} (the {role} of account {account.name!r}) is not set")
        secrets[role] = env[var]
    return AccountConfig(
        name=account.name,
        kind=account.kind,
        base_url=account.base_url,
        settings=dict(account.settings or {}),
        secrets=secrets,
    )


def build_connector(account: ChannelAccount) -> Connector:
    return registry.get(account.kind)(account_config(account))


def _set_health(session: Session, account: ChannelAccount, health: Health, detail: str | None) -> None:
    changed = account.health != health
    account.health = health
    account.health_detail = detail
    if health is Health.OK:
        account.consecutive_failures = 0
    else:
        account.consecutive_failures += 1
    if changed:
        publish(session, "channel.health", {"channel_account_id": account.id, "health": health.value, "detail": detail})


def _schedule_next(account: ChannelAccount, interval_s: int) -> None:
    delay = timedelta(seconds=interval_s)
    if account.consecutive_failures:
        delay = min(MAX_BACKOFF, delay * (2 ** min(account.consecutive_failures, 10)))
    account.next_poll_at = utcnow() + delay


def poll_account(
    session: Session,
    account_id: int,
    *,
    interval_s: int = 60,
    max_pages: int = MAX_PAGES,
    page_size: int = PAGE_SIZE,
    max_attachment_bytes: int = 25 * 1024 * 1024,
) -> PollReport:
    """Poll one account now; commits after every page."""
    account = session.get(ChannelAccount, account_id)
    if account is None:
        return PollReport(account=f"#{account_id}", error="account does not exist")
    report = PollReport(account=account.name)
    if not account.enabled:
        report.notes.append("account is disabled")
        return report
    try:
        connector = build_connector(account)
    except (ChannelError, KeyError) as exc:  # missing secret, unknown kind, unusable settings
        report.error = str(exc).strip('"')
        _set_health(session, account, Health.FAILING, report.error)
        _schedule_next(account, interval_s)
        session.commit()
        return report
    try:
        _run_pages(session, account, connector, report, max_pages, page_size, max_attachment_bytes)
    finally:
        connector.close()
    account.last_polled_at = utcnow()
    _schedule_next(account, interval_s)
    session.commit()
    return report


def _run_pages(
    session: Session,
    account: ChannelAccount,
    connector: Connector,
    report: PollReport,
    max_pages: int,
    page_size: int,
    max_attachment_bytes: int,
) -> None:
    source = f"poll:{account.name}"
    for _ in range(max_pages):
        cursor = account.cursor
        try:
            page = connector.fetch(cursor, page_size)
        except TransientChannelError as exc:
            report.error = f"temporary failure: {exc}"
            _set_health(session, account, Health.DEGRADED, report.error)
            return
        except AuthError as exc:
            report.error = f"credentials refused: {exc}"
            _set_health(session, account, Health.FAILING, report.error)
            return
        except ChannelError as exc:  # e.g. a folder that does not exist: needs a person, not a retry
            report.error = str(exc)
            _set_health(session, account, Health.FAILING, report.error)
            return
        except Exception as exc:
            log.exception("poll of %s failed", account.name)
            report.error = f"unexpected error: {exc.__class__.__name__}: {exc}"
            _set_health(session, account, Health.FAILING, report.error)
            return
        result = ingest(session, page.messages, source=source, max_attachment_bytes=max_attachment_bytes)
        for rejected in page.rejected:
            quarantine.add(
                session,
                RawInput(rejected.raw, rejected.raw_format, account.name),
                source=source,
                reason=rejected.reason,
                field=rejected.field,
            )
        moved = session.execute(
            sa.update(ChannelAccount)
            .where(ChannelAccount.id == account.id, _same_cursor(cursor))
            .values(cursor=page.cursor, cursor_updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1:
            session.rollback()
            report.notes.append("cursor moved by another poller; stopped")
            return
        account.cursor = page.cursor
        _set_health(session, account, Health.OK, None)
        session.commit()
        try:
            connector.committed(page)
        except Exception:
            log.exception("after-commit hook of %s failed", account.name)
        report.pages += 1
        report.ingested += result.ingested
        report.duplicates += result.duplicates
        report.quarantined += result.quarantined + len(page.rejected)
        if not page.more:
            return


def _same_cursor(cursor: str | None) -> sa.ColumnElement[bool]:
    if cursor is None:
        return ChannelAccount.cursor.is_(None)
    return ChannelAccount.cursor == cursor


def due_accounts(session: Session) -> list[int]:
    """Enabled accounts whose next poll time has come."""
    now = utcnow()
    stmt = sa.select(ChannelAccount.id).where(
        ChannelAccount.enabled.is_(True),
        sa.or_(ChannelAccount.next_poll_at.is_(None), ChannelAccount.next_poll_at <= now),
    )
    return list(session.scalars(stmt))
