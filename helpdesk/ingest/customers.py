"""Step 3: find or create the customer of each message by exact identity keys.

Keys are (scheme, value): ("email", address), ("phone", +digits) or
(platform, buyer id).  A message whose keys belong to two existing customers
proves they are one person, so those customers are merged (the older record
wins).  Fuzzy look-alikes are never merged here; they are suggested later by
a background job.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from channels.base import Direction, Party
from helpdesk.customers.models import CustomerIdentity
from helpdesk.ingest.batch import CustomerSlot, Item, select_by_pairs

_NOT_DIGITS = re.compile(r"[^\d]")
UNKNOWN_SENDER = "Unknown sender"


def normalise_phone(phone: str) -> str | None:
    """``+49 (30) 1234-567`` → ``+49301234567``; None when too short to identify anyone."""
    digits = _NOT_DIGITS.sub("", phone)
    if len(digits) < 6:
        return None
    return ("+" if phone.strip().startswith("+") else "") + digits


def identity_keys(party: Party, platform: str) -> list[tuple[str, str, str | None]]:
    """The exact keys of ``party``: (scheme, normalised value, display name)."""
    keys: list[tuple[str, str, str | None]] = []
    if party.platform_id and party.platform_id.strip():
        keys.append((platform, party.platform_id.strip()[:254], party.name))
    if party.email and party.email.strip():
        keys.append(("email", party.email.strip().lower()[:254], party.name))
    if party.phone and (phone := normalise_phone(party.phone)):
        keys.append(("phone", phone, party.name))
    return keys


def _party(item: Item) -> Party:
    msg = item.msg
    if msg.direction is Direction.OUT and msg.recipient is not None:
        return msg.recipient
    return msg.sender


def resolve_customers(session: Session, items: list[Item]) -> list[CustomerSlot]:
    """Attach a CustomerSlot to every item; return the slots of new customers."""
    per_item = [identity_keys(_party(item), item.platform or item.msg.channel) for item in items]
    wanted = {(scheme, value) for keys in per_item for scheme, value, _ in keys}
    known: dict[tuple[str, str], CustomerSlot] = {}
    slots_by_id: dict[int, CustomerSlot] = {}
    ident = CustomerIdentity.__table__.c
    rows = select_by_pairs(
        session.connection(), (ident.scheme, ident.value, ident.customer_id), ident.scheme, ident.value, wanted
    )
    for scheme, value, customer_id in rows:
        slot = slots_by_id.setdefault(customer_id, CustomerSlot(id=customer_id))
        known[(scheme, value)] = slot

    new_slots: list[CustomerSlot] = []
    for item, keys in zip(items, per_item, strict=True):
        party = _party(item)
        found: list[CustomerSlot] = []
        for scheme, value, _ in keys:
            slot = known.get((scheme, value))
            if slot is not None:
                slot = slot.resolved()
            if slot is not None and slot not in found:
                found.append(slot)
        if not found:
            slot = CustomerSlot(
                id=None,
                name=party.name or party.email or party.platform_id or UNKNOWN_SENDER,
                email=party.email.strip().lower() if party.email else None,
                phone=party.phone,
                country=(party.country or item.msg.site or "")[:2].upper() or None,
                language=item.msg.language or item.account.default_language,
            )
            new_slots.append(slot)
        else:
            # Existing customers first (oldest id wins), then slots new in this batch.
            found.sort(key=lambda s: (s.id is None, s.id or 0))
            slot = found[0]
            for other in found[1:]:
                _absorb(slot, other, known)
        for scheme, value, display in keys:
            if (scheme, value) not in known:
                known[(scheme, value)] = slot
                slot.new_keys.append((scheme, value, display))
        item.customer = slot
    return [s for s in new_slots if s.absorbed_into is None]


def _absorb(keep: CustomerSlot, drop: CustomerSlot, known: dict[tuple[str, str], CustomerSlot]) -> None:
    """Fold ``drop`` into ``keep``: same person, proven by a shared exact key."""
    if drop.id is not None:
        keep.merged_ids.add(drop.id)
    keep.merged_ids |= drop.merged_ids
    keep.new_keys.extend(drop.new_keys)
    drop.new_keys = []
    for key, slot in list(known.items()):
        if slot is drop:
            known[key] = keep
    drop.absorbed_into = keep
