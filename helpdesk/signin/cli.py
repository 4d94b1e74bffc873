"""``helpdesk users unthrottle|throttled|…``: the Sign-in security page's twins, in the users group."""

from __future__ import annotations

import os

import click
import sqlalchemy as sa
from flask import current_app

from helpdesk.accounts.cli import users_cli
from helpdesk.accounts.models import Role, User
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.signin import admin_services, throttle, totp
from helpdesk.signin.services import PasswordError


@users_cli.command("unthrottle")
@click.argument("email", required=False)
@click.option("--address", help="Clear this source address instead (or as well: only that pair).")
def unthrottle_command(email: str | None, address: str | None) -> None:
    """Let EMAIL (and/or a source address) try to sign in again at once."""
    if email is None and address is None:
        raise click.UsageError("name an e-mail address, --address, or both")
    cleared = admin_services.clear_throttles(db.session, None, email=email, address=address)
    db.session.commit()
    what = " from ".join(part for part in (email, address) if part)
    click.echo(f"Cleared {cleared} throttle row(s) for {what}." if cleared else f"Nothing was throttled for {what}.")


@users_cli.command("throttled")
def throttled_command() -> None:
    """List the failed sign-ins of the last hour and who waits now."""
    rows = throttle.current(db.session)
    if not rows:
        click.echo("No failed sign-ins in the last hour.")
        return
    now = utcnow()
    for row in rows:
        waits = (
            f"waits until {row.blocked_until:%Y-%m-%d %H:%M:%S} UTC"
            if row.blocked_until and row.blocked_until > now
            else "not waiting"
        )
        click.echo(f"{row.email or '(every e-mail address)'}\t{row.address}\t{row.failures} failure(s)\t{waits}")


@users_cli.command("reset-password")
@click.argument("email")
@click.option("--password-env", help="Set the password read from this environment variable instead of making a link.")
def reset_password_command(email: str, password_env: str | None) -> None:
    """Give EMAIL a single-use set-password link (valid three days), or set a password; their sessions end."""
    user = _user(email)
    if password_env:
        password = os.environ.get(password_env)
        if password is None:
            raise click.UsageError(f"environment variable {password_env} is not set")
        try:
            admin_services.set_password_for(db.session, None, user, password)
        except PasswordError as exc:
            raise click.UsageError(str(exc)) from None
        db.session.commit()
        click.echo(f"New password set for {user.email}; their sessions have ended.")
        return
    path = admin_services.hand_over_link(db.session, None, user)
    db.session.commit()
    public = current_app.config["HELPDESK_SETTINGS"].public_url
    click.echo(f"Set-password link for {user.email} (works once, for three days):")
    click.echo(f"{public}{path}" if public else f"{path}    (prefix it with this helpdesk's address)")


def _user(email: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == throttle.normalise_email(email)))
    if user is None:
        raise click.UsageError(f"there is no user with e-mail {email}")
    return user


@users_cli.command("end-sessions")
@click.argument("email")
def end_sessions_command(email: str) -> None:
    """Sign EMAIL out on every device at once (a lost laptop, a leaver); they can sign in again."""
    user = _user(email)
    ended = admin_services.end_sessions_for(db.session, None, user)
    db.session.commit()
    click.echo(f"Ended {ended} session(s) of {user.email}; every browser they used must sign in again.")


@users_cli.command("reset-2fa")
@click.argument("email")
def reset_two_factor_command(email: str) -> None:
    """Turn off EMAIL's two-factor sign-in (lost phone and recovery codes); they set it up again under Settings."""
    user = _user(email)
    done = admin_services.reset_two_factor(db.session, None, user)
    db.session.commit()
    click.echo(f"Two-factor sign-in is off for {user.email}." if done else f"{user.email} had no two-factor sign-in.")


@users_cli.command("require-2fa")
@click.argument("roles", nargs=-1, type=click.Choice([str(r) for r in Role]))
@click.option("--none", "no_roles", is_flag=True, help="Require it of no role.")
def require_two_factor_command(roles: tuple[str, ...], no_roles: bool) -> None:
    """Require two-factor sign-in of exactly ROLES (e.g. 'admin lead'); --none to require it of nobody."""
    if not roles and not no_roles:
        current = sorted(totp.required_roles(db.session))
        click.echo(f"Two-factor sign-in is required of: {', '.join(current) or 'no role'}.")
        return
    admin_services.require_two_factor(db.session, None, set(roles))
    db.session.commit()
    click.echo(f"Two-factor sign-in is now required of: {', '.join(sorted(roles)) or 'no role'}.")
