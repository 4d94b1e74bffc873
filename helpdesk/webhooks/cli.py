"""``flask --app wsgi helpdesk webhooks …``: subscribe integrations to events."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

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
    from helpdesk.webhooks.subscriptions import WebhookInvalid, subscribe

    try:
        sub = subscribe(db.session, None, name=name, url=url, events=events.split(","), secret_env=secret_env)
    except WebhookInvalid as exc:
        db.session.rollback()
        raise click.UsageError(str(exc.args[0])) from exc
    db.session.commit()
    click.echo(f"Subscribed {name} to {', '.join(sub.events)}. Set {secret_env} for every worker process.")


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
