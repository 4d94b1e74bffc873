"""``helpdesk users unthrottle|throttled|…``: the Sign-in security page's twins, in the users group."""

from __future__ import annotations

import click

from helpdesk.accounts.cli import users_cli
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.signin import throttle


@users_cli.command("unthrottle")
@click.argument("email", required=False)
@click.option("--address", help="Clear this source address instead (or as well: only that pair).")
def unthrottle_command(email: str | None, address: str | None) -> None:
    """Let EMAIL (and/or a source address) try to sign in again at once."""
    if email is None and address is None:
        raise click.UsageError("name an e-mail address, --address, or both")
    cleared = throttle.clear(db.session, email=email, address=address)
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
