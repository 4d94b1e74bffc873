"""Failed sign-ins slow down the address they come from, never the account's owner elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import time_machine

from helpdesk.signin import throttle
from helpdesk.signin.models import SigninThrottle
from tests.signin.helpers import sign_in, signed_in
from tests.web import PASSWORD

ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"
T = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_a_flood_from_one_address_does_not_stop_the_owner_signing_in_from_another(
    client: Any, app: Any, make_user: Any
) -> None:
    make_user("agent@example.test")
    for _ in range(40):
        sign_in(client, "agent@example.test", "guess-guess", address=ATTACKER)
    refused = sign_in(client, "agent@example.test", PASSWORD, address=ATTACKER)  # even the right password waits
    assert refused.status_code == 429
    assert "Too many failed sign-ins. Try again in" in refused.get_data(as_text=True)
    assert not signed_in(client)

    owner = app.test_client()
    response = sign_in(owner, "agent@example.test", PASSWORD, address=OWNER)
    assert response.status_code == 302
    assert signed_in(owner)


def test_delays_grow_after_the_free_attempts_and_say_how_long(client: Any, make_user: Any) -> None:
    make_user("agent@example.test")
    waits = []
    with time_machine.travel(T, tick=False) as traveller:
        for n in range(1, 10):
            page = sign_in(client, "agent@example.test", f"wrong-{n}", address=ATTACKER).get_data(as_text=True)
            assert "Wrong e-mail address or password." in page
            wait = throttle.wait_seconds(_session(), "agent@example.test", ATTACKER)
            waits.append(wait)
            if wait:
                assert f"Try again in {wait} second" in page
                early = sign_in(client, "agent@example.test", PASSWORD, address=ATTACKER)
                assert early.status_code == 429 and f"Try again in {wait} second" in early.get_data(as_text=True)
                assert early.headers["Retry-After"] == str(wait)
                traveller.shift(timedelta(seconds=wait))
    assert waits == [0, 0, 0, 0, 2, 4, 8, 16, 32]
    with time_machine.travel(T + timedelta(hours=1), tick=False):
        assert sign_in(client, "agent@example.test", PASSWORD, address=ATTACKER).status_code == 302


def test_unknown_addresses_are_throttled_like_known_ones(client: Any, session: Any) -> None:
    """Otherwise the throttle would tell an attacker which addresses have accounts."""
    for _ in range(5):
        page = sign_in(client, "ghost@example.test", "whatever", address=ATTACKER).get_data(as_text=True)
    assert "Wrong e-mail address or password." in page and "Try again in" in page
    assert throttle.wait_seconds(session, "ghost@example.test", ATTACKER) > 0


def test_many_accounts_from_one_address_slow_that_address_for_every_account(client: Any, session: Any) -> None:
    for n in range(20):
        sign_in(client, f"user{n}@example.test", "spray-password", address=ATTACKER)
    assert throttle.wait_seconds(session, "someone-new@example.test", ATTACKER) == 2
    assert throttle.wait_seconds(session, "someone-new@example.test", OWNER) == 0


def test_right_password_resets_the_count_for_that_account_but_not_for_the_address(
    client: Any, make_user: Any, session: Any
) -> None:
    make_user("agent@example.test")
    for n in range(4):
        sign_in(client, "agent@example.test", f"typo-{n}", address=OWNER)
    assert sign_in(client, "agent@example.test", address=OWNER).status_code == 302
    rows = session.scalars(sa.select(SigninThrottle)).all()
    assert [(r.email, r.failures) for r in rows] == [("", 4)]


def test_old_failures_are_forgotten_and_pruned(session: Any) -> None:
    for _ in range(6):
        throttle.record_failure(session, "agent@example.test", ATTACKER, now=T)
    assert throttle.wait_seconds(session, "agent@example.test", ATTACKER, now=T) == 4
    later = T + throttle.WINDOW + timedelta(minutes=1)
    assert throttle.record_failure(session, "agent@example.test", ATTACKER, now=later) == 0  # counting starts again
    session.commit()
    assert throttle.prune(session, now=later) == 0
    assert throttle.prune(session, now=later + throttle.WINDOW + timedelta(seconds=1)) == 2
    assert session.scalar(sa.select(sa.func.count(SigninThrottle.id))) == 0


def test_delay_never_exceeds_its_cap(session: Any) -> None:
    for _ in range(60):
        wait = throttle.record_failure(session, "agent@example.test", ATTACKER, now=T)
    assert wait == throttle.PER_ACCOUNT.cap.total_seconds() == 15 * 60
    assert throttle.PER_ADDRESS.delay(60) == timedelta(minutes=5)
    assert throttle.wait_seconds(session, "someone-else@example.test", ATTACKER, now=T) == 5 * 60


def _session() -> Any:
    from helpdesk.extensions import db

    return db.session
