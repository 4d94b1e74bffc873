"""``flask --app wsgi helpdesk webhooks …``: subscribe integrations to events."""

from __future__ import annotations

from urllib.parse import urlsplit

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from helpdesk.events import CATALOGUE
from helpdesk.extensions import db
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription

webhooks_cli = AppGroup("webhooks", help="Outbound webhooks for integrations.")


@webhooks_cli.command("add")
@click.option("--name", required=True)
@click.option("--url", required=True, help="https://… endpoint that receives POSTed JSON.")
@click.option("--events", required=True, help="Comma-separated event names, or * for all.")
@click.option("--secret-env", required=True, help="Environment variable holding the signing secret.")
def add_command(name: str, url: str, events: str, secret_env: str) -> None:
    """Subscribe an endpoint to events; calls are signed with HMAC-SHA256."""
    if urlsplit(url).scheme not in {"http", "https"} or not urlsplit(url).netloc:
        raise click.UsageError(f"{url!r} is not an http(s) URL")
    names = [e.strip() for e in events.split(",") if e.strip()]
    unknown = [e for e in names if e != "*" and e not in CATALOGUE]
    if unknown:
        raise click.UsageError(f"unknown events: {', '.join(unknown)}; known: {', '.join(sorted(CATALOGUE))}")
    if not secret_env.replace("_", "").isalnum():
        raise click.UsageError("--secret-env takes the NAME of an environment variable, not the secret")
    db.session.add(WebhookSubscription(name=name, url=url, events=names, secret_env=secret_env))
    db.session.commit()
    click.echo(f"Subscribed {name} to {', '.join(names)}. Set {secret_env} for every worker process.")


@webhooks_cli.command("list")
def list_command() -> None:
    """Subscriptions with their last deliveries' outcome."""
    for sub in db.session.scalars(sa.select(WebhookSubscription).order_by(WebhookSubscription.name)):
        counts = dict(
            db.session.execute(
                sa.select(WebhookDelivery.status, sa.func.count())
                .where(WebhookDelivery.subscription_id == sub.id)
                .group_by(WebhookDelivery.status)
            ).all()
        )
        state = "active" if sub.active else "paused"
        click.echo(f"{sub.name:20} {state:7} {sub.url}  events={','.join(sub.events)}  {counts}")
