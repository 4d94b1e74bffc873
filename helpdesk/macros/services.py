"""Macros for agents: the library as this desk has it, search, rendering for a ticket, actions, usage.

The library an agent sees is the shipped files merged with the desk's own
macros: a stored macro with a shipped key replaces that file's macro (an
override), others add to it; retired ones are hidden but kept.  Rendering a
macro for a ticket builds the documented context (customer, order, ticket,
agent, store), picks the buyer's locale with its reason, and reports what
the ticket's marketplace would refuse in the result — all before anything
is inserted, let alone sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from channels import registry
from helpdesk.accounts.models import User
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.customers.models import Customer
from helpdesk.db import utcnow
from helpdesk.macros.models import MacroFavourite, MacroUsage, StoredMacro
from helpdesk.orders.models import Order
from helpdesk.tickets.models import Message, Ticket
from macros import engine
from macros.library import macro_from, shipped
from macros.locale import LocaleChoice, choose
from macros.model import Macro, MacroError
from macros.policy import Violation, check_reply
from macros.search import MacroIndex
from macros.tracking import tracking_url

PLATFORM_NAMES = {
    "amazon": "Amazon",
    "ebay": "eBay",
    "shopify": "Shopify",
    "walmart": "Walmart",
    "aliexpress": "AliExpress",
    "shopee": "Shopee",
    "lazada": "Lazada",
    "tiktok": "TikTok Shop",
    "mercadolibre": "Mercado Libre",
    "etsy": "Etsy",
    "allegro": "Allegro",
}
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")


# --- the library as this desk has it --------------------------------------------------------------------


def stored_as_macro(row: StoredMacro) -> Macro:
    data: dict[str, Any] = {
        "key": row.key,
        "title": dict(row.titles or {}),
        "description": dict(row.descriptions or {}),
        "body": dict(row.bodies or {}),
        "tags": list(row.tags or []),
        "platforms": list(row.platforms or []),
        "actions": dict(row.actions or {}),
        "retired": row.retired,
    }
    return macro_from(data, f"macro {row.key}", source=row.source)


_STORED: dict[tuple[str, object, bool], Macro] = {}


def _stored(row: StoredMacro) -> Macro:
    """The Macro of a row, the same object while the row is unchanged (so search indexes stay valid)."""
    key = (row.key, row.updated_at, row.retired)
    macro = _STORED.get(key)
    if macro is None:
        if len(_STORED) > 10_000:
            _STORED.clear()
        macro = _STORED[key] = stored_as_macro(row)
    return macro


def library(session: Session, *, include_retired: bool = False) -> dict[str, Macro]:
    """Every macro agents may use (or, with ``include_retired``, every macro there is), by key."""
    found = dict(shipped())
    for row in session.scalars(sa.select(StoredMacro)):
        found[row.key] = _stored(row)
    if not include_retired:
        found = {k: m for k, m in found.items() if not m.retired}
    return found


def get_macro(session: Session, key: str) -> Macro | None:
    return library(session, include_retired=True).get(key)


# --- editing ---------------------------------------------------------------------------------------------


@dataclass
class MacroInput:
    """A macro as a lead's form gives it: texts per locale, comma-separated lists."""

    key: str
    titles: dict[str, str]
    bodies: dict[str, str]
    descriptions: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    actions: dict[str, Any] = field(default_factory=dict)


def validate(given: MacroInput) -> Macro:
    """The macro ``given`` describes, or MacroError naming what is wrong (a body that does not parse too)."""
    data = {
        "key": given.key,
        "title": {k: v for k, v in given.titles.items() if v.strip()},
        "description": {k: v for k, v in given.descriptions.items() if v.strip()},
        "body": {k: v for k, v in given.bodies.items() if v.strip()},
        "tags": [t.strip().lower() for t in given.tags if t.strip()],
        "platforms": [p.strip() for p in given.platforms if p.strip()],
        "actions": {k: v for k, v in given.actions.items() if v not in (None, "", [], False)},
    }
    macro = macro_from(data, given.key or "the macro", source="custom")
    for locale, body in macro.bodies.items():
        try:
            engine.compile_check(body)
        except engine.RenderError as exc:
            raise MacroError(f"body.{locale}", str(exc)) from None
    return macro


def save(session: Session, given: MacroInput, user: User | None, *, new: bool) -> StoredMacro:
    """Store a custom macro, or an override of a shipped one (same key); flushed, not committed."""
    macro = validate(given)
    row = session.scalar(sa.select(StoredMacro).where(StoredMacro.key == macro.key))
    if new and (row is not None or macro.key in shipped()):
        raise MacroError("key", f"a macro named {macro.key!r} exists already")
    if row is None:
        row = StoredMacro(key=macro.key, source="override" if macro.key in shipped() else "custom")
        session.add(row)
    row.titles = dict(macro.titles)
    row.descriptions = dict(macro.descriptions)
    row.bodies = dict(macro.bodies)
    row.tags = list(macro.tags)
    row.platforms = list(macro.platforms)
    row.actions = actions_data(macro)
    row.updated_by_id = user.id if user else None
    row.updated_at = utcnow()
    session.flush()
    return row


def actions_data(macro: Macro) -> dict[str, Any]:
    a = macro.actions
    data: dict[str, Any] = {"add_tags": list(a.add_tags), "remove_tags": list(a.remove_tags)}
    if a.status:
        data["status"] = a.status
    if a.priority:
        data["priority"] = a.priority
    if a.assign_to_me:
        data["assign_to_me"] = True
    return data


def as_input(macro: Macro, key: str | None = None) -> MacroInput:
    return MacroInput(
        key=key or macro.key,
        titles=dict(macro.titles),
        bodies=dict(macro.bodies),
        descriptions=dict(macro.descriptions),
        tags=list(macro.tags),
        platforms=list(macro.platforms),
        actions=actions_data(macro),
    )


def set_retired(session: Session, key: str, retired: bool, user: User | None) -> None:
    """Hide a macro from agents (a shipped one through an override) or bring it back."""
    row = session.scalar(sa.select(StoredMacro).where(StoredMacro.key == key))
    if row is None:
        macro = shipped().get(key)
        if macro is None:
            raise MacroError(key, "no such macro")
        row = save(session, as_input(macro), user, new=False)
    row.retired = retired
    row.updated_at = utcnow()
    session.flush()


def revert(session: Session, key: str) -> None:
    """Drop a lead's override: the shipped macro is used again."""
    session.execute(sa.delete(StoredMacro).where(StoredMacro.key == key, StoredMacro.source == "override"))


def suggest_key(session: Session, base: str) -> str:
    taken = set(library(session, include_retired=True))
    key = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")[:70] or "macro"
    candidate, n = key, 2
    while candidate in taken:
        candidate, n = f"{key}-{n}", n + 1
    return candidate


# --- search ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    macro: Macro
    score: float
    favourite: bool
    uses: int


def favourites_of(session: Session, user: User) -> set[str]:
    return set(session.scalars(sa.select(MacroFavourite.macro_key).where(MacroFavourite.user_id == user.id)))


def uses_by(session: Session, user: User | None = None) -> dict[str, int]:
    stmt = sa.select(MacroUsage.macro_key, sa.func.count(MacroUsage.id)).group_by(MacroUsage.macro_key)
    if user is not None:
        stmt = stmt.where(MacroUsage.user_id == user.id)
    return {key: int(n) for key, n in session.execute(stmt)}


_INDEXES: dict[tuple[tuple[int, ...], tuple[str, ...]], tuple[tuple[Macro, ...], MacroIndex]] = {}


def index_for(macros: Iterable[Macro], locales: Sequence[str]) -> MacroIndex:
    """The search index of these macros in these languages, built once while they stay the same objects.

    Shipped macros are read once per process and stored ones are reused while
    unchanged (``library``), so the index is rebuilt only when the library changes.
    """
    held = tuple(macros)
    key = (tuple(id(m) for m in held), tuple(dict.fromkeys(locales)))
    cached = _INDEXES.get(key)
    if cached is None:
        if len(_INDEXES) > 32:
            _INDEXES.clear()
        cached = _INDEXES[key] = (held, MacroIndex(held, key[1]))  # holding the macros keeps their ids theirs
    return cached[1]


def search(
    macros: Iterable[Macro],
    query: str,
    locales: Sequence[str],
    *,
    platform: str | None = None,
    favourites: set[str] | frozenset[str] = frozenset(),
    uses: dict[str, int] | None = None,
    limit: int = 20,
) -> list[Found]:
    """Macros for ``query`` in the agent's and the buyer's languages; favourites and the most used first when empty."""
    uses = uses or {}
    macros = tuple(macros)
    if not query.strip():
        suitable = [m for m in macros if m.suits(platform)]
        ranked = sorted(suitable, key=lambda m: (m.key not in favourites, -uses.get(m.key, 0), m.title(locales[0])))
        return [Found(m, 0.0, m.key in favourites, uses.get(m.key, 0)) for m in ranked[:limit]]
    hits = index_for(macros, locales).search(query, limit=limit * 3)
    found = [
        Found(
            h.macro,
            h.score + (5.0 if h.macro.key in favourites else 0.0),
            h.macro.key in favourites,
            uses.get(h.macro.key, 0),
        )
        for h in hits
        if h.macro.suits(platform)
    ]
    found.sort(key=lambda f: (-f.score, -f.uses, f.macro.key))
    return found[:limit]


def toggle_favourite(session: Session, user: User, key: str) -> bool:
    """Mark or unmark; True when it is a favourite now."""
    existing = session.get(MacroFavourite, (user.id, key))
    if existing is not None:
        session.delete(existing)
        session.flush()
        return False
    session.add(MacroFavourite(user_id=user.id, macro_key=key))
    session.flush()
    return True


# --- rendering for a ticket --------------------------------------------------------------------------------


def context_for(session: Session, ticket: Ticket, agent: User) -> engine.Context:
    customer = session.get(Customer, ticket.customer_id)
    account = session.get(ChannelAccount, ticket.channel_account_id)
    order = None
    if ticket.order_id is not None:
        row = session.scalar(sa.select(Order).where(Order.id == ticket.order_id).options(selectinload(Order.lines)))
        if row is not None:
            order = engine.OrderContext(
                number=row.order_number,
                currency=row.currency,
                total=row.total,
                status=row.status,
                items=tuple(
                    engine.OrderLine(title=l.title, quantity=l.quantity, price=l.unit_price, sku=l.sku)
                    for l in row.lines  # noqa: E741 - a line
                ),
                placed_at=row.placed_at,
                shipped_at=row.shipped_at,
                carrier=row.carrier,
                tracking_number=row.tracking_number,
                tracking_url=tracking_url(row.carrier, row.tracking_number),
            )
    platform = ticket.platform or (account.platform if account else None)
    return engine.Context(
        customer=engine.Person(customer.display_name if customer and customer.display_name else ""),
        agent=engine.Person(agent.name),
        store=engine.StoreContext(
            name=account.display_name if account else "", marketplace=PLATFORM_NAMES.get(platform or "", "")
        ),
        ticket=engine.TicketContext(id=ticket.id, subject=ticket.subject),
        order=order,
    )


def detected_language(session: Session, ticket: Ticket) -> str | None:
    """The language the buyer writes in: their latest messages, weighed by the detector."""
    texts = list(
        session.scalars(
            sa.select(sa.func.coalesce(Message.stripped_text, Message.body_text))
            .where(Message.ticket_id == ticket.id, Message.direction == "in", Message.auto.is_(None))
            .order_by(Message.sent_at.desc())
            .limit(5)
        )
    )
    try:
        from macros.language import detect_many
    except ImportError:  # the detector is optional; the ticket's own language is the next best evidence
        return ticket.language
    found = detect_many(texts) if texts else None
    return found.language if found is not None else ticket.language


def choose_locale(session: Session, ticket: Ticket, macro: Macro, chosen: str | None = None) -> LocaleChoice:
    customer = session.get(Customer, ticket.customer_id)
    account = session.get(ChannelAccount, ticket.channel_account_id)
    return choose(
        macro.locales,
        chosen=chosen,
        detected=detected_language(session, ticket),
        customer=customer.language if customer else None,
        site=ticket.site or (account.site if account else None),
        store=account.default_language if account else None,
    )


@dataclass
class Preview:
    macro: Macro
    choice: LocaleChoice
    text: str = ""
    error: str | None = None
    violations: list[Violation] = field(default_factory=list)


def preview(session: Session, ticket: Ticket, agent: User, macro: Macro, locale: str | None = None) -> Preview:
    """The macro rendered for this ticket in the chosen locale, with what the marketplace would refuse."""
    choice = choose_locale(session, ticket, macro, locale)
    result = Preview(macro, choice)
    try:
        result.text = engine.render(macro.bodies[choice.locale], context_for(session, ticket, agent), choice.locale)
    except engine.RenderError as exc:
        result.error = str(exc)
        return result
    from helpdesk.tickets.services import own_numbers

    result.violations = check_reply(
        registry.reply_policy(ticket.platform), result.text, known_numbers=own_numbers(ticket)
    )
    return result


def record_use(session: Session, macro: Macro, locale: str, user: User, ticket: Ticket) -> None:
    session.add(MacroUsage(macro_key=macro.key, locale=locale, user_id=user.id, ticket_id=ticket.id))


def apply_actions(session: Session, ticket: Ticket, macro: Macro, user: User) -> None:
    """What the macro says to do with the ticket (status, priority, tags, assignment)."""
    from helpdesk.tickets import services as tickets

    actions = macro.actions
    if actions.assign_to_me:
        tickets.assign(session, ticket, user.id, user)
    if actions.priority:
        tickets.set_priority(session, ticket, actions.priority, user)
    if actions.add_tags or actions.remove_tags:
        current = [t.tag for t in ticket.tags]
        wanted = [t for t in current if t not in actions.remove_tags] + [
            t for t in actions.add_tags if t not in current
        ]
        tickets.set_tags(session, ticket, wanted, user)
    if actions.status:
        tickets.set_status(session, ticket, actions.status, user)
