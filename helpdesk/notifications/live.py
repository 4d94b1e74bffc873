"""The live push of a person's notification changes to their own Socket.IO room (``user:<id>``).

Only that person's connections join the room (see :mod:`helpdesk.realtime`),
so nobody hears about another's notifications.  A new notification makes the
page ask for the count itself, which stays right however many pushes it
missed; a read carries the count after it, so every open tab of the person
shows what one tab just read.  Like every relayed event these go to this
process's own clients only: each web process relays the outbox to its own
(see :mod:`helpdesk.realtime`).
"""

from __future__ import annotations

from helpdesk.events import Payload, listen_batch
from helpdesk.extensions import socketio


@listen_batch("notification.created")
def _push(name: str, payloads: list[Payload]) -> None:
    for payload in payloads:
        socketio.emit(name, {"event": name, **payload}, to=f"user:{payload['user_id']}", ignore_queue=True)


@listen_batch("notification.read")
def _push_count(name: str, payloads: list[Payload]) -> None:
    # Events come in commit order: a person's last one in the batch holds their current count.
    latest = {payload["user_id"]: payload for payload in payloads}
    for user_id, payload in latest.items():
        socketio.emit(name, {"event": name, **payload}, to=f"user:{user_id}", ignore_queue=True)
