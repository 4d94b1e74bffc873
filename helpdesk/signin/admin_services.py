"""What an admin does about someone else's sign-in, shared by the Sign-in security page and the CLI.

Every change is written to the audit log (``actor`` None: the command line).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from helpdesk.accounts.admin_services import audit
from helpdesk.accounts.models import Role, User
from helpdesk.audit.services import ACTIONS
from helpdesk.signin import throttle, totp
from helpdesk.signin.links import HANDOVER_LINK_LIFETIME, make_password_link
from helpdesk.signin.services import end_sessions, set_password

# How the audit log page words these events (the audit package lists the actions features declare).
ACTIONS.update(
    {
        "signin.password_link": (
            _l("Set-password link made"),
            _l("%(actor)s made a set-password link for %(email)s"),
        ),
        "signin.password_set": (_l("Password set"), _l("%(actor)s set a new password for %(email)s")),
        "signin.throttle_cleared": (
            _l("Sign-in throttle cleared"),
            _l("%(actor)s cleared %(rows)s sign-in throttle row(s)"),
        ),
        "signin.sessions_ended": (
            _l("Sessions ended"),
            _l("%(actor)s ended the sessions of %(email)s"),
        ),
        "signin.two_factor_reset": (
            _l("Two-factor sign-in reset"),
            _l("%(actor)s turned off the two-factor sign-in of %(email)s"),
        ),
        "signin.two_factor_required": (
            _l("Two-factor requirement changed"),
            _l("%(actor)s changed whether the role %(role)s must use two-factor sign-in (now: %(required)s)"),
        ),
    }
)


def hand_over_link(session: Session, actor: User | None, user: User) -> str:
    """A set-password link (URL path) an admin gives to ``user``; valid for three days, once."""
    path = make_password_link(session, user, created_by=actor, valid_for=HANDOVER_LINK_LIFETIME)
    audit(session, actor, "signin.password_link", {"user_id": user.id, "email": user.email})
    return path


def set_password_for(session: Session, actor: User | None, user: User, password: str) -> None:
    """An admin sets ``user``'s password: the user's sessions end, outstanding links stop working."""
    set_password(session, user, password)
    audit(session, actor, "signin.password_set", {"user_id": user.id, "email": user.email})


def end_sessions_for(session: Session, actor: User | None, user: User) -> int:
    """An admin signs ``user`` out everywhere (a lost laptop, a leaver); returns how many sessions were open."""
    ended = end_sessions(session, user)
    audit(session, actor, "signin.sessions_ended", {"user_id": user.id, "email": user.email, "sessions": ended})
    return ended


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
