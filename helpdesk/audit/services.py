"""Reading the audit log: filters, newest-first keyset pages, and each event as a sentence.

Pages are keyed on the event id (ids grow with time), so the hundredth page
costs what the first does; every filter the page offers is backed by an
index (migration 0012).  ``describe`` turns an event into words a lead can
read without knowing the action names; an action it does not know is still
shown, by its name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.audit.models import AuditEvent

PAGE_SIZE = 50

# Action → (kind label, sentence).  Sentences receive actor, ticket, customer and the event's data.
ACTIONS: dict[str, tuple[Any, Any]] = {
    "ticket.updated": (_l("Ticket changed"), _l("%(actor)s changed ticket #%(ticket)s: %(changes)s")),
    "ticket.merged": (
        _l("Tickets merged"),
        _l("%(actor)s merged ticket #%(source_id)s into #%(target_id)s; messages moved: %(moved)s"),
    ),
    "ticket.merged_from": (
        _l("Tickets merged"),
        _l("%(actor)s merged ticket #%(source_id)s into this ticket #%(ticket)s; messages moved: %(moved)s"),
    ),
    "ticket.unmerged": (
        _l("Merge undone"),
        _l("%(actor)s undid the merge of ticket #%(source_id)s into #%(target_id)s"),
    ),
    "reply.queued": (_l("Reply"), _l("%(actor)s replied on ticket #%(ticket)s")),
    "note.added": (_l("Internal note"), _l("%(actor)s added an internal note to ticket #%(ticket)s")),
    "messaging_action.sent": (
        _l("Marketplace action"),
        _l("%(actor)s sent the marketplace action %(action_name)s on ticket #%(ticket)s"),
    ),
    "customer.merged": (_l("Customers merged"), _l("%(actor)s merged customer #%(merged_id)s into #%(customer)s")),
    "customer.notes": (_l("Customer notes"), _l("%(actor)s edited the notes of customer #%(customer)s")),
    "customer.suggestion_accepted": (
        _l("Customer suggestion accepted"),
        _l("%(actor)s merged the look-alike customers #%(merged_id)s into #%(kept_id)s"),
    ),
    "customer.suggestion_rejected": (
        _l("Customer suggestion rejected"),
        _l("%(actor)s decided customers #%(customer_id)s and #%(candidate_id)s are different people"),
    ),
    "signin.password_link": (
        _l("Set-password link"),
        _l("%(actor)s made a set-password link for %(email)s"),
    ),
    "signin.password_set": (_l("Password set"), _l("%(actor)s set a new password for %(email)s")),
    "signin.throttle_cleared": (_l("Sign-in throttling cleared"), _l("%(actor)s cleared sign-in throttling")),
    "user.created": (_l("User created"), _l("%(actor)s created the user %(email)s (%(role)s)")),
    "user.updated": (_l("User changed"), _l("%(actor)s changed the user %(email)s: %(changes)s")),
    "user.deactivated": (_l("User deactivated"), _l("%(actor)s deactivated the user %(email)s")),
    "user.reactivated": (_l("User reactivated"), _l("%(actor)s reactivated the user %(email)s")),
    "team.created": (_l("Team created"), _l("%(actor)s created the team %(team)s")),
    "team.renamed": (_l("Team renamed"), _l("%(actor)s renamed the team %(old)s to %(team)s")),
    "team.deleted": (_l("Team deleted"), _l("%(actor)s deleted the team %(team)s")),
    "team.member_added": (_l("Team member added"), _l("%(actor)s added %(email)s to the team %(team)s")),
    "team.member_removed": (_l("Team member removed"), _l("%(actor)s removed %(email)s from the team %(team)s")),
    "team.stores_changed": (
        _l("Team stores changed"),
        _l("%(actor)s changed the stores of the team %(team)s: added %(added)s; removed %(removed)s"),
    ),
    "api_token.created": (_l("API token created"), _l("%(actor)s created the API token %(prefix)s… (%(name)s)")),
    "api_token.revoked": (_l("API token revoked"), _l("%(actor)s revoked the API token %(prefix)s… (%(name)s)")),
    "webhook.created": (_l("Webhook created"), _l("%(actor)s subscribed the webhook %(name)s to %(url)s")),
    "webhook.enabled": (_l("Webhook enabled"), _l("%(actor)s enabled the webhook %(name)s")),
    "webhook.disabled": (_l("Webhook disabled"), _l("%(actor)s disabled the webhook %(name)s")),
    "webhook.deleted": (_l("Webhook deleted"), _l("%(actor)s deleted the webhook %(name)s")),
}


@dataclass(frozen=True)
class AuditFilters:
    ticket_id: int | None = None
    actor_id: int | None = None
    action: str | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    timezone: str = "UTC"  # the dates are days in this zone

    def clauses(self) -> list[sa.ColumnElement[bool]]:
        out: list[sa.ColumnElement[bool]] = []
        if self.ticket_id is not None:
            out.append(AuditEvent.ticket_id == self.ticket_id)
        if self.actor_id is not None:
            out.append(sa.and_(AuditEvent.actor_type == "user", AuditEvent.actor_id == self.actor_id))
        if self.action:
            out.append(AuditEvent.action == self.action)
        zone = ZoneInfo(self.timezone)
        if self.date_from is not None:
            out.append(AuditEvent.at >= datetime.combine(self.date_from, time(), zone))
        if self.date_to is not None:
            out.append(AuditEvent.at < datetime.combine(self.date_to + timedelta(days=1), time(), zone))
        return out


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_before: int | None  # pass as ``before`` for the next (older) page; None on the last page


def audit_page(session: Session, filters: AuditFilters, before: int | None = None, limit: int = PAGE_SIZE) -> AuditPage:
    """Up to ``limit`` events older than id ``before``, newest first."""
    stmt = sa.select(AuditEvent).where(*filters.clauses())
    if before is not None:
        stmt = stmt.where(AuditEvent.id < before)
    rows = list(session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(rows, rows[-1].id if more and rows else None)


def user_names(session: Session, events: list[AuditEvent]) -> dict[int, str]:
    """Names of the users the events mention as actors or assignees, in one query."""
    ids = {e.actor_id for e in events if e.actor_type == "user" and e.actor_id is not None}
    ids |= {e.data.get("assignee_id") for e in events if isinstance((e.data or {}).get("assignee_id"), int)}
    if not ids:
        return {}
    return dict(session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all())


def actor_label(event: AuditEvent, names: Mapping[int, str]) -> str:
    if event.actor_type == "user":
        return names.get(event.actor_id or -1) or _("a deleted user")
    if event.actor_type == "system" and (event.data or {}).get("via") == "cli":
        return _("The command line")
    return {"system": _("The helpdesk"), "channel": _("A marketplace"), "api": _("An API client")}.get(
        event.actor_type, event.actor_type
    )


def _names(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or _("nothing")
    return str(value)


def _ticket_changes(data: Mapping[str, Any], names: Mapping[int, str]) -> str:
    parts = []
    for key, value in data.items():
        if key == "status":
            parts.append(_("status %(value)s", value=value))
        elif key == "priority":
            parts.append(_("priority %(value)s", value=value))
        elif key == "tags":
            parts.append(_("tags %(value)s", value=_names(value)))
        elif key == "assignee_id":
            parts.append(_("assigned to %(name)s", name=names.get(value, f"#{value}")) if value else _("unassigned"))
        elif key == "merged_into_id":
            parts.append(_("merged into #%(id)s", id=value))
        elif key == "merged_from_id":
            parts.append(_("#%(id)s merged into it", id=value))
    return "; ".join(parts) or _("details recorded")


def _user_changes(changes: Mapping[str, Any]) -> str:
    labels = {
        "role": _("role"),
        "name": _("name"),
        "locale": _("language"),
        "timezone": _("time zone"),
        "teams": _("teams"),
    }
    return "; ".join(
        f"{labels.get(field, field)} {_names(old)} → {_names(new)}" for field, (old, new) in changes.items()
    ) or _("details recorded")


def describe(event: AuditEvent, names: Mapping[int, str]) -> str:
    """One sentence saying who did what, in the current UI language."""
    data: dict[str, Any] = dict(event.data or {})
    values: dict[str, Any] = {k: _names(v) for k, v in data.items()}
    values.update(actor=actor_label(event, names), ticket=event.ticket_id, customer=event.customer_id)
    if event.action == "ticket.updated":
        values["changes"] = _ticket_changes(data, names)
    elif event.action == "user.updated":
        values["changes"] = _user_changes(data.get("changes") or {})
    elif event.action == "ticket.merged":
        values["moved"] = len(data.get("message_ids") or [])
    elif event.action == "messaging_action.sent":
        values["action_name"] = data.get("action", "")
    known = ACTIONS.get(event.action)
    if known is None:
        return _("%(actor)s: %(action)s", actor=values["actor"], action=event.action)
    try:
        return str(known[1]) % values
    except (KeyError, TypeError, ValueError):  # an older event without a field the sentence wants
        return _("%(actor)s: %(action)s", actor=values["actor"], action=str(known[0]))


def kind_label(action: str) -> str:
    known = ACTIONS.get(action)
    return str(known[0]) if known else action
