"""Settings come from HELPDESK_* variables; bad values stop the app with a message naming them."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpdesk.config import ConfigError, load_settings


def test_defaults_need_nothing_set(tmp_path: Path) -> None:
    settings = load_settings({}, tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'helpdesk.db'}"
    assert settings.redis_url is None
    assert settings.attachment_storage == "disk"
    assert len(settings.secret_key) >= 32


def test_generated_secret_key_is_kept_private_and_reused(tmp_path: Path) -> None:
    first = load_settings({}, tmp_path).secret_key
    key_file = tmp_path / "secret_key"
    assert key_file.stat().st_mode & 0o077 == 0
    assert load_settings({}, tmp_path).secret_key == first


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"HELPDESK_DATABASE_URL": "mysql://x/y"}, "HELPDESK_DATABASE_URL"),
        ({"HELPDESK_REDIS_URL": "http://localhost"}, "HELPDESK_REDIS_URL"),
        ({"HELPDESK_SECRET_KEY": "short"}, "HELPDESK_SECRET_KEY"),
        ({"HELPDESK_ATTACHMENT_MAX_BYTES": "lots"}, "HELPDESK_ATTACHMENT_MAX_BYTES"),
        ({"HELPDESK_ATTACHMENT_MAX_BYTES": "0"}, "HELPDESK_ATTACHMENT_MAX_BYTES"),
        ({"HELPDESK_ATTACHMENT_STORAGE": "s3"}, "HELPDESK_ATTACHMENT_STORAGE"),
        ({"HELPDESK_TASKS_IMMEDIATE": "maybe"}, "HELPDESK_TASKS_IMMEDIATE"),
        ({"HELPDESK_POLL_INTERVAL": "-5"}, "HELPDESK_POLL_INTERVAL"),
        ({"HELPDESK_PASSWORD_HASH": "fast"}, "HELPDESK_PASSWORD_HASH"),
        ({"HELPDESK_PASSWORD_HASH": "t=3,x=1"}, "HELPDESK_PASSWORD_HASH"),
        ({"HELPDESK_PASSWORD_HASH": "m=4,p=1"}, "HELPDESK_PASSWORD_HASH"),
        ({"HELPDESK_PASSWORD_HASH": "t=0"}, "HELPDESK_PASSWORD_HASH"),
    ],
)
def test_invalid_setting_is_named(tmp_path: Path, env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings(env, tmp_path)


def test_password_hash_cost_defaults_to_rfc_9106_and_takes_any_of_t_m_p(tmp_path: Path) -> None:
    assert str(load_settings({}, tmp_path).password_hashing) == "t=3,m=65536,p=4"
    assert not load_settings({}, tmp_path).password_hashing.below_floor
    settings = load_settings({"HELPDESK_PASSWORD_HASH": " m=131072 , t=4"}, tmp_path)
    assert str(settings.password_hashing) == "t=4,m=131072,p=4"


def test_postgres_urls_use_psycopg(tmp_path: Path) -> None:
    settings = load_settings({"HELPDESK_DATABASE_URL": "postgresql://u@db:5432/helpdesk"}, tmp_path)
    assert settings.database_url == "postgresql+psycopg://u@db:5432/helpdesk"
    settings = load_settings({"HELPDESK_DATABASE_URL": "postgres://u@db/helpdesk"}, tmp_path)
    assert settings.database_url == "postgresql+psycopg://u@db/helpdesk"


def test_wsgi_start_fails_fast_on_bad_setting(tmp_path: Path) -> None:
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    env = {"PATH": "/usr/bin:/bin", "HELPDESK_INSTANCE_PATH": str(tmp_path), "HELPDESK_REDIS_URL": "ftp://nope"}
    out = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode != 0
    assert "HELPDESK_REDIS_URL='ftp://nope' must start with redis://" in out.stderr


@pytest.mark.parametrize(("proxies", "seen"), [("0", "127.0.0.1 http"), ("1", "203.0.113.7 https")])
def test_trusted_proxies_give_the_clients_address(tmp_path: Path, proxies: str, seen: str) -> None:
    """Behind nginx, sign-in throttling must see each agent's own address, not the proxy's."""
    from flask import request

    from helpdesk import create_app

    env = {
        "HELPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'proxy.db'}",
        "HELPDESK_SECRET_KEY": "test-secret-key-not-for-production",
        "HELPDESK_TRUSTED_PROXIES": proxies,
    }
    app = create_app(env, instance_path=tmp_path)
    app.add_url_rule("/addr", "addr", lambda: f"{request.remote_addr} {request.scheme}")
    response = app.test_client().get(
        "/addr",
        headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert response.get_data(as_text=True) == seen


def test_cli_with_a_bad_setting_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    """An operator's typo is not a crash: no traceback to read through, only what to change."""
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "HELPDESK_INSTANCE_PATH": str(tmp_path),
        "HELPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'desk.db'}",
        "HELPDESK_SECRET_KEY": "too-short",
    }
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "helpdesk", "init"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.splitlines() == [
        "Configuration error: HELPDESK_SECRET_KEY is shorter than 16 characters; use a long random value"
    ]
    assert not (tmp_path / "desk.db").exists()


def test_the_budget_is_a_setting(tmp_path: Path) -> None:
    assert load_settings({}, tmp_path).query_timeout_ms == 10_000
    assert load_settings({"HELPDESK_QUERY_TIMEOUT_MS": "0"}, tmp_path).query_timeout_ms == 0  # no budget
    with pytest.raises(ConfigError, match="HELPDESK_QUERY_TIMEOUT_MS"):
        load_settings({"HELPDESK_QUERY_TIMEOUT_MS": "ten"}, tmp_path)
