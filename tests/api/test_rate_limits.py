"""Per-token API rate limits: the N+1th request gets 429 with Retry-After; other tokens and the web UI do not."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from helpdesk.api.tokens import create_token
from helpdesk.config import ConfigError, load_settings


@pytest.fixture
def three_a_minute(app: Any) -> None:
    settings = app.config["HELPDESK_SETTINGS"]
    app.config["HELPDESK_SETTINGS"] = dataclasses.replace(settings, api_rate_limit="3/minute")


def _headers(session: Any, user: Any) -> dict[str, str]:
    _row, raw = create_token(session, user, "t", "read")
    session.commit()
    return {"Authorization": f"Bearer {raw}"}


def test_the_fourth_request_in_a_minute_is_refused_and_another_token_is_not(
    client: Any, session: Any, make_user: Any, three_a_minute: None
) -> None:
    user = make_user("agent@example.test")
    first, second = _headers(session, user), _headers(session, user)
    remaining = []
    for _ in range(3):
        ok = client.get("/api/v1/macros", headers=first)
        assert ok.status_code == 200
        remaining.append(ok.headers["X-RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]
    # Every API route shares one budget per token.
    refused = client.get("/api/v1/notifications", headers=first)
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "rate_limited" and refused.json["error"]["field"] is None
    assert "3 per 1 minute" in refused.json["error"]["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert client.get("/api/v1/macros", headers=second).status_code == 200


def test_requests_without_a_usable_token_are_limited_by_address(
    client: Any, session: Any, make_user: Any, three_a_minute: None
) -> None:
    for _ in range(3):
        assert client.get("/api/v1/macros", headers={"Authorization": "Bearer hd_guess"}).status_code == 401
    assert client.get("/api/v1/macros").status_code == 429
    other = client.get("/api/v1/macros", environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert other.status_code == 401
    # A real token has its own budget, whatever its address did.
    assert client.get("/api/v1/macros", headers=_headers(session, make_user("agent@example.test"))).status_code == 200


def test_the_web_ui_is_not_rate_limited(client: Any, three_a_minute: None) -> None:
    assert all(client.get("/login").status_code == 200 for _ in range(6))


def test_the_limit_is_validated_at_start(tmp_path: Any) -> None:
    env = {"HELPDESK_SECRET_KEY": "x" * 32, "HELPDESK_API_RATE_LIMIT": "lots"}
    with pytest.raises(ConfigError, match="HELPDESK_API_RATE_LIMIT"):
        load_settings(env, tmp_path)
    env["HELPDESK_API_RATE_LIMIT"] = "10/second"
    assert load_settings(env, tmp_path).api_rate_limit == "10/second"


def test_counters_live_in_redis_when_the_helpdesk_has_one() -> None:
    from helpdesk.api.ratelimit import storage_uri

    assert storage_uri(None) == "memory://"
    assert storage_uri("redis://cache:6379/0") == "redis://cache:6379/0"
    assert storage_uri("unix:///run/redis.sock") == "redis+unix:///run/redis.sock"


def test_with_redis_every_process_shares_the_count(sqlite_template: Any, tmp_path: Any) -> None:
    """A second app (another worker process) sees the first one's requests: the counters are in Redis."""
    import shutil
    import uuid

    import redis

    from helpdesk import create_app
    from helpdesk.accounts.services import create_user
    from helpdesk.extensions import db
    from tests.conftest import _env, need_service

    url = "redis://127.0.0.1:6379/13"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError as exc:
        need_service("Redis", str(exc))
    path = tmp_path / "helpdesk.db"
    shutil.copyfile(sqlite_template, path)
    env = {**_env(f"sqlite:///{path}"), "HELPDESK_REDIS_URL": url, "HELPDESK_API_RATE_LIMIT": "3/minute"}
    prefix = f"test-{uuid.uuid4().hex}"

    def make() -> Any:
        return create_app(env, instance_path=tmp_path, overrides={"TESTING": True, "RATELIMIT_KEY_PREFIX": prefix})

    first = make()
    with first.app_context():
        user = create_user(db.session, "agent@example.test", "Agent", "correct horse battery")
        _row, raw = create_token(db.session, user, "t", "read")
        db.session.commit()
        headers = {"Authorization": f"Bearer {raw}"}
        assert all(first.test_client().get("/api/v1/macros", headers=headers).status_code == 200 for _ in range(3))
        db.engine.dispose()
    second = make()
    try:
        with second.app_context():
            assert second.test_client().get("/api/v1/macros", headers=headers).status_code == 429
            db.engine.dispose()
        assert redis.Redis.from_url(url).keys(f"LIMITS:LIMITER/{prefix}/*")  # the count was kept in Redis
    finally:
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(f"LIMITS:LIMITER/{prefix}/*"):  # this run's keys only: another may be running
            client.delete(key)
