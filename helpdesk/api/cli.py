"""``flask --app wsgi helpdesk api-token …``: create, list and revoke REST API tokens."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from helpdesk.extensions import db

api_token_cli = AppGroup("api-token", help="Bearer tokens for the REST API.")


@api_token_cli.command("create")
@click.option("--user", "email", required=True, help="E-mail of the user the token acts as.")
@click.option("--name", required=True, help="What the token is for, e.g. 'BI export'.")
def create_command(email: str, name: str) -> None:
    """Create a token; it is printed once and stored only as a hash."""
    from helpdesk.accounts.models import User
    from helpdesk.api.tokens import create_token

    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.UsageError(f"no user with e-mail {email!r}")
    token, raw = create_token(db.session, user, name)
    db.session.commit()
    click.echo(f"Token {token.prefix}… for {user.email} ({user.role}). Copy it now; it is not shown again:")
    click.echo(raw)


@api_token_cli.command("revoke")
@click.argument("prefix")
def revoke_command(prefix: str) -> None:
    """Revoke the token whose prefix is PREFIX."""
    from helpdesk.api.tokens import revoke_token

    if not revoke_token(db.session, prefix):
        raise click.UsageError(f"no active token with prefix {prefix!r}")
    db.session.commit()
    click.echo("Token revoked.")
