"""``helpdesk users unthrottle`` and ``users throttled``."""

from __future__ import annotations

from typing import Any

from helpdesk.signin import throttle


def run(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["helpdesk", "users", *args])


def test_unthrottle_lets_the_address_try_again(app: Any, session: Any) -> None:
    for _ in range(8):
        throttle.record_failure(session, "agent@example.test", "192.0.2.10")
    session.commit()
    listed = run(app, "throttled")
    assert "agent@example.test\t192.0.2.10\t8 failure(s)\twaits until" in listed.output
    result = run(app, "unthrottle", "Agent@Example.test")
    assert result.exit_code == 0, result.output
    assert "Cleared 1 throttle row(s) for Agent@Example.test." in result.output
    assert throttle.wait_seconds(session, "agent@example.test", "192.0.2.10") == 0
    assert "Nothing was throttled" in run(app, "unthrottle", "agent@example.test").output


def test_unthrottle_by_address_and_usage_error(app: Any, session: Any) -> None:
    for n in range(21):
        throttle.record_failure(session, f"u{n}@example.test", "192.0.2.10")
    session.commit()
    assert throttle.wait_seconds(session, "new@example.test", "192.0.2.10") > 0
    assert run(app, "unthrottle", "--address", "192.0.2.10").exit_code == 0
    assert throttle.wait_seconds(session, "new@example.test", "192.0.2.10") == 0
    assert run(app, "unthrottle").exit_code != 0
