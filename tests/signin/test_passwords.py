"""Passwords are stored as argon2id; older hashes still work once and are replaced on sign-in.

The other tests hash at a throw-away cost (see ``CHEAP_HASHING``); these use the
cost a real desk runs with, and prove that a cheap cost cannot reach one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from werkzeug.security import generate_password_hash

from helpdesk.config import ConfigError
from helpdesk.signin.passwords import hash_password, verify_password
from tests.conftest import CHEAP_HASHING
from tests.signin.helpers import sign_in
from tests.web import PASSWORD


@pytest.fixture
def password_hashing() -> dict[str, str]:
    """No setting: the production default."""
    return {}


def test_new_users_get_argon2id_hashes(make_user: Any) -> None:
    user = make_user("agent@example.test")
    assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")  # RFC 9106's second profile
    assert verify_password(user.password_hash, PASSWORD) == (True, False)
    assert verify_password(user.password_hash, "not it") == (False, False)


def test_an_old_scrypt_hash_signs_in_and_is_replaced(client: Any, make_user: Any, session: Any) -> None:
    user = make_user("agent@example.test")
    user.password_hash = generate_password_hash(PASSWORD, method="scrypt")
    session.commit()
    assert sign_in(client, "agent@example.test", "wrong password").status_code == 200
    session.refresh(user)
    assert user.password_hash.startswith("scrypt:")  # a wrong password changes nothing
    assert sign_in(client, "agent@example.test").status_code == 302
    session.refresh(user)
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, PASSWORD) == (True, False)


def test_an_argon2_hash_with_weaker_parameters_is_replaced(client: Any, make_user: Any, session: Any) -> None:
    from argon2 import PasswordHasher

    user = make_user("agent@example.test")
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    session.commit()
    assert verify_password(user.password_hash, PASSWORD) == (True, True)
    assert sign_in(client, "agent@example.test").status_code == 302
    session.refresh(user)
    assert "m=65536,t=3" in user.password_hash


def test_hashes_are_salted(app: Any) -> None:
    assert hash_password("same password") != hash_password("same password")


def _build(tmp_path: Path, hashing: str, **overrides: Any) -> Any:
    from helpdesk import create_app
    from tests.conftest import _env

    env = {**_env(f"sqlite:///{tmp_path / 'h.db'}"), "HELPDESK_PASSWORD_HASH": hashing}
    return create_app(env, instance_path=tmp_path, overrides=overrides)


@pytest.mark.parametrize("hashing", [CHEAP_HASHING["HELPDESK_PASSWORD_HASH"], "t=1,m=65536,p=4", "t=3,m=19455,p=1"])
def test_a_cost_below_the_owasp_minimum_stops_a_real_app(tmp_path: Path, hashing: str) -> None:
    with pytest.raises(ConfigError, match=r"HELPDESK_PASSWORD_HASH=.*below OWASP's argon2id minimum"):
        _build(tmp_path, hashing)


def test_a_cheap_cost_runs_only_in_a_test_app(tmp_path: Path) -> None:
    app = _build(tmp_path, "t=1,m=8,p=1", TESTING=True)
    with app.app_context():
        assert hash_password("x").startswith("$argon2id$v=19$m=8,t=1,p=1$")


def test_a_configured_cost_is_used_and_hashes_at_another_cost_are_renewed(tmp_path: Path) -> None:
    from argon2 import PasswordHasher

    app = _build(tmp_path, "t=2,m=19456,p=1")
    with app.app_context():
        stored = hash_password(PASSWORD)
        assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert verify_password(stored, PASSWORD) == (True, False)
        assert verify_password(PasswordHasher().hash(PASSWORD), PASSWORD) == (True, True)
