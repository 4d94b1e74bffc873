"""What leads review about the library: gaps, broken placeholders, use, and rule overrides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.macros.models import MacroUsage, PolicyOverride
from helpdesk.macros.services import library
from macros import engine
from macros.model import Macro

SAMPLE = engine.Context(
    customer=engine.Person("Jonas Weber"),
    agent=engine.Person("Lena Lead"),
    store=engine.StoreContext("Lampworks", "Amazon"),
    ticket=engine.TicketContext(1042, "Where is my order?"),
    order=engine.OrderContext(
        number="028-6614302-5519340",
        currency="EUR",
        total=Decimal("64.50"),
        status="Shipped",
        items=(engine.OrderLine("Brass desk lamp", 1, Decimal("64.50"), "LAMP-BR-70"),),
        placed_at=datetime(2026, 1, 4, 21, 7, tzinfo=UTC),
        shipped_at=datetime(2026, 1, 5, 14, 0, tzinfo=UTC),
        carrier="DHL",
        tracking_number="JJD000390007813012",
        tracking_url="https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?tracking-id=JJD000390007813012",
    ),
)


@dataclass(frozen=True)
class Gap:
    macro: Macro
    missing: tuple[str, ...]


def missing_translations(session: Session, locales: tuple[str, ...]) -> list[Gap]:
    gaps = []
    for macro in library(session).values():
        missing = tuple(loc for loc in locales if loc not in macro.bodies or loc not in macro.titles)
        if missing:
            gaps.append(Gap(macro, missing))
    return sorted(gaps, key=lambda g: (-len(g.missing), g.macro.key))


@dataclass(frozen=True)
class Broken:
    macro: Macro
    locale: str
    error: str


def broken_placeholders(session: Session) -> list[Broken]:
    """Locales of a macro that do not render against a full sample ticket (a typo in a variable, say)."""
    found = []
    for macro in library(session).values():
        for locale, body in macro.bodies.items():
            try:
                engine.render(body, SAMPLE, locale)
            except engine.RenderError as exc:
                found.append(Broken(macro, locale, str(exc)))
    return found


@dataclass(frozen=True)
class Use:
    key: str
    user: str
    uses: int
    last: datetime


def usage(session: Session, limit: int = 200) -> list[Use]:
    rows = session.execute(
        sa.select(MacroUsage.macro_key, User.name, sa.func.count(MacroUsage.id), sa.func.max(MacroUsage.used_at))
        .outerjoin(User, User.id == MacroUsage.user_id)
        .group_by(MacroUsage.macro_key, User.name)
        .order_by(sa.func.count(MacroUsage.id).desc())
        .limit(limit)
    )
    return [Use(key, name or "—", int(n), last) for key, name, n, last in rows]


def policy_overrides(session: Session, limit: int = 100) -> list[tuple[PolicyOverride, str]]:
    rows = session.execute(
        sa.select(PolicyOverride, User.name)
        .outerjoin(User, User.id == PolicyOverride.user_id)
        .order_by(PolicyOverride.at.desc())
        .limit(limit)
    )
    return [(row, name or "—") for row, name in rows]
