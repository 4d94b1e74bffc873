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
        if sub.auto_disabled_at is not None:
            state = f"disabled {sub.auto_disabled_at:%Y-%m-%d %H:%M} after 24 h of failures;"
        click.echo(f"{sub.name:20} {state:7} {sub.url}  events={','.join(sub.events)}  {counts}")


def _named(name: str) -> WebhookSubscription:
    sub = db.session.scalar(sa.select(WebhookSubscription).where(WebhookSubscription.name == name))
    if sub is None:
        raise click.UsageError(f"No webhook named {name}; `webhooks list` shows them.")
    return sub


@webhooks_cli.command("enable")
@click.argument("name")
def enable_command(name: str) -> None:
    """Call the endpoint again (after a pause, or after it was disabled for 24 h of failures); audited."""
    from helpdesk.webhooks.subscriptions import set_active

    sub = _named(name)
    if not set_active(db.session, None, sub, True):
        click.echo(f"{name} is already enabled.")
        return
    db.session.commit()
    failed = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == sub.id, WebhookDelivery.status == "failed")
    )
    click.echo(f"Enabled {name}; the next events are sent to {sub.url}.")
    if failed:
        click.echo(f"{failed} failed deliveries are not resent by themselves: see `webhooks deliveries {name}`.")


@webhooks_cli.command("disable")
@click.argument("name")
def disable_command(name: str) -> None:
    """Stop calling the endpoint until it is enabled again; audited."""
    from helpdesk.webhooks.subscriptions import set_active

    sub = _named(name)
    if not set_active(db.session, None, sub, False):
        click.echo(f"{name} is already disabled.")
        return
    db.session.commit()
    click.echo(f"Disabled {name}; nothing is sent to {sub.url} until `webhooks enable {name}`.")


@webhooks_cli.command("deliveries")
@click.argument("name")
@click.option("--limit", default=25, show_default=True, help="How many deliveries, latest first.")
def deliveries_command(name: str, limit: int) -> None:
    """A webhook's latest deliveries with every attempt: status, latency, answer or error."""
    from helpdesk.webhooks.subscriptions import attempts_of, recent_deliveries

    sub = _named(name)
    deliveries = recent_deliveries(db.session, sub, limit)
    attempts = attempts_of(db.session, deliveries)
    if not deliveries:
        click.echo(f"{name}: nothing sent yet.")
    for d in deliveries:
        click.echo(f"#{d.id:<6} {d.created_at:%Y-%m-%d %H:%M:%S}  {d.event:20} {d.status:9} attempts={d.attempts}")
        for a in attempts[d.id]:
            answer = a.error or (a.response_excerpt or "").replace("\n", " ")[:120]
            latency = "-" if a.latency_ms is None else f"{a.latency_ms} ms"
            click.echo(
                f"    {a.number:>2}. {a.at:%Y-%m-%d %H:%M:%S}  {a.response_status or '---'}  {latency:>8}  {answer}"
            )
    failed = [d.id for d in deliveries if d.status == "failed"]
    if failed:
        click.echo(f"Retry a failed one with: webhooks retry {failed[0]}")


@webhooks_cli.command("retry")
@click.argument("delivery_id", type=int)
def retry_command(delivery_id: int) -> None:
    """Send a failed delivery again (same id and body, so receivers dedupe); audited."""
    from helpdesk.webhooks.subscriptions import NotRetryable, retry
    from helpdesk.webhooks.tasks import deliver_task

    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise click.UsageError(f"No delivery {delivery_id}; `webhooks deliveries NAME` shows them.")
    try:
        retry(db.session, None, delivery)
    except NotRetryable as exc:
        db.session.rollback()
        raise click.UsageError(str(exc.args[0])) from exc
    db.session.commit()
    deliver_task(delivery_id)
    click.echo(f"Delivery {delivery_id} queued again; `webhooks deliveries NAME` shows its outcome.")
