"""``flask --app wsgi helpdesk customers suggestions list|accept|reject``: the suggestions page's twin.

Decisions made here are audited with actor ``system`` and ``via: cli`` (or as
the user named with ``--by``).
"""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from tqdm import tqdm

from helpdesk.accounts.models import User
from helpdesk.customers import suggestions
from helpdesk.extensions import db

customers_cli = AppGroup("customers", help="Customers: merge suggestions.")
suggestions_cli = AppGroup("suggestions", help="Fuzzy look-alike customers: list, accept (merge) or reject for good.")
customers_cli.add_command(suggestions_cli)


def _user(email: str | None) -> User | None:
    if not email:
        return None
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
    if user is None or not user.sees_everything:
        raise click.UsageError(f"{email}: no lead or admin with that e-mail address ('users list' shows them)")
    return user


@suggestions_cli.command("list")
@click.option("--page", default=1, show_default=True, help="50 suggestions a page, best score first.")
def list_command(page: int) -> None:
    """Pending suggestions: id, score, the two customers and why they look alike."""
    items, more = suggestions.pending(db.session, page)
    if not items:
        click.echo("No pending suggestions.")
        return
    for s in items:
        a, b = s.customer, s.other
        click.echo(
            f"{s.row.id:6}  {s.score:3}  #{a.id} {a.display_name or '(no name)'} {a.email or ''}"
            f"  ~  #{b.id} {b.display_name or '(no name)'} {b.email or ''}  ({', '.join(s.reasons)})"
        )
    if more:
        click.echo(f"More on page {page + 1}: --page {page + 1}")


def _decide(decision: str, ids: tuple[int, ...], by: str | None) -> None:
    actor = _user(by)
    done, refused = 0, []
    with tqdm(total=len(ids), desc=f"{decision} suggestions", unit="pair", disable=None) as bar:
        for suggestion_id in ids:
            result = suggestions.decide_many(db.session, decision, [suggestion_id], actor, via="cli")
            db.session.commit()  # one pair per transaction: a long batch never holds the write lock for long
            done += result.done
            refused.extend(f"{suggestion_id}: {reason}" for reason in result.refused)
            bar.update(1)
    click.echo(f"{done} suggestion(s) {'accepted (customers merged)' if decision == 'accept' else 'rejected'}.")
    for line in refused:
        click.echo(f"refused {line}", err=True)
    if refused:
        raise SystemExit(1)


@suggestions_cli.command("accept")
@click.argument("ids", nargs=-1, type=int, required=True)
@click.option("--by", help="E-mail of the lead or admin deciding (recorded in the audit log).")
def accept_command(ids: tuple[int, ...], by: str | None) -> None:
    """Merge the customers of each suggestion (the older record is kept)."""
    _decide("accept", ids, by)


@suggestions_cli.command("reject")
@click.argument("ids", nargs=-1, type=int, required=True)
@click.option("--by", help="E-mail of the lead or admin deciding (recorded in the audit log).")
def reject_command(ids: tuple[int, ...], by: str | None) -> None:
    """Dismiss each suggestion for good: the pair is never suggested again."""
    _decide("reject", ids, by)
