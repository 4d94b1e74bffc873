"""Socket.IO: authenticated connections, rooms, and listeners that emit.

Rooms keep agents to what they may see: ``account:<id>`` for each channel
account a user's teams cover (leads and admins join ``all``), ``ticket:<id>``
for an open ticket page, ``user:<id>`` for personal notices.  Events reach
the emitting listener through the outbox relay of *this* process, after
their commit, so a client never hears of a row it cannot load yet, and an
event committed by any other process (worker, CLI import, another web
server) reaches it too.  Each web process relays every event to its own
clients only: with a Redis message queue, emitting through the queue would
hand each browser one copy per web process.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, request
from flask_login import current_user
from flask_socketio import emit, join_room, leave_room

from helpdesk.events import Payload, listen_batch
from helpdesk.extensions import db, socketio
from helpdesk.signin.cookie import lifetimes, this_record
from helpdesk.signin.records import still_live


def rooms_for(payload: Payload) -> list[str]:
    """The rooms that may hear about an event on this account, and the open pages of its ticket.

    An event goes out once to all of them together, so a browser in several
    (a lead in ``all`` with the ticket open) hears it once.
    """
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
    from helpdesk.signin.totp import must_set_up

    if must_set_up(db.session, current_user):
        return False  # like every page, live updates wait until required two-factor sign-in is set up

    record = this_record()
    if record is not None:
        _session_of[request.sid] = record.id  # type: ignore[attr-defined]
    _ensure_relay()
    join_room(f"user:{current_user.id}")
    visible = visible_account_ids(current_user)
    if visible is None:
        join_room("all")
    else:
        for account_id in visible:
            join_room(f"account:{account_id}")
    return True


def _ensure_relay() -> None:
    """A process that has browsers connected relays the outbox to them (started once, on the first)."""
    from helpdesk.outbox.relay import relay_for

    relay = relay_for(current_app._get_current_object())  # type: ignore[attr-defined]
    if not relay.immediate and not relay.running:
        relay.start()


def _audience() -> dict[str, Any]:
    """The rooms this process's own clients joined.

    Every web process relays every event to its own clients (see the module
    docstring), so rooms nobody here joined are skipped: an import of 50,000
    messages should not serialise 50,000 payloads for an empty inbox.
    """
    server = socketio.server
    if server is None:
        return {}
    return server.manager.rooms.get("/", {})


# The session record each of this process's sockets was opened under: a socket outlives the page that
# opened it, so when its session ends (sign-out, "end", expiry) it is closed before the next event goes out.
_session_of: dict[str, int] = {}


def _close_ended_sessions() -> None:
    if not _session_of:
        return
    live = still_live(db.session, set(_session_of.values()), lifetimes())
    for sid, record_id in list(_session_of.items()):
        if record_id not in live:
            _session_of.pop(sid, None)
            socketio.server.disconnect(sid, namespace="/", ignore_queue=True)


@listen_batch(
    "ticket.created",
    "ticket.updated",
    "ticket.reopened",
    "message.received",
    "message.created",
    "message.delivery",
    "message.translated",
    "sla.warning",
    "sla.breached",
)
def _emit(name: str, payloads: list[Payload]) -> None:
    _close_ended_sessions()
    audience = _audience()
    if not audience:
        return  # nobody is connected to this process: an import costs one call per event name
    for payload in payloads:
        rooms = [room for room in rooms_for(payload) if audience.get(room)]
        if rooms:
            socketio.emit(name, {"event": name, **payload}, to=rooms, ignore_queue=True)


# --- ticket pages: presence, typing ----------------------------------------------------------------
# Presence is announced, not stored: a joining client says "join", those already there answer "here",
# a leaving one says "leave".  Nothing is kept per ticket, so it works across processes through the
# message queue; each process only remembers which ticket rooms its own connections are in.

_ticket_rooms: dict[str, set[int]] = {}


def _may_see_ticket(ticket_id: Any) -> int | None:
    """The ticket id if the connected user may see that ticket, else None."""
    if not current_user.is_authenticated or not isinstance(ticket_id, int):
        return None
    from helpdesk.accounts.services import visible_account_ids
    from helpdesk.extensions import db
    from helpdesk.tickets.models import Ticket

    account_id = db.session.scalar(sa.select(Ticket.channel_account_id).where(Ticket.id == ticket_id))
    if account_id is None:
        return None
    visible = visible_account_ids(current_user)
    return ticket_id if visible is None or account_id in visible else None


def _me(ticket_id: int, state: str) -> dict[str, Any]:
    return {"ticket_id": ticket_id, "user_id": current_user.id, "name": current_user.name, "state": state}


@socketio.on("ticket.join")
def _ticket_join(data: Any) -> bool:
    ticket_id = _may_see_ticket((data or {}).get("ticket_id"))
    if ticket_id is None:
        return False
    join_room(f"ticket:{ticket_id}")
    _ticket_rooms.setdefault(request.sid, set()).add(ticket_id)  # type: ignore[attr-defined]
    emit("presence", _me(ticket_id, "join"), to=f"ticket:{ticket_id}", include_self=False)
    return True


def _in_room(data: Any) -> int | None:
    ticket_id = (data or {}).get("ticket_id")
    rooms = _ticket_rooms.get(request.sid, set())  # type: ignore[attr-defined]
    return ticket_id if ticket_id in rooms else None


@socketio.on("ticket.here")
def _ticket_here(data: Any) -> None:
    ticket_id = _in_room(data)
    if ticket_id is not None:
        emit("presence", _me(ticket_id, "here"), to=f"ticket:{ticket_id}", include_self=False)


@socketio.on("ticket.typing")
def _ticket_typing(data: Any) -> None:
    ticket_id = _in_room(data)
    if ticket_id is not None:
        emit("typing", _me(ticket_id, "typing"), to=f"ticket:{ticket_id}", include_self=False)


@socketio.on("ticket.leave")
def _ticket_leave(data: Any) -> None:
    ticket_id = _in_room(data)
    if ticket_id is not None:
        _ticket_rooms[request.sid].discard(ticket_id)  # type: ignore[attr-defined]
        leave_room(f"ticket:{ticket_id}")
        emit("presence", _me(ticket_id, "leave"), to=f"ticket:{ticket_id}", include_self=False)


@socketio.on("disconnect")
def _disconnect(*_args: Any) -> None:
    _session_of.pop(request.sid, None)  # type: ignore[attr-defined]
    for ticket_id in _ticket_rooms.pop(request.sid, set()):  # type: ignore[attr-defined]
        if current_user.is_authenticated:
            emit("presence", _me(ticket_id, "leave"), to=f"ticket:{ticket_id}", include_self=False)
