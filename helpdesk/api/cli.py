"""``flask --app wsgi helpdesk api-token …``: create, list and revoke REST API tokens."""

from __future__ import annotations

from datetime import timedelta

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from helpdesk.api.models import Scope
from helpdesk.extensions import db

api_token_cli = AppGroup("api-token", help="Bearer tokens for the REST API.")


@api_token_cli.command("create")
@click.option("--user", "email", required=True, help="E-mail of the user the token acts as.")
@click.option("--name", required=True, help="What the token is for, e.g. 'BI export'.")
@click.option(
    "--scope",
    type=click.Choice(Scope.ALL),
    required=True,
    help="read: GET only; write: also changes; admin: also admin-only routes (admins only).",
)
@click.option("--expires-in-days", type=click.IntRange(min=1), default=None, help="Refuse the token after N days.")
def create_command(email: str, name: str, scope: str, expires_in_days: int | None) -> None:
    """Create a token; it is printed once and stored only as a hash."""
    from helpdesk.accounts.models import User
    from helpdesk.api.tokens import ScopeTooWide, issue
    from helpdesk.db import utcnow

    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.UsageError(f"no user with e-mail {email!r}")
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    try:
        token, raw = issue(db.session, None, user, name, scope, expires_at)
    except ScopeTooWide as exc:
        raise click.UsageError(f"{exc}; use --scope write or read") from None
    db.session.commit()
    until = f", expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else ""
    click.echo(f"Token {token.prefix}… (id {token.id}, scope {token.scope}{until}) for {user.email} ({user.role}).")
    click.echo("Copy it now; it is not shown again:")
    click.echo(raw)


@api_token_cli.command("list")
def list_command() -> None:
    """Every token: id, prefix, scope, state, user, last use (when and from where)."""
    from helpdesk.accounts.models import User
    from helpdesk.api.models import ApiToken
    from helpdesk.db import utcnow

    rows = db.session.execute(
        sa.select(ApiToken, User).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
    ).all()
    if not rows:
        click.echo("No tokens. Create one with: api-token create --user EMAIL --name NAME --scope read")
        return
    now = utcnow()
    click.echo(
        f"{'ID':>4}  {'PREFIX':<11} {'SCOPE':<6} {'STATE':<8} {'EXPIRES':<16} {'LAST USED':<16} {'FROM':<15} "
        "USER / NAME"
    )
    for token, user in rows:
        if token.revoked_at is not None:
            state = "revoked"
        elif token.expires_at is not None and token.expires_at <= now:
            state = "expired"
        else:
            state = "active"
        expires = f"{token.expires_at:%Y-%m-%d %H:%M}" if token.expires_at else "never"
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
        click.echo(
            f"{token.id:>4}  {token.prefix + '…':<11} {token.scope:<6} {state:<8} {expires:<16} {used:<16} "
            f"{token.last_used_address or '-':<15} {user.email} / {token.name}"
        )


@api_token_cli.command("revoke")
@click.argument("token_id", metavar="ID", type=int)
def revoke_command(token_id: int) -> None:
    """Revoke the token with id ID (see ``api-token list``)."""
    from helpdesk.api.models import ApiToken
    from helpdesk.api.tokens import revoke

    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.UsageError(f"no token with id {token_id}; see api-token list")
    if not revoke(db.session, None, token):
        raise click.UsageError(f"token {token_id} ({token.prefix}…) was already revoked")
    db.session.commit()
    click.echo(f"Token {token.id} ({token.prefix}…) revoked; requests with it now get 401.")
