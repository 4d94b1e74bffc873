"""Managing users and teams: the rules the administration pages and the ``users``/``teams`` CLI share.

Every change writes an ``AuditEvent`` (actor ``user`` from the web, ``system``
with ``via: cli`` from the command line), so a lead can later tell who gave
an agent a store or took an admin's role away.  Functions flush; the caller
(request or CLI command) commits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Role, Team, User, team_channel_accounts
from helpdesk.accounts.services import AccountError, create_user
from helpdesk.audit.models import AuditEvent
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.db import utcnow
from helpdesk.i18n import LANGUAGES, catalog_for
from helpdesk.settings.services import timezones
from helpdesk.signin.services import end_sessions
from helpdesk.tickets.models import OPEN_STATUSES, Ticket


class AdminError(ValueError):
    """A user or team change was refused; ``str()`` says what is wrong in the current language."""


def audit(session: Session, actor: User | None, action: str, data: dict[str, Any]) -> None:
    """Record an administration change; ``actor`` None means the command line."""
    if actor is None:
        session.add(AuditEvent(actor_type="system", actor_id=None, action=action, data={**data, "via": "cli"}))
    else:
        session.add(AuditEvent(actor_type="user", actor_id=actor.id, action=action, data=data))


# --- users -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    """One line of the users list: the user and how many open tickets still wait on them."""

    user: User
    open_tickets: int


def user_rows(session: Session) -> list[UserRow]:
    """Every user (active first, then by name) with their open ticket count, in two queries."""
    users = list(
        session.scalars(
            sa.select(User).options(sa.orm.selectinload(User.teams)).order_by(User.active.desc(), User.name, User.id)
        )
    )
    counts = dict(
        session.execute(
            sa.select(Ticket.assignee_id, sa.func.count())
            .where(Ticket.assignee_id.is_not(None), Ticket.status.in_([str(s) for s in OPEN_STATUSES]))
            .group_by(Ticket.assignee_id)
        ).all()
    )
    return [UserRow(u, counts.get(u.id, 0)) for u in users]


def find_user(session: Session, email: str) -> User:
    user = session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise AdminError(_l("There is no user with e-mail %(email)s.", email=email))
    return user


def _check_role(role: str) -> str:
    if role not in set(Role):
        raise AdminError(_l("Unknown role %(role)s: choose agent, lead or admin.", role=role))
    return role


def _check_locale(locale: str) -> str:
    # a stored locale may carry a region (zh_Hans_CN, en_GB); it must still name a language we serve
    served = locale in LANGUAGES or any(locale.startswith(code.split("_")[0] + "_") for code in LANGUAGES)
    if not served or catalog_for(locale) not in LANGUAGES:
        raise AdminError(
            _l("Unknown language %(code)s: choose one of %(codes)s.", code=locale, codes=", ".join(LANGUAGES))
        )
    return locale


def _check_timezone(tz: str) -> str:
    if tz not in set(timezones()):
        raise AdminError(_l("Unknown time zone %(tz)s: use a name such as Europe/Berlin or Asia/Shanghai.", tz=tz))
    return tz


def teams_by_ids(session: Session, ids: list[int]) -> list[Team]:
    found = list(session.scalars(sa.select(Team).where(Team.id.in_(ids or [-1]))))
    if len(found) != len(set(ids)):
        raise AdminError(_l("A chosen team no longer exists; reload the page and choose again."))
    return found


def teams_by_names(session: Session, names: list[str]) -> list[Team]:
    teams = []
    for name in names:
        team = session.scalar(sa.select(Team).where(Team.name == name.strip()))
        if team is None:
            raise AdminError(_l("There is no team named %(name)s.", name=name))
        teams.append(team)
    return teams


def _active_admins(session: Session) -> int:
    return session.scalar(sa.select(sa.func.count(User.id)).where(User.role == Role.ADMIN, User.active.is_(True))) or 0


def _guard_last_admin(session: Session, user: User) -> None:
    """Refuse a change that would leave the desk without an active admin (nobody could undo it from the UI)."""
    if user.role == Role.ADMIN and user.active and _active_admins(session) <= 1:
        raise AdminError(
            _l("%(name)s is the last active admin; make another user admin first.", name=user.name or user.email)
        )


def add_user(
    session: Session,
    actor: User | None,
    *,
    email: str,
    name: str,
    role: str,
    locale: str,
    timezone: str,
    teams: list[Team],
    password: str | None,
) -> User:
    """Create a user who can sign in with ``password``.

    ``password`` None means an invitation: the account gets a random password
    nobody knows, and the caller hands the user a set-password link.
    """
    invited = password is None
    if invited:
        password = secrets.token_urlsafe(32)
    assert password is not None
    if not name.strip():
        raise AdminError(_l("Give the user a name."))
    try:
        user = create_user(
            session,
            email,
            name.strip(),
            password,
            role=_check_role(role),
            locale=_check_locale(locale),
            timezone=_check_timezone(timezone),
            teams=teams,
        )
    except AccountError as exc:
        raise AdminError(_account_message(str(exc), email)) from exc
    audit(
        session,
        actor,
        "user.created",
        {
            "user_id": user.id,
            "email": user.email,
            "role": user.role,
            "teams": [t.name for t in teams],
            **({"invited": True} if invited else {}),
        },
    )
    return user


def _account_message(text: str, email: str) -> object:
    """The create_user refusal in the UI's language (it words its reasons for the CLI)."""
    if "already exists" in text:
        return _l("A user with e-mail %(email)s already exists.", email=email.strip().lower())
    if "password" in text:
        return _l("The password must have at least 8 characters.")
    if "e-mail" in text:
        return _l("%(email)s is not an e-mail address.", email=email)
    return text


def update_user(
    session: Session,
    actor: User | None,
    user: User,
    *,
    role: str | None = None,
    locale: str | None = None,
    timezone: str | None = None,
    teams: list[Team] | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """Change what is given; returns the changes as ``{field: [old, new]}`` (empty when nothing changed)."""
    changes: dict[str, Any] = {}
    if role is not None and role != user.role:
        _check_role(role)
        if user.role == Role.ADMIN:
            _guard_last_admin(session, user)
        changes["role"] = [user.role, role]
        user.role = role
    if name is not None and name.strip() and name.strip() != user.name:
        changes["name"] = [user.name, name.strip()]
        user.name = name.strip()
    if locale is not None and locale != user.locale:
        changes["locale"] = [user.locale, _check_locale(locale)]
        user.locale = locale
    if timezone is not None and timezone != user.timezone:
        changes["timezone"] = [user.timezone, _check_timezone(timezone)]
        user.timezone = timezone
    if teams is not None:
        old = sorted(t.name for t in user.teams)
        new = sorted(t.name for t in teams)
        if old != new:
            changes["teams"] = [old, new]
            user.teams = list(teams)
    if changes:
        session.flush()
        audit(session, actor, "user.updated", {"user_id": user.id, "email": user.email, "changes": changes})
    return changes


def deactivate_user(session: Session, actor: User | None, user: User) -> bool:
    """Stop the user signing in; their sessions end and API tokens stop working at their next request.

    Their tickets stay assigned (the users list shows how many) so a lead can
    reassign them knowingly rather than have them silently dropped back in the queue.
    Returns False when the user was already inactive.
    """
    if not user.active:
        return False
    _guard_last_admin(session, user)
    user.active = False
    end_sessions(session, user)  # reactivating them later must not bring an old cookie back to life
    session.flush()
    audit(session, actor, "user.deactivated", {"user_id": user.id, "email": user.email})
    return True


def reactivate_user(session: Session, actor: User | None, user: User) -> bool:
    if user.active:
        return False
    user.active = True
    session.flush()
    audit(session, actor, "user.reactivated", {"user_id": user.id, "email": user.email})
    return True


def record_sign_in(user: User) -> None:
    """Remember when a user last signed in (shown on the users list)."""
    user.last_login_at = utcnow()


# --- teams -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamRow:
    team: Team
    members: list[User]
    stores: list[ChannelAccount]


def team_rows(session: Session) -> list[TeamRow]:
    teams = list(session.scalars(sa.select(Team).options(sa.orm.selectinload(Team.members)).order_by(Team.name)))
    stores = stores_by_team(session, [t.id for t in teams])
    return [TeamRow(t, sorted(t.members, key=lambda u: u.name), stores.get(t.id, [])) for t in teams]


def stores_by_team(session: Session, team_ids: list[int]) -> dict[int, list[ChannelAccount]]:
    rows = session.execute(
        sa.select(team_channel_accounts.c.team_id, ChannelAccount)
        .join(ChannelAccount, ChannelAccount.id == team_channel_accounts.c.channel_account_id)
        .where(team_channel_accounts.c.team_id.in_(team_ids or [-1]))
        .order_by(ChannelAccount.display_name)
    ).all()
    out: dict[int, list[ChannelAccount]] = {}
    for team_id, account in rows:
        out.setdefault(team_id, []).append(account)
    return out


def team_stores(session: Session, team: Team) -> list[ChannelAccount]:
    return stores_by_team(session, [team.id]).get(team.id, [])


def find_team(session: Session, name: str) -> Team:
    return teams_by_names(session, [name])[0]


def find_store(session: Session, name: str) -> ChannelAccount:
    account = session.scalar(sa.select(ChannelAccount).where(ChannelAccount.name == name.strip()))
    if account is None:
        raise AdminError(_l("There is no store or mailbox named %(name)s.", name=name))
    return account


def _clean_team_name(session: Session, name: str, team: Team | None = None) -> str:
    name = name.strip()
    if not name:
        raise AdminError(_l("Give the team a name."))
    if len(name) > 120:
        raise AdminError(_l("A team name has at most 120 characters."))
    clash = session.scalar(sa.select(Team.id).where(Team.name == name))
    if clash is not None and (team is None or clash != team.id):
        raise AdminError(_l("A team named %(name)s already exists.", name=name))
    return name


def create_team(session: Session, actor: User | None, name: str) -> Team:
    team = Team(name=_clean_team_name(session, name))
    session.add(team)
    session.flush()
    audit(session, actor, "team.created", {"team_id": team.id, "team": team.name})
    return team


def rename_team(session: Session, actor: User | None, team: Team, name: str) -> None:
    new = _clean_team_name(session, name, team)
    if new == team.name:
        return
    old, team.name = team.name, new
    session.flush()
    audit(session, actor, "team.renamed", {"team_id": team.id, "team": new, "old": old})


def delete_team(session: Session, actor: User | None, team: Team) -> None:
    """Delete a team; its members stay users, its stores stay connected, its agents lose sight of them."""
    data = {
        "team_id": team.id,
        "team": team.name,
        "members": sorted(u.email for u in team.members),
        "stores": sorted(a.name for a in team_stores(session, team)),
    }
    session.execute(sa.update(Ticket).where(Ticket.team_id == team.id).values(team_id=None))
    session.delete(team)
    session.flush()
    audit(session, actor, "team.deleted", data)


def add_member(session: Session, actor: User | None, team: Team, user: User) -> bool:
    if user in team.members:
        return False
    team.members.append(user)
    session.flush()
    audit(session, actor, "team.member_added", {"team_id": team.id, "team": team.name, "email": user.email})
    return True


def remove_member(session: Session, actor: User | None, team: Team, user: User) -> bool:
    if user not in team.members:
        return False
    team.members.remove(user)
    session.flush()
    audit(session, actor, "team.member_removed", {"team_id": team.id, "team": team.name, "email": user.email})
    return True


def set_stores(
    session: Session, actor: User | None, team: Team, accounts: list[ChannelAccount]
) -> dict[str, list[str]]:
    """Make ``accounts`` exactly the stores the team serves; returns what was added and removed."""
    current = {a.id: a for a in team_stores(session, team)}
    wanted = {a.id: a for a in accounts}
    added = [wanted[i] for i in wanted.keys() - current.keys()]
    removed = [current[i] for i in current.keys() - wanted.keys()]
    if removed:
        session.execute(
            sa.delete(team_channel_accounts).where(
                team_channel_accounts.c.team_id == team.id,
                team_channel_accounts.c.channel_account_id.in_([a.id for a in removed]),
            )
        )
    if added:
        session.execute(
            sa.insert(team_channel_accounts), [{"team_id": team.id, "channel_account_id": a.id} for a in added]
        )
    change = {"added": sorted(a.name for a in added), "removed": sorted(a.name for a in removed)}
    if added or removed:
        session.flush()
        audit(session, actor, "team.stores_changed", {"team_id": team.id, "team": team.name, **change})
    return change


def add_store(session: Session, actor: User | None, team: Team, account: ChannelAccount) -> bool:
    current = team_stores(session, team)
    if any(a.id == account.id for a in current):
        return False
    set_stores(session, actor, team, [*current, account])
    return True


def remove_store(session: Session, actor: User | None, team: Team, account: ChannelAccount) -> bool:
    current = team_stores(session, team)
    if all(a.id != account.id for a in current):
        return False
    set_stores(session, actor, team, [a for a in current if a.id != account.id])
    return True


def stores_by_ids(session: Session, ids: list[int]) -> list[ChannelAccount]:
    found = list(session.scalars(sa.select(ChannelAccount).where(ChannelAccount.id.in_(ids or [-1]))))
    if len(found) != len(set(ids)):
        raise AdminError(_l("A chosen store no longer exists; reload the page and choose again."))
    return found


def last_sign_in(user: User) -> datetime | None:
    return user.last_login_at
