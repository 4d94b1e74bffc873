"""Signing in does the same work whether the address has an account or not, so timing tells nothing.

This is a test of equal work, not of speed: it compares medians of
interleaved tries (so both kinds see the same load) and allows a factor of
two either way.  Without the dummy hash an unknown address answers several
times faster than a wrong password (the hash is most of the work at OWASP's
minimum cost, used here), far outside that band.
"""

from __future__ import annotations

import re
import statistics
import time
from typing import Any

import pytest

from tests.signin.helpers import sign_in
from tests.web import PASSWORD

TRIES = 30


@pytest.fixture
def password_hashing() -> dict[str, str]:
    """OWASP's argon2id minimum: a hash costly enough that leaving it out would show."""
    return {"HELPDESK_PASSWORD_HASH": "t=2,m=19456,p=1"}


def _timed(client: Any, email: str, n: int) -> tuple[float, Any]:
    # A source address per try: the throttle would otherwise answer later tries early, with no hash at all.
    started = time.perf_counter()
    response = sign_in(client, email, "not-the-password", address=f"192.0.2.{n % 250 + 1}")
    return time.perf_counter() - started, response


def test_an_unknown_address_takes_as_long_as_a_wrong_password(client: Any, make_user: Any) -> None:
    make_user("agent@example.test")
    _timed(client, "agent@example.test", 0)  # warm up: the dummy hash is made on first use
    _timed(client, "nobody@example.test", 0)
    known, unknown = [], []
    for n in range(1, TRIES + 1):
        for email, times in (("agent@example.test", known), ("nobody@example.test", unknown)):
            elapsed, response = _timed(client, email, n if times is known else n + 100)
            assert response.status_code == 200, "a throttled try would skip the hash"
            times.append(elapsed)
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 <= ratio <= 2.0, f"unknown/known median ratio {ratio:.2f}"


def test_unknown_wrong_and_deactivated_get_the_same_answer(client: Any, make_user: Any, session: Any) -> None:
    make_user("agent@example.test")
    make_user("gone@example.test").active = False
    session.commit()
    answers = set()
    for n, email in enumerate(("agent@example.test", "nobody@example.test", "gone@example.test")):
        password = "not-the-password" if email.startswith("agent") else PASSWORD  # gone@ with the right one
        response = sign_in(client, email, password, address=f"198.51.100.{n + 1}")
        page = response.get_data(as_text=True)
        assert "Wrong e-mail address or password." in page
        signed_token = re.compile(r'name="csrf_token" value="[^"]+"')  # carries the second it was signed in
        answers.add((response.status_code, signed_token.sub("", page.replace(email, "EMAIL"))))
    assert len(answers) == 1
