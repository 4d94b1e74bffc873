"""Several web processes: an event emitted in one reaches a browser connected to another, through Redis.

The app serves real Socket.IO on a loopback port with ``HELPDESK_REDIS_URL``
set; a signed-in Socket.IO client connects to it.  The other "process" is a
write-only Socket.IO emitter on the same Redis channel, which is exactly
what another web or worker process is to this one.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask_socketio import SocketIO

from tests.conftest import _env, need_service
from tests.services.dovecot import free_port

REDIS_URL = "redis://127.0.0.1:6379/14"
PASSWORD = "correct horse battery"


@pytest.fixture
def served_with_redis(sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    import redis
    from werkzeug.serving import make_server

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError as exc:
        need_service("Redis", str(exc))
    from helpdesk import create_app
    from helpdesk.accounts.services import create_user
    from helpdesk.extensions import db

    path = tmp_path / "helpdesk.db"
    shutil.copyfile(sqlite_template, path)
    app = create_app({**_env(f"sqlite:///{path}"), "HELPDESK_REDIS_URL": REDIS_URL}, instance_path=tmp_path)
    from helpdesk.extensions import socketio

    assert socketio.server_options.get("client_manager") is not None  # rooms live in Redis, not in this process
    with app.app_context():
        create_user(db.session, "lead@example.test", "Lena", PASSWORD, role="lead")
        db.session.commit()
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)
    with app.app_context():
        db.engine.dispose()


def test_event_from_another_process_reaches_a_connected_agent(served_with_redis: str) -> None:
    import requests
    import socketio

    base = served_with_redis
    http = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(f"{base}/login").text)
    assert token is not None
    http.post(f"{base}/login", data={"email": "lead@example.test", "password": PASSWORD, "csrf_token": token[1]})
    received: list[dict[str, Any]] = []
    client = socketio.Client(http_session=http)
    client.on("message.received", received.append)
    client.connect(base, transports=["websocket"], wait_timeout=10, headers={"User-Agent": http.headers["User-Agent"]})
    other_process = SocketIO(message_queue=REDIS_URL)
    try:
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            # repeated until this server's Redis subscriber is listening
            other_process.emit("message.received", {"ticket_id": 7, "message_id": 70}, to="all")
            time.sleep(0.2)
    finally:
        client.disconnect()
        other_process.server.manager.redis.close()
        http.close()
    assert received, "no event arrived through Redis"
    assert received[0]["ticket_id"] == 7


def test_anonymous_socket_is_refused(served_with_redis: str) -> None:
    import socketio

    client = socketio.Client()
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(served_with_redis, transports=["websocket"], wait_timeout=5)
