"""``flask --app wsgi helpdesk notifications …``: a person's notifications, mark read, prove the counts."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from helpdesk.accounts.models import User
from helpdesk.extensions import db
from helpdesk.notifications import services

notifications_cli = AppGroup(
    "notifications", help="Notifications: mentions, assignments, SLA warnings; disabled webhooks (admins)."
)


def _user(email: str) -> User:
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.UsageError(f"no user with e-mail {email}; `helpdesk users list` shows them")
    return user


@notifications_cli.command("list")
@click.option("--user", "email", required=True, help="The person's e-mail address.")
@click.option("--unread", is_flag=True, help="Only unread ones.")
def list_command(email: str, unread: bool) -> None:
    """The person's newest notifications (50), unread marked with *."""
    user = _user(email)
    for item in services.recent(db.session, user, unread_only=unread):
        n = item.notification
        mark = "*" if n.read_at is None else " "
        who = item.actor_name or "-"
        if n.kind == "channel_silent":
            what = f"channel {n.data.get('name')} not polled since {n.data.get('since')} ({n.data.get('last_attempt')})"
        elif n.ticket_id is None:  # about the desk: a disabled webhook
            what = f"webhook {n.data.get('name')} ({n.data.get('url')}) disabled: {n.data.get('error') or '-'}"
        else:
            what = f"#{n.ticket_id}  {who}  {item.subject}"
        click.echo(f"{mark} {n.id:>8}  {n.created_at:%Y-%m-%d %H:%M}  {n.kind:<12}  {what}")
    click.echo(f"{services.unread_count(db.session, user.id)} unread.")


@notifications_cli.command("read")
@click.option("--user", "email", required=True, help="The person's e-mail address.")
@click.option("--all", "everything", is_flag=True, help="Mark every unread notification read.")
@click.argument("ids", nargs=-1, type=int)
def read_command(email: str, everything: bool, ids: tuple[int, ...]) -> None:
    """Mark notifications read (by id, or --all)."""
    user = _user(email)
    if not everything and not ids:
        raise click.UsageError("give notification ids (see `notifications list`) or --all")
    if everything:
        done = services.mark_all_read(db.session, user)
    else:
        missing = [i for i in ids if services.mark_read(db.session, user, i) is None]
        if missing:
            db.session.rollback()
            raise click.UsageError(f"not notifications of {user.email}: {', '.join(map(str, missing))}")
        done = len(ids)
    db.session.commit()
    click.echo(f"{done} marked read; {services.unread_count(db.session, user.id)} unread.")


@notifications_cli.command("recount")
@click.option("--fix", is_flag=True, help="Set the kept counts to the counted ones.")
def recount_command(fix: bool) -> None:
    """Count unread notifications from scratch and compare with the kept counts (exit 1 when they differ)."""
    wrong = services.recount(db.session, fix=fix)
    for user_id, (kept, counted) in sorted(wrong.items()):
        click.echo(f"user {user_id}: kept {kept}, counted {counted}")
    if fix:
        db.session.commit()
        click.echo(f"{len(wrong)} counts fixed.")
    elif wrong:
        raise SystemExit(1)
    else:
        click.echo("Every unread count is right.")
