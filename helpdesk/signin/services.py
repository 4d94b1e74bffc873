"""Signing in: throttle, password check, rehash, and what has to happen before a session starts.

The web form and anything else that signs a user in call :func:`check_password`;
it answers with an :class:`Outcome` and the view decides what to say.  The
second factor, when the user has one, is asked for by the view afterwards.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.db import utcnow
from helpdesk.signin import records, throttle
from helpdesk.signin.models import PasswordLink
from helpdesk.signin.passwords import MIN_PASSWORD, hash_password, spend_like_a_check, verify_password


class Outcome(enum.Enum):
    OK = "ok"
    WRONG = "wrong"  # unknown address, wrong password, or a deactivated account: one answer for all
    WAIT = "wait"  # too many failures from this source address; try again later


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    user: User | None = None
    wait_s: int = 0  # seconds before the next attempt (WAIT, or WRONG that started a delay)


class PasswordError(ValueError):
    """A new password is not acceptable; the message (translated when shown) says why."""


def check_password(session: Session, email: str, password: str, address: str) -> Attempt:
    """One sign-in attempt from ``address``; throttled, counted, and rehashing an outdated hash on success."""
    wait = throttle.wait_seconds(session, email, address)
    if wait:
        return Attempt(Outcome.WAIT, wait_s=wait)
    user = session.scalar(sa.select(User).where(User.email == throttle.normalise_email(email)))
    if user is None:
        spend_like_a_check(password)
        ok = rehash = False
    else:
        ok, rehash = verify_password(user.password_hash, password)
    if not ok or user is None or not user.active:
        return Attempt(Outcome.WRONG, wait_s=throttle.record_failure(session, email, address))
    throttle.record_success(session, email, address)
    if rehash:
        user.password_hash = hash_password(password)
    return Attempt(Outcome.OK, user=user)


def validate_new_password(password: str, repeat: str | None = None) -> None:
    if len(password) < MIN_PASSWORD:
        raise PasswordError(_l("The password must have at least 8 characters."))
    if repeat is not None and password != repeat:
        raise PasswordError(_l("The two passwords are not the same."))


def set_password(session: Session, user: User, password: str) -> None:
    """A new password: every other session ends and every outstanding password link stops working."""
    validate_new_password(password)
    user.password_hash = hash_password(password)
    end_sessions(session, user)
    session.execute(
        sa.update(PasswordLink)
        .where(PasswordLink.user_id == user.id, PasswordLink.used_at.is_(None))
        .values(used_at=utcnow())
    )
    throttle.clear(session, email=user.email)
    session.flush()


def end_sessions(session: Session, user: User) -> int:
    """Sign the user out everywhere; returns how many sessions were still open.

    Every session record ends, and the epoch moves on too: a two-factor
    sign-in half-way through (which has no record yet) carries the epoch.
    """
    user.session_epoch += 1
    return records.end_all(session, user)
