"""``/admin/users`` and ``/admin/teams``: admins manage who signs in and which stores each team serves.

Leads may read the teams (who serves which store); everything else here is
admin-only and answers 404 to anyone else, so the pages do not reveal
themselves.  Handlers parse the form, call ``admin_services`` and commit.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required, user_logged_in
from werkzeug.wrappers import Response

from helpdesk.accounts import admin_services as svc
from helpdesk.accounts.models import Role, Team, User
from helpdesk.accounts.tasks import mail_invitation
from helpdesk.admin.sections import Section, add_section
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.extensions import db
from helpdesk.i18n import LANGUAGES, catalog_for
from helpdesk.params import parse_ids
from helpdesk.settings.services import timezones
from helpdesk.signin import cookie
from helpdesk.signin.admin_services import end_sessions_for, hand_over_link
from helpdesk.signin.mail import mail_configured
from helpdesk.signin.records import live_counts

bp = Blueprint("useradmin", __name__, url_prefix="/admin")

add_section(
    Section(
        "useradmin.users",
        _l("Users"),
        _l("Agents, leads and admins: create, change roles and teams, deactivate."),
        order=10,
    )
)
add_section(
    Section(
        "useradmin.teams",
        _l("Teams"),
        _l("Who works together and which stores each team serves."),
        leads_read_only=True,
        order=20,
    )
)


@user_logged_in.connect
def _remember_sign_in(app: Any, user: User, **_extra: Any) -> None:
    """Stamp the sign-in time in its own short transaction: the sign-in view has already committed."""
    svc.record_sign_in(user)
    db.session.commit()


def _can_mail() -> bool:
    return mail_configured(current_app.config["HELPDESK_SETTINGS"])


def _require_admin() -> None:
    if current_user.role != Role.ADMIN:
        abort(404)


def _require_lead() -> None:
    if not current_user.sees_everything:
        abort(404)


def _ids(name: str) -> list[int]:
    return parse_ids(name, request.form.getlist(name))


def _refused(exc: svc.AdminError) -> None:
    db.session.rollback()
    flash(str(exc.args[0]), "error")


# --- users -----------------------------------------------------------------------------------------


@bp.get("/users")
@login_required
def users() -> str:
    _require_admin()
    rows = svc.user_rows(db.session)
    return render_template(
        "admin/users.html",
        rows=rows,
        sessions=live_counts(db.session, [r.user.id for r in rows], cookie.lifetimes()),
        languages=LANGUAGES,
        catalog_for=catalog_for,
    )


def _user_form(user: User | None, values: Any, status: int = 200) -> tuple[str, int]:
    teams = list(db.session.scalars(sa.select(Team).order_by(Team.name)))
    return (
        render_template(
            "admin/user_form.html",
            user=user,
            values=values,
            teams=teams,
            languages=LANGUAGES,
            timezones=timezones(),
            roles=[(Role.AGENT, _("Agent")), (Role.LEAD, _("Lead")), (Role.ADMIN, _("Admin"))],
            can_mail=_can_mail(),
        ),
        status,
    )


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def new_user() -> tuple[str, int] | Response:
    _require_admin()
    if request.method == "GET":
        return _user_form(None, {"role": Role.AGENT, "locale": "en", "timezone": "UTC", "teams": []})
    form = request.form
    invite = form.get("invite") in {"1", "mail"}
    by_mail = form.get("invite") == "mail" and _can_mail()
    try:
        user = svc.add_user(
            db.session,
            current_user,
            email=form.get("email", ""),
            name=form.get("name", ""),
            role=form.get("role", ""),
            locale=form.get("locale", ""),
            timezone=form.get("timezone", ""),
            teams=svc.teams_by_ids(db.session, _ids("teams")),
            password=None if invite else form.get("password", ""),
        )
        link = hand_over_link(db.session, current_user, user) if invite and not by_mail else None
    except svc.AdminError as exc:
        _refused(exc)
        values = {**form.to_dict(), "teams": _ids("teams")}
        values.pop("password", None)
        return _user_form(None, values, 422)
    db.session.commit()
    if by_mail:
        mail_invitation(user.id, current_user.id)  # after the commit: the task reads the new user
        flash(
            _("User %(email)s created; an invitation with a set-password link is on its way.", email=user.email),
            "success",
        )
        return redirect(url_for("useradmin.users"))
    if link is not None:
        # shown once in this response, never flashed: the flash travels in the (signed, readable) session cookie
        base = current_app.config["HELPDESK_SETTINGS"].public_url or request.host_url.rstrip("/")
        return render_template("admin/user_invited.html", user=user, link=base + link), 201
    flash(_("User %(email)s created. Tell them their password through a safe channel.", email=user.email), "success")
    return redirect(url_for("useradmin.users"))


def _user(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def edit_user(user_id: int) -> tuple[str, int] | Response:
    _require_admin()
    user = _user(user_id)
    if request.method == "GET":
        values = {
            "name": user.name,
            "role": user.role,
            "locale": user.locale,
            "timezone": user.timezone,
            "teams": [t.id for t in user.teams],
        }
        return _user_form(user, values)
    form = request.form
    try:
        changes = svc.update_user(
            db.session,
            current_user,
            user,
            name=form.get("name"),
            role=form.get("role"),
            locale=form.get("locale"),
            timezone=form.get("timezone"),
            teams=svc.teams_by_ids(db.session, _ids("teams")),
        )
    except svc.AdminError as exc:
        _refused(exc)
        return _user_form(user, {**form.to_dict(), "teams": _ids("teams")}, 422)
    db.session.commit()
    if changes:
        flash(_("%(name)s saved.", name=user.name), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("useradmin.users"))


@bp.post("/users/<int:user_id>/deactivate")
@login_required
def deactivate(user_id: int) -> Response:
    _require_admin()
    user = _user(user_id)
    try:
        svc.deactivate_user(db.session, current_user, user)
    except svc.AdminError as exc:
        _refused(exc)
    else:
        db.session.commit()
        flash(
            _("%(name)s can no longer sign in; their tickets stay assigned until you reassign them.", name=user.name),
            "success",
        )
    return redirect(url_for("useradmin.users"))


@bp.post("/users/<int:user_id>/end-sessions")
@login_required
def end_sessions(user_id: int) -> Response:
    """Sign someone out on every device at once: a lost laptop, a leaver, a password that got out."""
    _require_admin()
    user = _user(user_id)
    ended = end_sessions_for(db.session, current_user, user)
    db.session.commit()
    flash(
        ngettext(
            "Ended %(num)d session of %(name)s; they must sign in again.",
            "Ended %(num)d sessions of %(name)s; they must sign in again.",
            ended,
            name=user.name,
        ),
        "success",
    )
    return redirect(url_for("useradmin.users"))


@bp.post("/users/<int:user_id>/reactivate")
@login_required
def reactivate(user_id: int) -> Response:
    _require_admin()
    user = _user(user_id)
    svc.reactivate_user(db.session, current_user, user)
    db.session.commit()
    flash(_("%(name)s can sign in again.", name=user.name), "success")
    return redirect(url_for("useradmin.users"))


# --- teams -----------------------------------------------------------------------------------------


@bp.get("/teams")
@login_required
def teams() -> str:
    _require_lead()
    return render_template("admin/teams.html", rows=svc.team_rows(db.session), can_edit=current_user.role == Role.ADMIN)


@bp.post("/teams")
@login_required
def create_team() -> Response:
    _require_admin()
    try:
        team = svc.create_team(db.session, current_user, request.form.get("name", ""))
    except svc.AdminError as exc:
        _refused(exc)
        return redirect(url_for("useradmin.teams"))
    db.session.commit()
    flash(_("Team %(name)s created. Now add its members and stores.", name=team.name), "success")
    return redirect(url_for("useradmin.team", team_id=team.id))


def _team(team_id: int) -> Team:
    return db.session.get(Team, team_id) or abort(404)


@bp.get("/teams/<int:team_id>")
@login_required
def team(team_id: int) -> str:
    _require_lead()
    team = _team(team_id)
    stores = svc.team_stores(db.session, team)
    return render_template(
        "admin/team.html",
        team=team,
        members=sorted(team.members, key=lambda u: u.name),
        stores=stores,
        serving={a.id for a in stores},
        accounts=list(db.session.scalars(sa.select(ChannelAccount).order_by(ChannelAccount.display_name))),
        others=list(
            db.session.scalars(
                sa.select(User)
                .where(User.active.is_(True))
                .where(User.id.not_in([u.id for u in team.members] or [-1]))
                .order_by(User.name)
            )
        ),
        can_edit=current_user.role == Role.ADMIN,
    )


@bp.post("/teams/<int:team_id>/rename")
@login_required
def rename_team(team_id: int) -> Response:
    _require_admin()
    team = _team(team_id)
    try:
        svc.rename_team(db.session, current_user, team, request.form.get("name", ""))
    except svc.AdminError as exc:
        _refused(exc)
    else:
        db.session.commit()
        flash(_("Team renamed to %(name)s.", name=team.name), "success")
    return redirect(url_for("useradmin.team", team_id=team_id))


@bp.route("/teams/<int:team_id>/delete", methods=["GET", "POST"])
@login_required
def delete_team(team_id: int) -> str | Response:
    _require_admin()
    team = _team(team_id)
    if request.method == "GET":
        return render_template("admin/team_delete.html", team=team, stores=svc.team_stores(db.session, team))
    name = team.name
    svc.delete_team(db.session, current_user, team)
    db.session.commit()
    flash(_("Team %(name)s deleted.", name=name), "success")
    return redirect(url_for("useradmin.teams"))


@bp.post("/teams/<int:team_id>/members")
@login_required
def add_member(team_id: int) -> Response:
    _require_admin()
    team = _team(team_id)
    user = db.session.get(User, _ids("user_id")[0] if _ids("user_id") else -1)
    if user is None:
        flash(_("Choose a user to add."), "error")
    else:
        svc.add_member(db.session, current_user, team, user)
        db.session.commit()
        flash(_("%(name)s added to %(team)s.", name=user.name, team=team.name), "success")
    return redirect(url_for("useradmin.team", team_id=team_id))


@bp.post("/teams/<int:team_id>/members/<int:user_id>/remove")
@login_required
def remove_member(team_id: int, user_id: int) -> Response:
    _require_admin()
    team, user = _team(team_id), _user(user_id)
    svc.remove_member(db.session, current_user, team, user)
    db.session.commit()
    flash(_("%(name)s removed from %(team)s.", name=user.name, team=team.name), "success")
    return redirect(url_for("useradmin.team", team_id=team_id))


@bp.post("/teams/<int:team_id>/stores")
@login_required
def set_stores(team_id: int) -> Response:
    _require_admin()
    team = _team(team_id)
    try:
        change = svc.set_stores(db.session, current_user, team, svc.stores_by_ids(db.session, _ids("stores")))
    except svc.AdminError as exc:
        _refused(exc)
    else:
        db.session.commit()
        if change["added"] or change["removed"]:
            flash(_("Stores of %(team)s saved.", team=team.name), "success")
        else:
            flash(_("Nothing changed."), "info")
    return redirect(url_for("useradmin.team", team_id=team_id))
