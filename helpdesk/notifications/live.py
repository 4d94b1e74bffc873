"""The live push of a new notification to its person's own Socket.IO room (``user:<id>``).

Only that person's connections join the room (see :mod:`helpdesk.realtime`),
so nobody hears about another's notifications; the page then asks for the
count itself, which stays right however many pushes it missed.  Like every
relayed event it goes to this process's own clients only: each web process
relays the outbox to its own (see :mod:`helpdesk.realtime`).
"""

from __future__ import annotations

from helpdesk.events import Payload, listen_batch
from helpdesk.extensions import socketio


@listen_batch("notification.created")
def _push(name: str, payloads: list[Payload]) -> None:
    for payload in payloads:
        socketio.emit(name, {"event": name, **payload}, to=f"user:{payload['user_id']}", ignore_queue=True)
