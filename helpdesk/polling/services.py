"""Poll one channel account: fetch pages, store them, advance the cursor.

Each page is one transaction: its orders and customers, its messages, its
quarantined input and the cursor that covers them commit together, so a
crash between pages re-reads at most one page (and dedupe and upserts make
that harmless).  A run is capped in pages and stops if another poller moved
the cursor meanwhile.  Failures become account health and a back-off, never
an exception out of the worker; a stream a permission blocks is recorded on
the account while the other streams keep flowing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels.base import (
    AuthError,
    ChannelError,
    Connector,
    FetchResult,
    PermissionMissing,
    RejectedInput,
    TransientChannelError,
)
from channels.credentials import REFRESH_EXPIRES
from helpdesk.channelaccounts.models import ChannelAccount, Health
from helpdesk.channelaccounts.services import build_connector
from helpdesk.channelaccounts.silence import clear_after_success
from helpdesk.channelaccounts.stats import record_activity
from helpdesk.db import utcnow
from helpdesk.events import publish
from helpdesk.ingest import quarantine
from helpdesk.ingest.batch import IngestResult
from helpdesk.ingest.pipeline import ingest
from helpdesk.ingest.quarantine import RawInput
from helpdesk.orders.services import upsert_customers, upsert_orders
from helpdesk.polling.reading import page_reader

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
    orders: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)


def _set_health(session: Session, account: ChannelAccount, health: Health, detail: str | None) -> None:
    changed = account.health != health
    account.health = health
    account.health_detail = detail
    if health is Health.OK:
        account.consecutive_failures = 0
        account.last_success_at = utcnow()
        clear_after_success(account)
    else:
        account.consecutive_failures += 1
        account.last_error_at = utcnow()
    if changed:
        publish(session, "channel.health", {"channel_account_id": account.id, "health": health.value, "detail": detail})


def interval_of(account: ChannelAccount, default_s: int) -> int:
    """Seconds between polls: the account's own, else its connector's default, else the helpdesk's."""
    if account.poll_interval_s:
        return account.poll_interval_s
    from channels import registry

    try:
        own = registry.get(account.kind).poll_interval_s
    except KeyError:
        own = None
    return own or default_s


# The scheduler looks for due accounts once a minute: an account due a moment after a sweep would
# wait for the next one, so a healthy account is due a little before its interval has passed.
SWEEP_SLACK = timedelta(seconds=5)


def _schedule_next(
    account: ChannelAccount, interval_s: int, retry_after: float | None = None, started: datetime | None = None
) -> None:
    """When to poll next: the interval after this poll started, backed off after failures."""
    delay = timedelta(seconds=interval_of(account, interval_s))
    if account.consecutive_failures:
        delay = min(MAX_BACKOFF, delay * (2 ** min(account.consecutive_failures, 10)))
    elif delay > SWEEP_SLACK * 2:
        delay -= SWEEP_SLACK
    if retry_after:
        delay = max(delay, timedelta(seconds=retry_after))
    account.next_poll_at = (started or utcnow()) + delay


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
    started = utcnow()
    if not account.enabled:
        report.notes.append("account is disabled")
        return report
    try:
        connector = build_connector(account)
    except (ChannelError, KeyError, ValueError) as exc:  # missing secret, unknown kind, unusable settings
        report.error = str(exc).strip('"')
        _set_health(session, account, Health.FAILING, report.error)
        _schedule_next(account, interval_s)
        session.commit()
        return report
    retry_after = None
    try:
        retry_after = _run_pages(session, account, connector, report, max_pages, page_size, max_attachment_bytes)
    except DATABASE_UNAVAILABLE as exc:
        return _database_unavailable(session, report, exc)
    finally:
        connector.close()
    _note_grant_expiry(account, connector)
    account.last_polled_at = utcnow()
    _schedule_next(account, interval_s, retry_after, started)
    session.commit()
    return report


#: The database refused or dropped the connection (or SQLite stayed locked past its busy timeout).
DATABASE_UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError)


def _database_unavailable(session: Session, report: PollReport, exc: sa.exc.DBAPIError) -> PollReport:
    """A page could not be stored: nothing of it was committed, and neither was its cursor.

    The account cannot be marked (the database is what failed), and need not
    be: its next poll time did not move either, so the next sweep polls it
    again from the stored cursor, and if the outage lasts, its silence shows.
    """
    with suppress(Exception):
        session.rollback()
    report.error = f"database unavailable: {str(exc.orig).strip()}"
    log.warning("poll of %s stopped, the database is unavailable: %s", report.account, str(exc.orig).strip())
    return report


def _note_grant_expiry(account: ChannelAccount, connector: Connector) -> None:
    """Keep when the platform's grant ends (as its token endpoint said), for the channels page."""
    try:
        secrets = connector.credentials.get()
    except ChannelError:
        return
    for key, value in secrets.items():
        if key.endswith(REFRESH_EXPIRES) and value:
            with suppress(ValueError):
                account.auth_expires_at = datetime.fromisoformat(value)
            return


def _fetch(
    session: Session, account: ChannelAccount, report: PollReport, fetching: Callable[[], FetchResult]
) -> FetchResult | float | None:
    """One page, or what failed: health is set and None (or the platform's retry-after) returned."""
    try:
        return fetching()
    except TransientChannelError as exc:
        report.error = f"temporary failure: {exc}"
        _set_health(session, account, Health.DEGRADED, report.error)
        return exc.retry_after
    except AuthError as exc:
        report.error = f"credentials refused: {exc}"
    except PermissionMissing as exc:
        report.error = f"permission missing: {exc}"
    except ChannelError as exc:  # e.g. a folder that does not exist: needs a person, not a retry
        report.error = str(exc)
    except Exception as exc:
        log.exception("poll of %s failed", account.name)
        report.error = f"unexpected error: {exc.__class__.__name__}: {exc}"
    _set_health(session, account, Health.FAILING, report.error)
    return None


def store_page(
    session: Session,
    account: ChannelAccount,
    page: FetchResult,
    *,
    source: str,
    max_attachment_bytes: int = 25 * 1024 * 1024,
) -> tuple[IngestResult, int]:
    """Orders and customers first (a message links to an order of its own page), then messages, then rejects."""
    orders = upsert_orders(session, page.orders) if page.orders else None
    if page.customers:
        upsert_customers(session, page.customers)
    result = ingest(session, page.messages, source=source, max_attachment_bytes=max_attachment_bytes)
    quarantine_rejected(session, account.name, page.rejected, source=source)
    stored_orders = (orders.created + orders.updated) if orders else 0
    record_activity(session, account.id, messages=result.ingested, orders=stored_orders)
    return result, stored_orders


def quarantine_rejected(session: Session, account: str, rejected: list[RejectedInput], *, source: str) -> None:
    for item in rejected:
        quarantine.add(
            session, RawInput(item.raw, item.raw_format, account), source=source, reason=item.reason, field=item.field
        )


def _run_pages(
    session: Session,
    account: ChannelAccount,
    connector: Connector,
    report: PollReport,
    max_pages: int,
    page_size: int,
    max_attachment_bytes: int,
) -> float | None:
    """Pages until the connector has no more or the cap is reached; the retry-after of a failure.

    A page read ahead starts from the cursor of the page being stored; if
    storing fails or another poller moved the cursor, it is dropped unread
    (the cursor in the database never passed it).
    """
    source = f"poll:{account.name}"
    reader = page_reader(connector, page_size, _reader_kind())
    try:
        for n in range(max_pages):
            cursor = account.cursor
            page = _fetch(
                session,
                account,
                report,
                lambda cursor=cursor, ahead=n + 1 < max_pages: reader.page(cursor, ahead=ahead),
            )
            if not isinstance(page, FetchResult):
                return page
            result, stored_orders = store_page(
                session, account, page, source=source, max_attachment_bytes=max_attachment_bytes
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
                return None
            account.cursor = page.cursor
            _note_problems(session, account, page, more_waiting=page.more and n == max_pages - 1)
            session.commit()
            try:
                connector.committed(page)
            except Exception:
                log.exception("after-commit hook of %s failed", account.name)
            report.pages += 1
            report.ingested += result.ingested
            report.duplicates += result.duplicates
            report.quarantined += result.quarantined + len(page.rejected)
            report.orders += stored_orders
            if not page.more:
                return None
        return None
    finally:
        reader.close()


def _reader_kind() -> str:
    """Where pages are read ahead (``HELPDESK_POLL_READER``): a process of their own unless configured."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return "thread"
    return str(current_app.config["HELPDESK_SETTINGS"].poll_reader)


def _note_problems(session: Session, account: ChannelAccount, page: FetchResult, *, more_waiting: bool) -> None:
    """Health after a stored page: ok, or degraded naming the streams a permission blocks."""
    problems = {p.stream.value: {"code": p.code.value, "detail": p.detail} for p in page.problems}
    if more_waiting:
        problems["backlog"] = {"code": "backlog", "detail": "more records are waiting; the next poll goes on"}
    account.problems = problems
    _set_health(session, account, Health.OK, None)
    blocked = [f"{p.stream.value}: {p.detail}" for p in page.problems]
    if blocked:  # the page went through, so no back-off; but the account says what is missing
        account.health = Health.DEGRADED
        account.health_detail = "; ".join(blocked)


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
