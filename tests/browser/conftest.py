"""A live helpdesk with the real Socket.IO server on a loopback port, and Chromium to drive it.

The app runs in a thread of the test process on a migrated SQLite copy;
Playwright drives Debian's chromium.  Without /usr/bin/chromium the browser
tests skip, except under CI=true where they fail.
"""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _env, need_service
from tests.web import compiled_translations

__all__ = ["compiled_translations"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class LiveServer:
    url: str
    app: Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_app(sqlite_template: Path, tmp_path: Path, compiled_translations: None) -> Iterator[Any]:
    from helpdesk import create_app
    from helpdesk.extensions import db

    path = tmp_path / "helpdesk.db"
    shutil.copyfile(sqlite_template, path)
    from helpdesk.outbound import allow_loopback

    app = create_app(_env(f"sqlite:///{path}"), instance_path=tmp_path / "instance", overrides={"TESTING": False})
    allow_loopback(app)  # the fake platforms and services the browser tests connect run on this machine
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def live_server(live_app: Any) -> Iterator[LiveServer]:
    from werkzeug.serving import make_server

    port = _free_port()
    server = make_server("127.0.0.1", port, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{port}", live_app)
    server.shutdown()
    thread.join(5)


@pytest.fixture
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        need_service("Chromium", f"{CHROMIUM} is missing; apt-get install chromium chromium-driver")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()
