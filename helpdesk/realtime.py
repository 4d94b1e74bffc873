"""Socket.IO: authenticated connections, rooms, and listeners that emit.

Rooms keep agents to what they may see: ``account:<id>`` for each channel
account a user's teams cover (leads and admins join ``all``), ``ticket:<id>``
for an open ticket page, ``user:<id>`` for personal notices.  Listeners run
after commit, so a client never hears of a row it cannot load yet.
"""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_socketio import join_room

from helpdesk.events import Payload, listen
from helpdesk.extensions import socketio


def rooms_for(payload: Payload) -> list[str]:
    """The rooms that may hear about an event on this ticket or account."""
    rooms = ["all"]
    if payload.get("channel_account_id") is not None:
        rooms.append(f"account:{payload['channel_account_id']}")
    if payload.get("ticket_id") is not None:
        rooms.append(f"ticket:{payload['ticket_id']}")
    return rooms


@socketio.on("connect")
def _connect(auth: Any = None) -> bool:
    if not current_user.is_authenticated:
        return False  # refuse anonymous sockets
    from helpdesk.accounts.services import visible_account_ids

    join_room(f"user:{current_user.id}")
    visible = visible_account_ids(current_user)
    if visible is None:
        join_room("all")
    else:
        for account_id in visible:
            join_room(f"account:{account_id}")
    return True


def _audience() -> dict[str, Any] | None:
    """The rooms with listeners in this process, or None when anyone anywhere may listen.

    With a message queue other processes may hold listeners, so every emit
    goes out; in one process, rooms nobody joined are skipped (an import of
    50,000 messages should not serialise 50,000 payloads for an empty inbox).
    """
    server = socketio.server
    if server is None:
        return {}
    if socketio.server_options.get("client_manager") is not None:
        return None
    return server.manager.rooms.get("/", {})


@listen(
    "ticket.created", "ticket.updated", "ticket.reopened", "message.received", "message.created", "message.delivery"
)
def _emit(name: str, payload: Payload) -> None:
    audience = _audience()
    if audience is not None and not audience:
        return
    data = {"event": name, **payload}
    for room in rooms_for(payload):
        if room.startswith("ticket:"):
            continue  # account rooms already reach every viewer allowed to see it
        if audience is None or audience.get(room):
            socketio.emit(name, data, to=room)
