"""A store's glossary: brand and product names no translation may change.

Terms are kept per store (a brand of one shop is a plain word for another)
and handed to the round trip, which masks them or, for DeepL with a known
source language, uploads them as a DeepL glossary.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from helpdesk.accounts.admin_services import audit
from helpdesk.accounts.models import User
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.translation.base import Glossary
from helpdesk.translation.models import GlossaryTerm

MAX_TERM = 200


class GlossaryInvalid(ValueError):
    """A term that cannot be kept; the message says why."""


def terms(session: Session, store_id: int) -> list[GlossaryTerm]:
    return list(
        session.scalars(
            sa.select(GlossaryTerm).where(GlossaryTerm.channel_account_id == store_id).order_by(GlossaryTerm.term)
        )
    )


def for_store(session: Session, store_id: int | None) -> Glossary | None:
    """The store's glossary for one request (None when the store has no terms)."""
    if store_id is None:
        return None
    store = session.get(ChannelAccount, store_id)
    found = tuple(t.term for t in terms(session, store_id))
    return Glossary(store.name if store else str(store_id), found) if found else None


def add_terms(session: Session, actor: User | None, store: ChannelAccount, text: str) -> list[str]:
    """Add each line (or comma-separated name) of ``text``; the terms added (known ones are skipped)."""
    wanted = [t.strip() for line in text.splitlines() for t in line.split(",")]
    first: dict[str, str] = {}
    for t in wanted:
        if t:
            first.setdefault(t.lower(), t)  # the first spelling of a name given twice
    wanted = list(first.values())
    if not wanted:
        raise GlossaryInvalid(_("Enter at least one brand or product name."))
    too_long = [t for t in wanted if len(t) > MAX_TERM]
    if too_long:
        raise GlossaryInvalid(
            _("A name may have at most %(n)s characters: %(term)s", n=MAX_TERM, term=too_long[0][:40])
        )
    known = {t.term.lower() for t in terms(session, store.id)}
    added = [t for t in wanted if t.lower() not in known]
    session.add_all(GlossaryTerm(channel_account_id=store.id, term=t) for t in added)
    if added:
        audit(session, actor, "translation.glossary_added", {"store": store.name, "terms": added})
    session.flush()
    return added


def remove_term(session: Session, actor: User | None, store: ChannelAccount, term_id: int) -> str | None:
    """Remove one term of ``store``; its text, or None when the store has no such term."""
    row = session.get(GlossaryTerm, term_id)
    if row is None or row.channel_account_id != store.id:
        return None
    session.delete(row)
    audit(session, actor, "translation.glossary_removed", {"store": store.name, "terms": [row.term]})
    session.flush()
    return row.term
