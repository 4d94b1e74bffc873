"""Order services: store what marketplaces report, in sets, and link customers and tickets.

A poll page or a webhook may carry thousands of orders, so they are stored
the way the ingestion pipeline stores messages: one look-up of what exists,
bulk inserts and updates, one statement that links waiting tickets.
Notifications arrive out of order: a record older than the stored one
(by the platform's ``updated_at``) changes nothing.  Each order's buyer
becomes (or joins) a customer by the same exact identity keys messages use,
so the relay mail of an Amazon buyer and their SP-API order meet on one
customer record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels.base import CustomerRecord, OrderRecord, Party
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.customers.models import Customer, CustomerIdentity
from helpdesk.db import any_of, bulk_insert, bulk_update, utcnow
from helpdesk.events import publish
from helpdesk.ingest.batch import select_by_pairs
from helpdesk.ingest.customers import UNKNOWN_SENDER, identity_keys
from helpdesk.orders.models import Order, OrderLine
from helpdesk.tickets.models import Ticket


class UnknownAccount(ValueError):
    """A record names a channel account that does not exist."""


@dataclass
class OrderUpsert:
    """What one call stored: new and changed order ids, and records skipped as older than ours."""

    created: int = 0
    updated: int = 0
    stale: int = 0
    order_ids: list[int] | None = None


def _account_ids(session: Session, names: set[str]) -> dict[str, int]:
    rows = session.execute(sa.select(ChannelAccount.name, ChannelAccount.id).where(ChannelAccount.name.in_(names)))
    found: dict[str, int] = {row[0]: row[1] for row in rows}
    missing = sorted(names - set(found))
    if missing:
        raise UnknownAccount(f"no channel account named {missing[0]!r}")
    return found


def resolve_parties(session: Session, parties: Sequence[tuple[Party, str]], now: datetime) -> list[int | None]:
    """A customer id per (party, platform), creating customers for parties nobody knows yet.

    Exact keys only (platform id, e-mail, phone), like the pipeline; a party
    without any key gets no customer.  Keys the found customer lacks are added.
    """
    keys_of = [identity_keys(party, platform) for party, platform in parties]
    wanted = {(scheme, value) for keys in keys_of for scheme, value, _ in keys}
    ident = CustomerIdentity.__table__.c
    known: dict[tuple[str, str], int] = {}
    for scheme, value, customer_id in select_by_pairs(
        session.connection(), (ident.scheme, ident.value, ident.customer_id), ident.scheme, ident.value, wanted
    ):
        known[(scheme, value)] = customer_id
    out: list[int | None] = []
    pending_new: list[tuple[Party, list[tuple[str, str, str | None]]]] = []
    new_index: dict[tuple[str, str], int] = {}  # key → index into pending_new
    slots: list[tuple[str, int]] = []  # ("id", customer id) or ("new", index)
    for (party, _platform), keys in zip(parties, keys_of, strict=True):
        if not keys:
            slots.append(("none", 0))
            continue
        existing = sorted({known[(s, v)] for s, v, _ in keys if (s, v) in known})
        if existing:
            slots.append(("id", existing[0]))
            continue
        index = next((new_index[(s, v)] for s, v, _ in keys if (s, v) in new_index), None)
        if index is None:
            index = len(pending_new)
            pending_new.append((party, []))
        for s, v, d in keys:
            if (s, v) not in new_index:
                new_index[(s, v)] = index
                pending_new[index][1].append((s, v, d))
        slots.append(("new", index))
    new_ids = bulk_insert(
        session.connection(),
        Customer.__table__,
        [
            {
                "display_name": (party.name or party.email or party.platform_id or UNKNOWN_SENDER)[:200],
                "email": party.email.strip().lower()[:254] if party.email else None,
                "phone": party.phone,
                "country": (party.country or "")[:2].upper() or None,
                "language": None,
                "notes": "",
                "created_at": now,
                "updated_at": now,
            }
            for party, _ in pending_new
        ],
        return_ids=True,
    )
    identity_rows = [
        {"customer_id": new_id, "scheme": s, "value": v, "display_name": d, "created_at": now}
        for new_id, (_party, keys) in zip(new_ids, pending_new, strict=True)
        for s, v, d in keys
    ]
    # keys an existing customer lacks (an order brings the e-mail of a buyer known by platform id)
    added: set[tuple[str, str]] = set()
    for (kind, value), keys in zip(slots, keys_of, strict=True):
        if kind != "id":
            continue
        for s, v, d in keys:
            if (s, v) not in known and (s, v) not in added:
                added.add((s, v))
                identity_rows.append(
                    {"customer_id": value, "scheme": s, "value": v, "display_name": d, "created_at": now}
                )
    bulk_insert(session.connection(), CustomerIdentity.__table__, identity_rows)
    if new_ids:
        publish(session, "customer.created", {"customer_ids": new_ids})
    for kind, value in slots:
        out.append(value if kind == "id" else new_ids[value] if kind == "new" else None)
    return out


def _order_row(rec: OrderRecord, now: datetime) -> dict[str, Any]:
    return {
        "platform": rec.platform,
        "status": rec.status[:40],
        "currency": rec.currency[:3],
        "total": rec.total,
        "site": rec.site,
        "placed_at": rec.placed_at,
        "updated_at": rec.updated_at,
        "shipping_address": dict(rec.shipping_address),
        "carrier": rec.carrier,
        "tracking_number": rec.tracking_number,
        "shipped_at": rec.shipped_at,
        "synced_at": now,
    }


def _newest(records: Iterable[OrderRecord]) -> dict[tuple[str, str], OrderRecord]:
    """One record per (account, order number): a page or a burst of pushes may carry an order twice."""
    latest: dict[tuple[str, str], OrderRecord] = {}
    for rec in records:
        key = (rec.account, rec.order_number)
        old = latest.get(key)
        if old is None or old.updated_at is None or (rec.updated_at is not None and rec.updated_at >= old.updated_at):
            latest[key] = rec
    return latest


def upsert_orders(session: Session, records: Iterable[OrderRecord]) -> OrderUpsert:
    """Insert or update orders by (account, order number); link their customers and waiting tickets.

    Takes ingest's write lock first: a webhook and a poll bringing the same
    new buyer at once would otherwise both miss the identity in their
    look-ups and collide on its unique key.
    """
    from helpdesk.ingest.pipeline import take_write_lock

    latest = _newest(records)
    result = OrderUpsert(order_ids=[])
    if not latest:
        return result
    take_write_lock(session)
    now = utcnow()
    accounts = _account_ids(session, {account for account, _ in latest})
    conn = session.connection()
    o = Order.__table__.c
    existing: dict[tuple[int, str], tuple[int, datetime | None, int | None]] = {}
    for row in select_by_pairs(
        conn,
        (o.channel_account_id, o.order_number, o.id, o.updated_at, o.customer_id),
        o.channel_account_id,
        o.order_number,
        {(accounts[a], n) for a, n in latest},
    ):
        existing[(row.channel_account_id, row.order_number)] = (row.id, row.updated_at, row.customer_id)
    new: list[tuple[OrderRecord, int]] = []
    changed: list[tuple[OrderRecord, int, int, int | None]] = []  # record, account, order id, customer id
    for (account, number), rec in latest.items():
        account_id = accounts[account]
        known = existing.get((account_id, number))
        if known is None:
            new.append((rec, account_id))
        elif known[1] and rec.updated_at and rec.updated_at < known[1]:
            result.stale += 1  # an older notification arriving late changes nothing
        else:
            changed.append((rec, account_id, known[0], known[2]))
    unlinked = [(rec.buyer, rec.platform) for rec, _ in new]
    unlinked += [(rec.buyer, rec.platform) for rec, _, _, customer_id in changed if customer_id is None]
    found = iter(resolve_parties(session, unlinked, now))
    inserts = [
        {**_order_row(rec, now), "channel_account_id": account_id, "order_number": rec.order_number[:64],
         "customer_id": next(found), "created_at": now}
        for rec, account_id in new
    ]  # fmt: skip
    updates = [
        {**_order_row(rec, now), "customer_id": customer_id if customer_id is not None else next(found), "id": order_id}
        for rec, _, order_id, customer_id in changed
    ]
    new_ids = bulk_insert(conn, Order.__table__, inserts, return_ids=True)
    bulk_update(conn, Order.__table__, updates)
    lines = OrderLine.__table__
    if changed:
        conn.execute(sa.delete(lines).where(any_of(lines.c.order_id, [c[2] for c in changed], conn.dialect.name)))
    stored = [(order_id, rec, account_id) for order_id, (rec, account_id) in zip(new_ids, new, strict=True)]
    stored += [(order_id, rec, account_id) for rec, account_id, order_id, _ in changed]
    bulk_insert(
        conn,
        lines,
        [
            {"order_id": order_id, "sku": line.sku, "title": line.title[:500], "quantity": line.quantity,
             "unit_price": line.unit_price, "external_id": line.external_id}
            for order_id, rec, _ in stored
            for line in rec.lines
        ],
    )  # fmt: skip
    _link_tickets(session, {(rec.platform, rec.order_number) for _, rec, _ in stored})
    for order_id, rec, account_id in stored:
        payload = {"order_id": order_id, "channel_account_id": account_id, "order_number": rec.order_number}
        publish(session, "order.updated", payload)
    result.created, result.updated = len(new), len(changed)
    result.order_ids = [order_id for order_id, _, _ in stored]
    return result


def _link_tickets(session: Session, pairs: set[tuple[str, str]]) -> None:
    """Tickets that mention one of these orders and are not linked yet get linked (oldest order wins)."""
    if not pairs:
        return
    conn = session.connection()
    dialect = conn.dialect.name
    t = Ticket.__table__
    o = Order.__table__
    match = (
        sa.select(o.c.id)
        .where(o.c.platform == t.c.platform, o.c.order_number == t.c.order_number)
        .order_by(o.c.id)
        .limit(1)
        .scalar_subquery()
    )
    numbers = sorted({number for _, number in pairs})
    conn.execute(
        sa.update(t)
        .where(t.c.order_id.is_(None), any_of(t.c.order_number, numbers, dialect))
        .values(order_id=match)
        .execution_options(synchronize_session=False)
    )


def upsert_customers(session: Session, records: Iterable[CustomerRecord]) -> list[int]:
    """Customers as a platform describes them: linked by exact keys, newest name and language kept."""
    recs = list(records)
    if not recs:
        return []
    now = utcnow()
    ids = resolve_parties(session, [(rec.party, rec.platform) for rec in recs], now)
    # One executemany per shape of row (name and/or language given): a statement per customer cost about
    # 0.3 ms each, a second for a page of Shopify customers.
    merged: dict[int, dict[str, Any]] = {}
    for rec, customer_id in zip(recs, ids, strict=True):
        if customer_id is None:
            continue
        values = merged.setdefault(customer_id, {"id": customer_id, "updated_at": now})
        if rec.party.name:  # a later record of the same customer wins, field by field
            values["display_name"] = rec.party.name[:200]
        if rec.locale:
            values["language"] = rec.locale[:16]
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for values in merged.values():
        shapes.setdefault(tuple(sorted(values)), []).append(values)
    connection = session.connection()
    for rows in shapes.values():
        bulk_update(connection, Customer.__table__, rows)
    return [i for i in ids if i is not None]
