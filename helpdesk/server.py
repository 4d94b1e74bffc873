"""``helpdesk serve``'s production server: Gunicorn, one process, many threads, WebSockets included.

Socket.IO runs in threading mode with ``simple-websocket`` (the app's
``async_mode``), which Flask-SocketIO's deployment guide pairs with
Gunicorn's threaded worker: one worker process whose threads each hold a
request or an open WebSocket.  One worker per server, because Socket.IO
needs every request of a client to reach the process that holds its
session; more capacity means more ``serve`` processes behind a load
balancer with sticky sessions and a Redis message queue (``docs/deploy.md``).

Gunicorn's master process forks the worker.  Everything that runs threads
or holds connections — the task consumer, IMAP watchers, the demo's fake
platforms — starts in the worker (``post_worker_init``) and stops when it
exits, and database connections the master may have opened are dropped in
the child rather than shared across the fork.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

Hook = Callable[[], Any]


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.app = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.app


def serve(
    app: Flask,
    host: str,
    port: int,
    *,
    threads: int = 64,
    on_start: Callable[[], Hook | None] | None = None,
) -> None:
    """Serve ``app`` until Ctrl+C or SIGTERM; ``on_start`` runs in the serving process and returns its stopper."""
    stoppers: list[Hook] = []

    def post_fork(_server: Any, _worker: Any) -> None:
        from helpdesk.extensions import db

        with app.app_context():
            db.engine.dispose(close=False)  # the master's pooled connections are not this process's to use

    def post_worker_init(_worker: Any) -> None:
        if on_start is not None:
            stop = on_start()
            if stop is not None:
                stoppers.append(stop)

    def worker_exit(_server: Any, _worker: Any) -> None:
        while stoppers:
            stoppers.pop()()

    master = os.getpid()
    server = _Gunicorn(
        app,
        {
            "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
            "workers": 1,
            "worker_class": "gthread",
            "threads": threads,
            # the worker's heartbeat, not a request limit: a WebSocket may stay open for hours
            "timeout": 60,
            "graceful_timeout": 10,
            "keepalive": 5,
            "loglevel": "warning",  # no start-up chatter; errors and warnings still reach stderr
            "accesslog": None,
            "errorlog": "-",
            "proc_name": "helpdesk",
            "control_socket_disable": True,  # one fixed path per machine: several serve processes would collide
            "post_fork": post_fork,
            "post_worker_init": post_worker_init,
            "worker_exit": worker_exit,
        },
    )
    try:
        server.run()
    except SystemExit as exc:
        if os.getpid() == master:
            raise
        # The worker is a fork of this command: leave without running the command's own teardown twice.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exc.code if isinstance(exc.code, int) else 0)
