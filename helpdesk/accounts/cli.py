"""``helpdesk users …`` and ``helpdesk teams …``: the administration pages' twins for scripted set-up.

Changes made here are audited with actor ``system`` and ``via: cli``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click
from flask.cli import AppGroup

from helpdesk.extensions import db

users_cli = AppGroup("users", help="Users: create, change, deactivate, and their sign-in security.")
teams_cli = AppGroup("teams", help="Teams: members and the stores each serves.")

F = TypeVar("F", bound=Callable[..., Any])


def _refusals(fn: F) -> F:
    """Turn a refused change into a usage error that names what is wrong, and roll back."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from helpdesk.accounts.admin_services import AdminError

        try:
            return fn(*args, **kwargs)
        except AdminError as exc:
            db.session.rollback()
            raise click.UsageError(str(exc.args[0])) from exc

    return wrapper  # type: ignore[return-value]


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


# --- users -----------------------------------------------------------------------------------------


@users_cli.command("list")
@click.option("--inactive/--active-only", default=True, help="Include deactivated users (default) or not.")
def users_list(inactive: bool) -> None:
    """Users with role, teams, language, time zone, state and open tickets."""
    from helpdesk.accounts.admin_services import user_rows

    rows = [r for r in user_rows(db.session) if inactive or r.user.active]
    if not rows:
        click.echo("No users yet: 'helpdesk users create' adds one.")
    for r in rows:
        u = r.user
        state = "active" if u.active else "inactive"
        teams = ",".join(sorted(t.name for t in u.teams)) or "-"
        last = u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never"
        click.echo(
            f"{u.email:32} {u.role:6} {state:8} {u.locale:10} {u.timezone:20} "
            f"open={r.open_tickets:<4} last-sign-in={last:16} teams={teams}  {u.name}"
        )


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", default="agent", show_default=True, help="agent, lead or admin.")
@click.option("--locale", default="en", show_default=True, help="UI language: en or zh_Hans.")
@click.option("--timezone", "tz", default="UTC", show_default=True, help="e.g. Europe/Berlin.")
@click.option("--teams", default="", help="Comma-separated team names.")
@click.option("--password-env", help="Read the password from this environment variable instead of prompting.")
@click.option("--invite", is_flag=True, help="No password: print a set-password link to give the user (3 days, once).")
@click.option(
    "--mail", "mail_invite", is_flag=True, help="With --invite: mail the link instead (needs HELPDESK_SMTP_URL)."
)
@_refusals
def users_create(
    email: str,
    name: str,
    role: str,
    locale: str,
    tz: str,
    teams: str,
    password_env: str | None,
    invite: bool,
    mail_invite: bool,
) -> None:
    """Create a user who can sign in (with a password, or invited with a set-password link)."""
    from flask import current_app

    from helpdesk.accounts.admin_services import add_user, teams_by_names
    from helpdesk.signin.mail import mail_configured

    if mail_invite and not invite:
        raise click.UsageError("--mail goes with --invite")
    if mail_invite and not mail_configured(current_app.config["HELPDESK_SETTINGS"]):
        raise click.UsageError(
            "mail is not set up (HELPDESK_SMTP_URL, HELPDESK_MAIL_FROM): use --invite alone to print the link"
        )
    password: str | None = None  # None: invited, no password anyone knows
    if password_env and not invite:
        password = os.environ.get(password_env)
        if password is None:
            raise click.UsageError(f"environment variable {password_env} is not set")
    elif not invite:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = add_user(
        db.session,
        None,
        email=email,
        name=name,
        role=role,
        locale=locale,
        timezone=tz,
        teams=teams_by_names(db.session, _split(teams) or []),
        password=password,
    )
    if mail_invite:
        from helpdesk.accounts.tasks import mail_invitation

        db.session.commit()
        mail_invitation(user.id, None)
        click.echo(f"Created {user.email} ({user.role}); the invitation is queued for mailing.")
        return
    if invite:
        from helpdesk.signin.admin_services import hand_over_link

        path = hand_over_link(db.session, None, user)
        db.session.commit()
        base = current_app.config["HELPDESK_SETTINGS"].public_url or "<this helpdesk's address>"
        click.echo(
            f"Created {user.email} ({user.role}). Give them this link; it sets their password, once, within 3 days:"
        )
        click.echo(base + path)
        return
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role}).")


@users_cli.command("update")
@click.argument("email")
@click.option("--name")
@click.option("--role", help="agent, lead or admin.")
@click.option("--locale", help="UI language: en or zh_Hans.")
@click.option("--timezone", "tz", help="e.g. Europe/Berlin.")
@click.option("--teams", help="Comma-separated team names; replaces the user's teams ('' for none).")
@_refusals
def users_update(
    email: str, name: str | None, role: str | None, locale: str | None, tz: str | None, teams: str | None
) -> None:
    """Change a user's name, role, language, time zone or teams."""
    from helpdesk.accounts.admin_services import find_user, teams_by_names, update_user

    user = find_user(db.session, email)
    names = _split(teams)
    changes = update_user(
        db.session,
        None,
        user,
        name=name,
        role=role,
        locale=locale,
        timezone=tz,
        teams=None if names is None else teams_by_names(db.session, names),
    )
    db.session.commit()
    if not changes:
        click.echo(f"{user.email}: nothing to change.")
    for field, (old, new) in changes.items():
        click.echo(f"{user.email}: {field} {old} -> {new}")


@users_cli.command("deactivate")
@click.argument("email")
@_refusals
def users_deactivate(email: str) -> None:
    """Stop a user signing in; their sessions and API tokens stop at once, their tickets stay assigned."""
    from helpdesk.accounts.admin_services import deactivate_user, find_user, user_rows

    user = find_user(db.session, email)
    if not deactivate_user(db.session, None, user):
        click.echo(f"{user.email} was already deactivated.")
        return
    db.session.commit()
    open_count = next(r.open_tickets for r in user_rows(db.session) if r.user.id == user.id)
    click.echo(f"Deactivated {user.email}. {open_count} open tickets are still assigned to them: reassign them.")


@users_cli.command("reactivate")
@click.argument("email")
@_refusals
def users_reactivate(email: str) -> None:
    """Let a deactivated user sign in again."""
    from helpdesk.accounts.admin_services import find_user, reactivate_user

    user = find_user(db.session, email)
    if not reactivate_user(db.session, None, user):
        click.echo(f"{user.email} is already active.")
        return
    db.session.commit()
    click.echo(f"Reactivated {user.email}.")


# --- teams -----------------------------------------------------------------------------------------


@teams_cli.command("list")
def teams_list() -> None:
    """Teams with their members and stores."""
    from helpdesk.accounts.admin_services import team_rows

    rows = team_rows(db.session)
    if not rows:
        click.echo("No teams yet: 'helpdesk teams create NAME' adds one.")
    for r in rows:
        members = ",".join(u.email for u in r.members) or "-"
        stores = ",".join(a.name for a in r.stores) or "-"
        click.echo(f"{r.team.name:24} members={members}  stores={stores}")


@teams_cli.command("create")
@click.argument("name")
@_refusals
def teams_create(name: str) -> None:
    """Create an empty team."""
    from helpdesk.accounts.admin_services import create_team

    team = create_team(db.session, None, name)
    db.session.commit()
    click.echo(f"Created team {team.name}. Next: 'helpdesk teams add-member' and 'helpdesk teams add-store'.")


@teams_cli.command("rename")
@click.argument("name")
@click.argument("new_name")
@_refusals
def teams_rename(name: str, new_name: str) -> None:
    """Rename team NAME to NEW_NAME."""
    from helpdesk.accounts.admin_services import find_team, rename_team

    rename_team(db.session, None, find_team(db.session, name), new_name)
    db.session.commit()
    click.echo(f"Renamed {name} to {new_name.strip()}.")


@teams_cli.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_refusals
def teams_delete(name: str, yes: bool) -> None:
    """Delete a team; its members lose sight of its stores unless another team serves them."""
    from helpdesk.accounts.admin_services import delete_team, find_team

    team = find_team(db.session, name)
    if not yes:
        click.confirm(f"Delete team {team.name} ({len(team.members)} members)?", abort=True)
    delete_team(db.session, None, team)
    db.session.commit()
    click.echo(f"Deleted team {name}.")


def _membership(name: str, email: str, add: bool) -> None:
    from helpdesk.accounts.admin_services import add_member, find_team, find_user, remove_member

    team, user = find_team(db.session, name), find_user(db.session, email)
    changed = (add_member if add else remove_member)(db.session, None, team, user)
    db.session.commit()
    if add:
        click.echo(f"Added {user.email} to {team.name}." if changed else f"{user.email} is already in {team.name}.")
    else:
        click.echo(f"Removed {user.email} from {team.name}." if changed else f"{user.email} is not in {team.name}.")


@teams_cli.command("add-member")
@click.argument("name")
@click.argument("email")
@_refusals
def teams_add_member(name: str, email: str) -> None:
    """Add the user EMAIL to team NAME."""
    _membership(name, email, add=True)


@teams_cli.command("remove-member")
@click.argument("name")
@click.argument("email")
@_refusals
def teams_remove_member(name: str, email: str) -> None:
    """Remove the user EMAIL from team NAME."""
    _membership(name, email, add=False)


def _store(name: str, store: str, add: bool) -> None:
    from helpdesk.accounts.admin_services import add_store, find_store, find_team, remove_store

    team, account = find_team(db.session, name), find_store(db.session, store)
    changed = (add_store if add else remove_store)(db.session, None, team, account)
    db.session.commit()
    if add:
        click.echo(
            f"{team.name} now serves {account.name}." if changed else f"{team.name} already serves {account.name}."
        )
    else:
        click.echo(
            f"{team.name} no longer serves {account.name}." if changed else f"{team.name} did not serve {account.name}."
        )


@teams_cli.command("add-store")
@click.argument("name")
@click.argument("store")
@_refusals
def teams_add_store(name: str, store: str) -> None:
    """Let team NAME serve STORE (a channel account's name, see 'helpdesk channels list')."""
    _store(name, store, add=True)


@teams_cli.command("remove-store")
@click.argument("name")
@click.argument("store")
@_refusals
def teams_remove_store(name: str, store: str) -> None:
    """Stop team NAME serving STORE."""
    _store(name, store, add=False)
