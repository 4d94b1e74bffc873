"""``flask --app wsgi helpdesk sla …``: seed the shipped policies, run the sweep by hand."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from helpdesk.extensions import db

sla_cli = AppGroup("sla", help="SLA policies and clocks.")


@sla_cli.command("seed")
def seed_command() -> None:
    """Add the shipped per-platform default policies that are missing (edited ones are kept)."""
    from helpdesk.sla.policies import seed_defaults

    added = seed_defaults(db.session)
    db.session.commit()
    click.echo(f"{added} default SLA policies added.")


@sla_cli.command("sweep")
def sweep_command() -> None:
    """Record the warnings and breaches that are due now (the worker does this every minute)."""
    from helpdesk.sla.services import sweep_all

    result = sweep_all(db.session)
    click.echo(f"{result.breached} clocks breached, {result.warned} warned.")
