"""What an admin does about someone else's sign-in, shared by the Sign-in security page and the CLI.

Every change is written to the audit log (``actor`` None: the command line).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from helpdesk.accounts.admin_services import audit
from helpdesk.accounts.models import Role, User
from helpdesk.signin import throttle, totp
from helpdesk.signin.links import HANDOVER_LINK_LIFETIME, make_password_link
from helpdesk.signin.services import set_password


def hand_over_link(session: Session, actor: User | None, user: User) -> str:
    """A set-password link (URL path) an admin gives to ``user``; valid for three days, once."""
    path = make_password_link(session, user, created_by=actor, valid_for=HANDOVER_LINK_LIFETIME)
    audit(session, actor, "signin.password_link", {"user_id": user.id, "email": user.email})
    return path


def set_password_for(session: Session, actor: User | None, user: User, password: str) -> None:
    """An admin sets ``user``'s password: the user's sessions end, outstanding links stop working."""
    set_password(session, user, password)
    audit(session, actor, "signin.password_set", {"user_id": user.id, "email": user.email})


def clear_throttles(
    session: Session,
    actor: User | None,
    *,
    email: str | None = None,
    address: str | None = None,
    row_id: int | None = None,
) -> int:
    cleared = throttle.clear(session, email=email, address=address, row_id=row_id)
    if cleared:
        audit(session, actor, "signin.throttle_cleared", {"email": email, "address": address, "rows": cleared})
    return cleared


def reset_two_factor(session: Session, actor: User | None, user: User) -> bool:
    """Turn off ``user``'s two-factor sign-in (a lost phone and lost recovery codes); False if it was off."""
    if not user.has_two_factor:
        return False
    totp.disable(session, user)
    audit(session, actor, "signin.two_factor_reset", {"user_id": user.id, "email": user.email})
    return True


def require_two_factor(session: Session, actor: User | None, roles: set[str]) -> None:
    """Exactly ``roles`` must use two-factor sign-in from now on."""
    unknown = roles - set(Role)
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(sorted(unknown))}; roles are {', '.join(Role)}")
    for role in Role:
        wanted = role in roles
        if totp.is_required_role(session, role) != wanted:
            totp.set_required(session, role, wanted)
            audit(session, actor, "signin.two_factor_required", {"role": str(role), "required": wanted})
