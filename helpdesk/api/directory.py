"""``/api/v1/users`` and ``/api/v1/teams``: who works on the desk, read-only, for assigning from a script.

The same rules as the UI: everyone may look up colleagues to assign them,
but only leads and admins see addresses, sign-in times, deactivated users
and every team; an agent sees the teams they belong to (the stores of other
teams are none of their business).  Changes stay in the admin pages and
the ``users``/``teams`` commands.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import g, request
from pydantic import BaseModel, Field

from helpdesk import MAX_ID
from helpdesk.accounts.admin_services import stores_by_team
from helpdesk.accounts.models import Role, Team, User
from helpdesk.api.auth import api_auth
from helpdesk.api.errors import ApiError
from helpdesk.api.spec import ApiModel, api_spec, responses
from helpdesk.api.views import bp
from helpdesk.extensions import db


class UserOut(BaseModel):
    id: int
    name: str
    role: str = Field(description="agent, lead or admin")
    active: bool
    locale: str
    team_ids: list[int]
    email: str | None = Field(description="leads and admins only; null for agents")
    last_login_at: datetime | None = Field(description="leads and admins only")


class UserList(BaseModel):
    users: list[UserOut]
    next_after: int | None = Field(description="pass as `after` for the next page; null on the last")


class UserQuery(ApiModel):
    after: int | None = Field(None, ge=0, le=MAX_ID, description="the `next_after` of the page before")
    limit: int = Field(100, ge=1, le=500)
    include_inactive: bool = Field(False, description="leads and admins only")


class TeamOut(BaseModel):
    id: int
    name: str
    member_ids: list[int]
    store_ids: list[int] = Field(description="the channel accounts the team serves")


class TeamList(BaseModel):
    teams: list[TeamOut]


def _sees_everyone(user: User) -> bool:
    return user.role in (Role.LEAD, Role.ADMIN)


def _user_out(user: User, full: bool) -> UserOut:
    return UserOut(
        id=user.id,
        name=user.name,
        role=user.role,
        active=user.active,
        locale=user.locale,
        team_ids=sorted(t.id for t in user.teams),
        email=user.email if full else None,
        last_login_at=user.last_login_at if full else None,
    )


@bp.get("/users")
@api_auth()
@api_spec.validate(query=UserQuery, resp=responses(400, HTTP_200=UserList), tags=["users and teams"])
def list_users() -> UserList:
    """Users by id, 100 a page (`after`, `limit`); agents get names and roles, leads and admins everything."""
    query: UserQuery = request.context.query  # type: ignore[attr-defined]
    full = _sees_everyone(g.api_user)
    stmt = sa.select(User).order_by(User.id).limit(query.limit + 1)
    if query.after is not None:
        stmt = stmt.where(User.id > query.after)
    if not (full and query.include_inactive):
        stmt = stmt.where(User.active.is_(True))
    users = list(db.session.scalars(stmt))
    more = len(users) > query.limit
    users = users[: query.limit]
    body = UserList(users=[_user_out(u, full) for u in users], next_after=users[-1].id if more else None)
    db.session.commit()  # last_used_at of the token
    return body


@bp.get("/users/<int:user_id>")
@api_auth()
@api_spec.validate(resp=responses(HTTP_200=UserOut), tags=["users and teams"])
def get_user(user_id: int) -> UserOut:
    """One user; a deactivated one only for leads and admins."""
    full = _sees_everyone(g.api_user)
    user = db.session.get(User, user_id)
    if user is None or (not user.active and not full):
        raise ApiError(404, "not_found", "no such user")
    body = _user_out(user, full)
    db.session.commit()
    return body


@bp.get("/teams")
@api_auth()
@api_spec.validate(resp=responses(HTTP_200=TeamList), tags=["users and teams"])
def list_teams() -> TeamList:
    """Every team for leads and admins; an agent's own teams for an agent."""
    user = g.api_user
    stmt = sa.select(Team).order_by(Team.name)
    if not _sees_everyone(user):
        stmt = stmt.where(Team.id.in_([t.id for t in user.teams] or [-1]))
    teams = list(db.session.scalars(stmt))
    stores = stores_by_team(db.session, [t.id for t in teams])
    body = TeamList(
        teams=[
            TeamOut(
                id=t.id,
                name=t.name,
                member_ids=sorted(m.id for m in t.members if m.active),
                store_ids=sorted(a.id for a in stores.get(t.id, [])),
            )
            for t in teams
        ]
    )
    db.session.commit()
    return body
