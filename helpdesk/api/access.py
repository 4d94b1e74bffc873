"""What the token's user may see, for every API resource: the UI's rules, answered 404 when not allowed.

A 403 would confirm that a ticket or customer exists in a store the caller
may not see; 404 says nothing.  Resources call these instead of re-deriving
the rules, so the API and the UI cannot drift apart.
"""

from __future__ import annotations

from flask import g

from helpdesk.accounts.models import User
from helpdesk.accounts.services import visible_account_ids
from helpdesk.api.errors import ApiError
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket


def caller() -> User:
    """The user the request's token acts for."""
    return g.api_user


def visible_ids() -> set[int] | None:
    """Channel account ids the caller sees; None means every one (leads and admins)."""
    if "api_visible_ids" not in g:
        g.api_visible_ids = visible_account_ids(caller())
    return g.api_visible_ids


def may_see_account(account_id: int | None) -> bool:
    visible = visible_ids()
    return visible is None or (account_id is not None and account_id in visible)


def visible_ticket(ticket_id: int, *, for_update: bool = False) -> Ticket:
    """The ticket if the caller may see it; 404 ``not_found`` otherwise, whether it exists or not."""
    ticket = db.session.get(Ticket, ticket_id, with_for_update=for_update)
    if ticket is None or not may_see_account(ticket.channel_account_id):
        raise ApiError(404, "not_found", f"no ticket {ticket_id}")
    return ticket
