"""Optional two-factor sign-in with an authenticator app (TOTP, RFC 6238), and recovery codes.

The shared secret is sealed with the app's encryption key like connector
secrets; a code is accepted once (the last accepted time step is kept, so a
code seen over a shoulder cannot be replayed) and one step of clock drift
either way is forgiven.  Recovery codes are random, shown once, stored as
hashes, and each works once.  Admins may require two-factor sign-in per role.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno
import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Role, User
from helpdesk.crypto import seal, unseal
from helpdesk.db import utcnow
from helpdesk.signin.models import RecoveryCode, TwoFactorRequirement

ISSUER = "Helpdesk"
STEP_S = 30
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: codes are typed from paper


def new_secret() -> str:
    return pyotp.random_base32()


def seal_secret(secret: str) -> str:
    sealed = seal({"totp": secret})
    assert sealed is not None
    return sealed


def open_secret(sealed: str) -> str:
    return unseal(sealed)["totp"]


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code (no image request, nothing leaves the page)."""
    return segno.make(uri, error="m").svg_inline(scale=4)


def _matching_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_S
    for step in (current - 1, current, current + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.at(step * STEP_S), code):
            return step
    return None


def enable(session: Session, user: User, secret: str, code: str, now: datetime | None = None) -> list[str] | None:
    """Turn two-factor sign-in on if ``code`` proves the app has ``secret``; return new recovery codes."""
    step = _matching_step(secret, code, now or utcnow(), None)
    if step is None:
        return None
    user.totp_secret = seal_secret(secret)
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    return new_recovery_codes(session, user)


def disable(session: Session, user: User) -> None:
    """Two-factor sign-in off (the user's choice, or an admin's reset); recovery codes go too."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def check_code(session: Session, user: User, code: str, now: datetime | None = None) -> bool:
    """A current authenticator code (once) or an unused recovery code (used up now)."""
    if not user.has_two_factor or not user.totp_secret:
        return False
    step = _matching_step(open_secret(user.totp_secret), code, now or utcnow(), user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        return True
    return _use_recovery_code(session, user, code)


def _digest(code: str) -> str:
    return hashlib.sha256("".join(code.lower().replace("-", "").split()).encode()).hexdigest()


def new_recovery_codes(session: Session, user: User) -> list[str]:
    """Ten fresh recovery codes (the old ones stop working); only their hashes are kept."""
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=user.id, code_hash=_digest(raw)))
    session.flush()
    return codes


def _use_recovery_code(session: Session, user: User, code: str) -> bool:
    if len(code) > 40:
        return False
    row = session.scalar(
        sa.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _digest(code), RecoveryCode.used_at.is_(None)
        )
    )
    if row is None:
        return False
    row.used_at = utcnow()
    return True


def recovery_codes_left(session: Session, user: User) -> int:
    return (
        session.scalar(
            sa.select(sa.func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


# --- required per role ------------------------------------------------------------------------------


def required_roles(session: Session) -> set[str]:
    return set(session.scalars(sa.select(TwoFactorRequirement.role).where(TwoFactorRequirement.required)))


def must_set_up(session: Session, user: User) -> bool:
    """The user's role requires two-factor sign-in and they have none yet: pages and sockets wait for it."""
    return not user.has_two_factor and is_required(session, user)


def is_required(session: Session, user: User) -> bool:
    return is_required_role(session, user.role)


def is_required_role(session: Session, role: str) -> bool:
    return bool(session.scalar(sa.select(TwoFactorRequirement.required).where(TwoFactorRequirement.role == role)))


def still_to_set_up(session: Session, limit: int = 200) -> list[User]:
    """Active users whose role requires two-factor sign-in and who have not set it up (the admin page lists them)."""
    return list(
        session.scalars(
            sa.select(User)
            .join(TwoFactorRequirement, sa.and_(TwoFactorRequirement.role == User.role, TwoFactorRequirement.required))
            .where(User.active, User.totp_enabled_at.is_(None))
            .order_by(User.email)
            .limit(limit)
        )
    )


def set_required(session: Session, role: str, required: bool) -> None:
    if role not in set(Role):
        raise ValueError(f"role must be one of {', '.join(Role)}")
    row = session.get(TwoFactorRequirement, role)
    if row is None:
        session.add(TwoFactorRequirement(role=role, required=required))
    else:
        row.required = required
        row.changed_at = utcnow()
    session.flush()
