"""Passwords are stored as argon2id; older hashes still work once and are replaced on sign-in."""

from __future__ import annotations

from typing import Any

from werkzeug.security import generate_password_hash

from helpdesk.signin.passwords import hash_password, verify_password
from tests.signin.helpers import sign_in
from tests.web import PASSWORD


def test_new_users_get_argon2id_hashes(make_user: Any) -> None:
    user = make_user("agent@example.test")
    assert user.password_hash.startswith("$argon2id$")
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


def test_hashes_are_salted() -> None:
    assert hash_password("same password") != hash_password("same password")
