"""Behind a reverse proxy the throttle counts the real client address, never a forged one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpdesk.signin import throttle
from tests.conftest import _env
from tests.web import csrf_token, fresh_request_globals

PROXY = "127.0.0.1"


@pytest.fixture
def app(database_url: str, tmp_path: Path, password_hashing: dict[str, str]) -> Iterator[Any]:
    from helpdesk import create_app
    from helpdesk.extensions import db

    env = {**_env(database_url), **password_hashing, "HELPDESK_TRUSTED_PROXIES": "1"}
    application = create_app(env, instance_path=tmp_path / "instance", overrides={"TESTING": True})
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def fail_via_proxy(client: Any, forwarded_for: str) -> None:
    fresh_request_globals()
    token = csrf_token(client)
    client.post(
        "/login",
        data={"email": "agent@example.test", "password": "wrong-wrong", "csrf_token": token},
        environ_base={"REMOTE_ADDR": PROXY},
        headers={"X-Forwarded-For": forwarded_for},
    )


def test_failures_count_against_the_client_the_proxy_names(client: Any, session: Any) -> None:
    for _ in range(6):
        fail_via_proxy(client, "203.0.113.9")
    assert throttle.wait_seconds(session, "agent@example.test", "203.0.113.9") > 0
    assert throttle.wait_seconds(session, "agent@example.test", PROXY) == 0  # colleagues behind the proxy go on


def test_a_forged_forwarded_for_is_not_believed(client: Any, session: Any) -> None:
    for n in range(6):
        fail_via_proxy(client, f"10.9.9.{n}, 203.0.113.9")  # the client made up the first entry each time
    assert throttle.wait_seconds(session, "agent@example.test", "203.0.113.9") > 0
