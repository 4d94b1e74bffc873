"""``helpdesk serve`` runs the production server (Gunicorn, threaded worker) with the task consumer beside it:
it answers /health, a Socket.IO handshake and a WebSocket upgrade, and stops cleanly on Ctrl+C."""

from __future__ import annotations

import email
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import simple_websocket
from aiosmtpd.controller import Controller

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_env(sqlite_template: Path, tmp_path: Path, **extra: str) -> dict[str, str]:
    db = tmp_path / "serve.db"
    shutil.copyfile(sqlite_template, db)
    return {
        **os.environ,
        "HELPDESK_DATABASE_URL": f"sqlite:///{db}",
        "HELPDESK_INSTANCE_PATH": str(tmp_path),
        "HELPDESK_SECRET_KEY": "test-secret-key-not-for-production",
        "HELPDESK_WORKER_IN_PROCESS": "true",
        **extra,
    }


def start_serve(env: dict[str, str]) -> tuple[str, subprocess.Popen[str]]:
    """``helpdesk serve`` on a free port, once it answers /health."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "helpdesk", "serve", "--port", str(port), "--threads", "8"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/health", timeout=2):
                return base, proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"serve did not answer: {proc.communicate()[0][-2000:]}")
            time.sleep(0.3)


def kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()  # reaps it and closes its output pipe


@pytest.fixture
def server(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    base, proc = start_serve(serve_env(sqlite_template, tmp_path))
    yield base, proc
    kill(proc)


def get(url: str) -> Any:
    return urllib.request.urlopen(url, timeout=5)


def test_serve_runs_gunicorn_with_socketio_and_stops_on_ctrl_c(server: tuple[str, subprocess.Popen[str]]) -> None:
    base, proc = server
    with get(base + "/health") as response:
        assert response.status == 200
        assert response.headers["Server"].startswith("gunicorn")  # not Werkzeug's development server
    with get(base + "/socket.io/?EIO=4&transport=polling") as response:
        body = response.read().decode()
    assert body.startswith("0")
    handshake = json.loads(body[1:])
    assert "websocket" in handshake["upgrades"]
    ws = simple_websocket.Client.connect(
        base.replace("http", "ws") + f"/socket.io/?EIO=4&transport=websocket&sid={handshake['sid']}"
    )
    try:
        ws.send("2probe")
        assert ws.receive(timeout=5) == "3probe"  # the WebSocket upgrade works through the threaded worker
    finally:
        ws.close()
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl+C in a terminal reaches the whole process group
    output = proc.communicate(timeout=45)[0]
    assert proc.returncode == 0, output
    assert "Traceback" not in output and "[ERROR]" not in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines == [f"Helpdesk running at {base}/  (Ctrl+C stops it)"], output  # nothing else to interpret


def test_init_prints_one_line_about_the_schema(tmp_path: Path) -> None:
    """make run's first step: no migration chatter a newcomer must interpret, only what happened and what next."""
    env = {
        **os.environ,
        "HELPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}",
        "HELPDESK_INSTANCE_PATH": str(tmp_path),
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "helpdesk", "init"]
    first = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=True)
    assert first.stderr == ""
    created, then = first.stdout.splitlines()
    assert created.startswith("Database created at sqlite:///") and "(schema " in created
    assert then.startswith("Next: ")
    again = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=True)
    assert again.stderr == "" and "already current" in again.stdout


class Inbox:
    """A loopback SMTP server's handler: keeps what it receives."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(email.message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


def test_served_process_runs_the_task_consumer(sqlite_template: Path, tmp_path: Path) -> None:
    """A job queued by a request of the served process is run by the consumer inside it (no separate worker):
    'Forgot password?' queues the reset mail, and the loopback SMTP server receives it."""
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    env = serve_env(
        sqlite_template,
        tmp_path,
        HELPDESK_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}",
        HELPDESK_MAIL_FROM="helpdesk@example.test",
        HELPDESK_PUBLIC_URL="https://help.example.test",
        HELPDESK_HTTPS="false",  # the test speaks plain HTTP to the loopback port: no Secure cookies
        NEW_PASSWORD="correct horse battery",
    )
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "helpdesk"]
    subprocess.run(
        [*flask, "users", "create", "--email", "ana@example.test", "--name", "Ana", "--password-env", "NEW_PASSWORD"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    base, proc = start_serve(env)
    try:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with opener.open(base + "/forgot", timeout=5) as response:
            page = response.read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token, page
        form = urllib.parse.urlencode({"email": "ana@example.test", "csrf_token": token.group(1)}).encode()
        with opener.open(base + "/forgot", data=form, timeout=5) as response:
            assert response.status == 200  # redirected to the sign-in page
        deadline = time.monotonic() + 20
        while not inbox.mails and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert len(inbox.mails) == 1, "the reset mail was not sent: is the consumer running in the served process?"
        assert inbox.mails[0]["To"] == "ana@example.test"
        assert "https://help.example.test/password/" in inbox.mails[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    finally:
        kill(proc)
        smtp.stop()


@pytest.mark.parametrize("moment", ["loading the app", "starting gunicorn"])
def test_ctrl_c_while_serve_is_starting_exits_quietly(sqlite_template: Path, tmp_path: Path, moment: str) -> None:
    """Ctrl+C before the server runs stops it without a traceback or click's 'Aborted!' to interpret."""
    env = {**serve_env(sqlite_template, tmp_path), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "helpdesk", "serve", "--port", str(free_port())],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        if moment == "loading the app":
            # create_app opens the task queue's file midway: the app is being built, the server not started.
            # (A fixed delay raced Flask's own start-up, which imports its plugins before our code runs.)
            deadline = time.monotonic() + 60
            while not (tmp_path / "tasks.db").exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            first = ""
        else:
            first = proc.stdout.readline()  # type: ignore[union-attr]  # printed just before Gunicorn starts
            assert first.startswith("Helpdesk running at")
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl+C in a terminal reaches the whole process group
        output = first + proc.communicate(timeout=45)[0]
    finally:
        kill(proc)
    # 130 when the start was cut short; 0 only if Gunicorn already held the signals and stopped gracefully
    expected = {130, 0} if moment == "starting gunicorn" else {130}
    assert proc.returncode in expected, output
    assert "Traceback" not in output and "Aborted" not in output and "[ERROR]" not in output, output
