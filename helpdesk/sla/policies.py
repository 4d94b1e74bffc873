"""Choosing a ticket's policy and building its calendar, cached for one batch or request.

The most specific enabled policy wins: a store account match outweighs a
platform match, which outweighs a priority match, which outweighs a thread
kind match.  When nothing matches the thread kind, the platform's ordinary
message policy applies; when nothing matches the platform, the generic
e-mail policy; when the table holds nothing at all, the shipped default from
:mod:`helpdesk.sla.defaults` (so a database that was never seeded still
measures, with ``policy_id`` None).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.db import any_of_param, list_param, utcnow
from helpdesk.sla.calendar import BusinessCalendar
from helpdesk.sla.defaults import GENERIC_PLATFORM, POLICY_DEFAULTS, PolicyDefault, ThreadKind, default_policy
from helpdesk.sla.models import SlaPolicy

DEFAULT_STORE_HOURS = {"mon-fri": "09:00-18:00"}
_ALIASES = {"tiktokshop": "tiktok", "mercadolivre": "mercadolibre", "meli": "mercadolibre"}


def normalize_platform(platform: str | None) -> str:
    """``TikTok Shop``, ``tiktok_shop`` and ``tiktok`` are one platform; None is generic e-mail."""
    key = "".join(ch for ch in (platform or "").lower() if ch.isalnum())
    return _ALIASES.get(key, key) or GENERIC_PLATFORM


@dataclass(frozen=True, slots=True)
class Policy:
    """A resolved policy: what the engine needs, detached from the session."""

    id: int | None
    name: str
    first_response: timedelta | None
    next_response: timedelta | None
    resolution: timedelta | None
    warn_share: float
    pause_when_pending: bool
    calendar_kind: str
    timezone: str | None
    hours: dict[str, str] | None
    holidays: str
    closures: tuple[date, ...]
    escalation: dict[str, Any]

    def target(self, kind: str) -> timedelta | None:
        if kind == "first_response":
            return self.first_response
        if kind == "next_response":
            return self.next_response
        if kind == "resolution":
            return self.resolution
        raise KeyError(kind)


def _seconds(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


def from_row(row: SlaPolicy | sa.Row[Any]) -> Policy:
    return Policy(
        id=row.id,
        name=row.name,
        first_response=_seconds(row.first_response_s),
        next_response=_seconds(row.next_response_s),
        resolution=_seconds(row.resolution_s),
        warn_share=row.warn_share,
        pause_when_pending=row.pause_when_pending,
        calendar_kind=row.calendar,
        timezone=row.timezone,
        hours=row.hours,
        holidays=row.holidays,
        closures=tuple(date.fromisoformat(d) for d in row.closures or ()),
        escalation=dict(row.escalation or {}),
    )


def from_default(d: PolicyDefault) -> Policy:
    return Policy(
        id=None,
        name=d.name,
        first_response=d.first_response,
        next_response=d.next_response,
        resolution=d.resolution,
        warn_share=d.warn_share,
        pause_when_pending=d.pause_when_pending,
        calendar_kind=d.calendar,
        timezone=None,
        hours=None,
        holidays=d.holidays,
        closures=(),
        escalation={},
    )


def default_row(d: PolicyDefault) -> dict[str, Any]:
    """The seed row for a shipped default."""
    now = utcnow()
    return {
        "name": d.name,
        "enabled": True,
        "is_default": True,
        "platform": d.platform,
        "channel_account_id": None,
        "priority": None,
        "thread_kind": str(d.thread_kind),
        "first_response_s": int(d.first_response.total_seconds()),
        "next_response_s": None if d.next_response is None else int(d.next_response.total_seconds()),
        "resolution_s": None if d.resolution is None else int(d.resolution.total_seconds()),
        "warn_share": d.warn_share,
        "pause_when_pending": d.pause_when_pending,
        "calendar": d.calendar,
        "timezone": None,
        "hours": None,
        "holidays": d.holidays,
        "closures": [],
        "confidence": d.confidence,
        "source_note": d.source_note,
        "escalation": {},
        "created_at": now,
        "updated_at": now,
    }


def seed_defaults(session: Session) -> int:
    """Insert the shipped defaults that are not in the table yet; returns how many were added.

    Idempotent, keyed by (platform, thread kind) among default rows, so an
    edited default is never overwritten and a deleted one comes back only
    if it is missing.
    """
    have = {
        (p, k)
        for p, k in session.execute(
            sa.select(SlaPolicy.platform, SlaPolicy.thread_kind).where(SlaPolicy.is_default.is_(True))
        )
    }
    rows = [default_row(d) for d in POLICY_DEFAULTS if (d.platform, str(d.thread_kind)) not in have]
    if rows:
        session.execute(sa.insert(SlaPolicy), rows)
    session.flush()
    return len(rows)


@dataclass(frozen=True, slots=True)
class Store:
    """The parts of a channel account its calendars are made of."""

    id: int
    timezone: str
    hours: dict[str, str]
    holiday_country: str | None
    holiday_subdiv: str | None
    closures: tuple[date, ...]


def store_of(account: ChannelAccount | sa.Row[Any]) -> Store:
    """The calendar-relevant parts of a channel account (an ORM object or a row with id, timezone, settings)."""
    settings = account.settings or {}
    return Store(
        id=account.id,
        timezone=account.timezone or "UTC",
        hours=settings.get("business_hours") or DEFAULT_STORE_HOURS,
        holiday_country=settings.get("holiday_country"),
        holiday_subdiv=settings.get("holiday_subdiv"),
        closures=tuple(date.fromisoformat(d) for d in settings.get("closures") or ()),
    )


def build_calendar(policy: Policy, store: Store) -> BusinessCalendar:
    """The calendar a policy counts on for one store.

    Store closures count only on business hours: a platform's clock does not
    stop because the seller is away.  The policy's own closures always count.
    """
    timezone = policy.timezone or store.timezone
    if policy.holidays == "none":
        country, subdiv = None, None
    elif policy.holidays == "store":
        country, subdiv = store.holiday_country, store.holiday_subdiv if store.holiday_country else None
    else:
        country, subdiv = policy.holidays, None
    if policy.calendar_kind == "24/7":
        return BusinessCalendar.always(
            timezone, holiday_country=country, holiday_subdiv=subdiv, closures=policy.closures
        )
    if policy.calendar_kind == "business_days":
        hours: dict[str, str] = {"mon-fri": "00:00-24:00"}
        closures = policy.closures
    else:
        hours = policy.hours or store.hours
        closures = policy.closures + store.closures
    return BusinessCalendar.weekly(timezone, hours, holiday_country=country, holiday_subdiv=subdiv, closures=closures)


@functools.cache
def _stores_statement(dialect: str) -> sa.Select[Any]:
    a = ChannelAccount.__table__.c
    return sa.select(a.id, a.timezone, a.settings).where(any_of_param(a.id, "ids", dialect))


class PolicyResolver:
    """Policy and calendar look-ups for one batch or request: each table is read once."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._rows: list[Any] | None = None
        self._by_id: dict[int, Policy] = {}
        self._choice: dict[tuple[int, str, str, str], Policy] = {}
        self._stores: dict[int, Store] = {}
        self._calendars: dict[tuple[int | None, str, int], BusinessCalendar] = {}

    def _policies(self) -> list[Any]:
        if self._rows is None:
            # plain rows, not ORM objects: every ingest batch reads the policies once
            table = SlaPolicy.__table__
            self._rows = list(self._session.connection().execute(sa.select(table).where(table.c.enabled.is_(True))))
            self._by_id = {row.id: from_row(row) for row in self._rows}
        return self._rows

    def by_id(self, policy_id: int | None, platform: str | None, thread_kind: str | None = None) -> Policy:
        """A clock's policy; a deleted or disabled one falls back to a fresh choice."""
        self._policies()
        if policy_id is not None and policy_id in self._by_id:
            return self._by_id[policy_id]
        key = (-1, platform or "", "", thread_kind or "")
        found = self._choice.get(key)
        if found is None:
            found = self._choice[key] = from_default(default_policy(platform, thread_kind))
        return found

    def choose(self, account_id: int, platform: str | None, priority: str | None, thread_kind: str | None) -> Policy:
        key = (account_id, platform or "", priority or "", thread_kind or "")
        found = self._choice.get(key)
        if found is None:
            found = self._choice[key] = self._choose(
                account_id, normalize_platform(platform), priority or "normal", thread_kind or ThreadKind.MESSAGE
            )
        return found

    def _choose(self, account_id: int, platform: str, priority: str, kind: str) -> Policy:
        rows = self._policies()
        for plat, knd in (
            (platform, kind),
            (platform, ThreadKind.MESSAGE),
            (GENERIC_PLATFORM, kind),
            (GENERIC_PLATFORM, ThreadKind.MESSAGE),
        ):
            best: tuple[int, int] | None = None
            best_row = None
            for row in rows:
                if row.channel_account_id is not None and row.channel_account_id != account_id:
                    continue
                if row.platform is not None and normalize_platform(row.platform) != plat:
                    continue
                if row.priority is not None and row.priority != priority:
                    continue
                if row.thread_kind is not None and row.thread_kind != knd:
                    continue
                score = (
                    8 * (row.channel_account_id is not None)
                    + 4 * (row.platform is not None)
                    + 2 * (row.priority is not None)
                    + (row.thread_kind is not None)
                )
                rank = (score, -row.id)
                if best is None or rank > best:
                    best, best_row = rank, row
            if best_row is not None:
                return self._by_id[best_row.id]
        return from_default(default_policy(platform, kind))

    def store(self, account_id: int) -> Store:
        found = self._stores.get(account_id)
        if found is None:
            account = self._session.get(ChannelAccount, account_id)
            if account is None:
                found = Store(account_id, "UTC", DEFAULT_STORE_HOURS, None, None, ())
            else:
                found = store_of(account)
            self._stores[account_id] = found
        return found

    def preload_stores(self, account_ids: set[int]) -> None:
        missing = account_ids - self._stores.keys()
        if missing:
            conn = self._session.connection()
            dialect = conn.dialect.name
            for row in conn.execute(_stores_statement(dialect), {"ids": list_param(missing, dialect)}):
                self._stores[row.id] = store_of(row)

    def calendar(self, policy: Policy, account_id: int) -> BusinessCalendar:
        key = (policy.id, policy.name, account_id)
        found = self._calendars.get(key)
        if found is None:
            found = self._calendars[key] = build_calendar(policy, self.store(account_id))
        return found
