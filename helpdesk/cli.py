"""``flask --app wsgi helpdesk …``: set-up, imports, workers, quarantine."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup
from tqdm import tqdm

from helpdesk.extensions import db

helpdesk_cli = AppGroup("helpdesk", help="Helpdesk administration: set-up, imports, workers.")


def register(app: Flask) -> None:
    from helpdesk.accounts.cli import teams_cli, users_cli
    from helpdesk.api.cli import api_token_cli
    from helpdesk.backup.cli import backup_command, export_command, restore_command
    from helpdesk.channelaccounts.cli import channels_cli
    from helpdesk.customers.cli import customers_cli
    from helpdesk.email_cli import email_cli
    from helpdesk.macros.cli import macros_cli
    from helpdesk.notifications.cli import notifications_cli
    from helpdesk.reports.cli import reports_cli
    from helpdesk.signin import cli as _signin_cli  # noqa: F401 - adds its commands to the users group
    from helpdesk.sla.cli import sla_cli
    from helpdesk.tickets.auto_translate import auto_translate_command
    from helpdesk.translation.cli import translation_cli
    from helpdesk.webhooks.cli import webhooks_cli

    helpdesk_cli.add_command(sla_cli)
    helpdesk_cli.add_command(reports_cli)
    helpdesk_cli.add_command(api_token_cli)
    helpdesk_cli.add_command(email_cli)
    helpdesk_cli.add_command(webhooks_cli)
    helpdesk_cli.add_command(channels_cli)
    helpdesk_cli.add_command(customers_cli)
    helpdesk_cli.add_command(macros_cli)
    helpdesk_cli.add_command(notifications_cli)
    helpdesk_cli.add_command(users_cli)
    helpdesk_cli.add_command(teams_cli)
    teams_cli.add_command(auto_translate_command)
    helpdesk_cli.add_command(translation_cli)
    helpdesk_cli.add_command(backup_command)
    helpdesk_cli.add_command(restore_command)
    helpdesk_cli.add_command(export_command)
    app.cli.add_command(helpdesk_cli)


def _settings():  # type: ignore[no-untyped-def]
    return current_app.config["HELPDESK_SETTINGS"]


def _schema_revision() -> str | None:
    """The migration the database is at (None: no schema yet), for init's one-line summary."""
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@helpdesk_cli.command("init")
def init_command() -> None:
    """Create the database or upgrade it to the current schema."""
    from flask_migrate import upgrade

    before = _schema_revision()
    upgrade(directory=str(Path(__file__).parent / "migrations"))
    after = _schema_revision()
    from helpdesk.sla.policies import seed_defaults

    seed_defaults(db.session)
    db.session.commit()
    where = db.engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"Database ready at {where} (schema {after}, already current).")
    elif before is None:
        click.echo(f"Database created at {where} (schema {after}).")
    else:
        click.echo(f"Database at {where} upgraded from schema {before} to {after}.")
    click.echo("Next: 'flask --app wsgi helpdesk create-user --role admin' or 'flask --app wsgi helpdesk demo'.")


@helpdesk_cli.command("demo")
def demo_command() -> None:
    """Load demo stores, users and 60 days of history: tickets, answers by several agents, orders (idempotent)."""
    from helpdesk.demo.loader import DEMO_PASSWORD, DEMO_USERS, TICKETS_MESSAGES, load_demo

    with tqdm(total=TICKETS_MESSAGES, desc="demo messages", unit="msg", disable=None) as bar:
        counts = load_demo(db.session, progress=bar.update)
    db.session.commit()
    if counts["created"]:
        click.echo(f"Demo loaded: {counts['tickets']} tickets.")
    else:
        click.echo(f"Demo data already present ({counts['tickets']} tickets); nothing changed.")
    click.echo("Demo logins (password for all: " + DEMO_PASSWORD + "):")
    for email, name, role, *_ in DEMO_USERS:
        click.echo(f"  {email:28} {role:6} {name}")


# Messages per transaction for file imports: about 0.1 s of holding SQLite's write lock, and
# 10-15 % faster than 500 (each commit writes every index page its batch touched).
IMPORT_BATCH = 1000


@helpdesk_cli.command("ingest")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--batch-size",
    default=IMPORT_BATCH,
    show_default=True,
    help="Messages per transaction (larger imports faster; the database is locked for each one).",
)
def ingest_command(path: Path, batch_size: int) -> None:
    """Import a JSON-lines file of messages (one InboundMessage object per line)."""
    from helpdesk.ingest.pipeline import ingest
    from helpdesk.ingest.quarantine import RawInput

    totals = {"ingested": 0, "duplicate": 0, "quarantined": 0}
    source = f"import:{path.name}"
    size = path.stat().st_size
    with path.open("rb") as fh, tqdm(total=size, unit="B", unit_scale=True, desc=path.name, disable=None) as bar:
        batch: list[RawInput] = []

        def flush() -> None:
            result = ingest(db.session, batch, source=source, max_attachment_bytes=_settings().attachment_max_bytes)
            db.session.commit()
            for outcome in result.outcomes:
                totals[outcome.status] = totals.get(outcome.status, 0) + 1
            batch.clear()

        for line in fh:
            bar.update(len(line))
            if line.strip():
                batch.append(RawInput(line.rstrip(b"\r\n"), "json"))
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
    click.echo(f"{totals['ingested']} ingested, {totals['duplicate']} duplicates, {totals['quarantined']} quarantined.")
    if totals["quarantined"]:
        click.echo(
            "See why with 'flask --app wsgi helpdesk quarantine list'; "
            "fix the cause, then 'flask --app wsgi helpdesk quarantine retry --all'."
        )


@helpdesk_cli.command("create-user")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.option("--role", type=click.Choice(["agent", "lead", "admin"]), default="agent", show_default=True)
@click.option("--locale", default="en", show_default=True)
@click.option("--timezone", "tz", default="UTC", show_default=True)
@click.option("--password-env", help="Read the password from this environment variable instead of prompting.")
def create_user_command(email: str, name: str, role: str, locale: str, tz: str, password_env: str | None) -> None:
    """Create a user who can sign in to the web inbox."""
    from helpdesk.accounts.services import AccountError, create_user

    if password_env:
        password = os.environ.get(password_env)
        if password is None:
            raise click.UsageError(f"environment variable {password_env} is not set")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(db.session, email, name, password, role=role, locale=locale, timezone=tz)
    except AccountError as exc:
        raise click.UsageError(str(exc)) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


@helpdesk_cli.command("worker")
@click.option("--workers", default=2, show_default=True)
def worker_command(workers: int) -> None:
    """Run the background task consumer in this process (polls, sends, webhooks)."""
    from helpdesk.outbox.relay import relay_for
    from helpdesk.polling.watchers import WatcherSupervisor
    from helpdesk.tasks import MAX_IDLE_WAIT_S, huey

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    idle = WatcherSupervisor(app)
    idle.start()
    relay = relay_for(app)
    relay.start(broadcast=False)  # webhooks and other once-only listeners; no browsers here
    click.echo(f"Task consumer running with {workers} worker threads; Ctrl+C stops it.")
    try:
        huey.create_consumer(workers=workers, worker_type="thread", periodic=True, max_delay=MAX_IDLE_WAIT_S).run()
    finally:
        relay.stop()
        idle.stop()


@helpdesk_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--threads", default=100, show_default=True, help="Requests and WebSocket connections served at once.")
@click.option("--no-worker", is_flag=True, help="Do not run the task consumer in this process.")
@click.option(
    "--demo-fakes",
    is_flag=True,
    help="Run the demo stores' platforms as loopback fakes in this process, with live traffic (make run).",
)
@click.option(
    "--debug", is_flag=True, help="Werkzeug's development server and debug mode instead (never in production)."
)
def serve_command(host: str, port: int, threads: int, no_worker: bool, demo_fakes: bool, debug: bool) -> None:
    """Serve the web inbox (and, by default, the task consumer) in one process, on a production server."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with_worker = not no_worker and _settings().run_worker_in_process

    def start() -> Callable[[], None]:
        """Start what runs beside the web server in its process; returns what stops it."""
        from helpdesk.outbox.relay import relay_for

        relay = relay_for(app)
        relay.start()  # events of this process and of every other one reach the browsers here
        consumer = watchers = platforms = None
        if demo_fakes:
            from helpdesk.demo.live import DemoPlatforms
            from helpdesk.outbound import allow_loopback

            allow_loopback(app)  # the fake platforms listen on this machine

            platforms = DemoPlatforms(hook_base=f"http://{host}:{port}")
            connected = platforms.start(app)
            if connected:
                click.echo("Demo stores connected to their loopback platforms: " + ", ".join(connected) + ".")
            else:
                click.echo("No demo stores to connect; load them with 'flask --app wsgi helpdesk demo'.")
        if with_worker:
            from helpdesk.polling.watchers import WatcherSupervisor
            from helpdesk.tasks import start_consumer

            consumer = start_consumer()
            watchers = WatcherSupervisor(app)
            watchers.start()

        def stop() -> None:
            relay.stop()
            if watchers is not None:
                watchers.stop()
            if consumer is not None:
                consumer.stop(graceful=True)
            if platforms is not None:
                platforms.stop()

        return stop

    if not debug:
        try:
            click.echo(f"Helpdesk running at http://{host}:{port}/  (Ctrl+C stops it)")
            from helpdesk.server import serve

            serve(app, host, port, threads=threads, on_start=start)
        except KeyboardInterrupt:
            # Ctrl+C before Gunicorn took the signals over (it was still starting): nothing runs yet, so
            # nothing to stop and nothing to explain; the shell's usual status for an interrupted command.
            raise SystemExit(130) from None
        return
    click.echo(f"Helpdesk running at http://{host}:{port}/  (Ctrl+C stops it)")
    from helpdesk.extensions import socketio
    from helpdesk.outbound import allow_loopback

    allow_loopback(app)  # development: test servers on this machine may be called
    stop = start()
    # Flask ignores app.run() inside its own CLI; this command exists to serve, so lift that guard.
    os.environ.pop("FLASK_RUN_FROM_CLI", None)
    try:
        socketio.run(app, host=host, port=port, debug=True, allow_unsafe_werkzeug=True, use_reloader=False)
    finally:
        stop()


quarantine_cli = AppGroup("quarantine", help="Input that failed validation, kept raw for replay.")
helpdesk_cli.add_command(quarantine_cli)


@quarantine_cli.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include entries already replayed.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entry.")
def quarantine_list(show_all: bool, as_json: bool) -> None:
    """Show quarantined input with the reason it was refused."""
    from helpdesk.ingest.models import QuarantinedInput

    stmt = sa.select(QuarantinedInput).order_by(QuarantinedInput.id)
    if not show_all:
        stmt = stmt.where(QuarantinedInput.status == "pending")
    rows = db.session.scalars(stmt).all()
    for row in rows:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "id": row.id,
                        "source": row.source,
                        "format": row.raw_format,
                        "account": row.account,
                        "field": row.field,
                        "reason": row.reason,
                        "status": row.status,
                        "attempts": row.attempts,
                        "seen": row.seen_count,
                        "created_at": row.created_at.isoformat(),
                        "last_seen_at": row.last_seen_at.isoformat() if row.last_seen_at else None,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            seen = f" (seen {row.seen_count}×)" if row.seen_count > 1 else ""
            click.echo(f"#{row.id:<6} {row.status:8} {row.source:24} {row.reason}{seen}")
    if not rows and not as_json:
        click.echo("Quarantine is empty.")


@quarantine_cli.command("retry")
@click.option("--id", "ids", type=int, multiple=True, help="Entry to replay (repeatable).")
@click.option("--all", "retry_all", is_flag=True, help="Replay every pending entry.")
def quarantine_retry(ids: tuple[int, ...], retry_all: bool) -> None:
    """Replay quarantined input through the pipeline after fixing its cause."""
    from helpdesk.ingest.replay import replay

    if not ids and not retry_all:
        raise click.UsageError("name entries with --id N or use --all")
    report = replay(db.session, list(ids) if ids else None)
    db.session.commit()
    click.echo(f"{report.replayed} replayed, {report.still_failing} still failing.")
    for entry_id, reason in report.failures:
        click.echo(f"  #{entry_id}: {reason}")


@helpdesk_cli.command("poll")
@click.option("--once", is_flag=True, required=True, help="Poll now, in this process, and exit.")
@click.option("--account", "account_name", help="Only this account (default: every enabled account).")
def poll_command(once: bool, account_name: str | None) -> None:
    """Poll channel accounts now and print what each run did."""
    from helpdesk.channelaccounts.models import ChannelAccount
    from helpdesk.polling.services import poll_account

    stmt = sa.select(ChannelAccount).where(ChannelAccount.enabled.is_(True))
    if account_name:
        stmt = sa.select(ChannelAccount).where(ChannelAccount.name == account_name)
    accounts = db.session.scalars(stmt).all()
    if not accounts:
        raise click.UsageError(
            f"no channel account named {account_name!r}"
            if account_name
            else "no enabled channel accounts; add one with 'helpdesk channels add'"
        )
    failed = False
    for account in accounts:
        report = poll_account(
            db.session,
            account.id,
            interval_s=_settings().poll_interval_s,
            max_attachment_bytes=_settings().attachment_max_bytes,
        )
        line = (
            f"{report.account}: {report.pages} pages, {report.ingested} ingested, "
            f"{report.duplicates} duplicates, {report.quarantined} quarantined"
        )
        if report.error:
            failed = True
            line += f" — {report.error}"
        click.echo(line)
    if failed:
        sys.exit(1)
