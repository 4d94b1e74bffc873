"""``flask --app wsgi helpdesk macros …``: the library from the command line, for scripted set-up.

``import`` takes a file in the shipped format (``macros/library.py``): a new
key adds a macro, a shipped key overrides it; ``export`` writes one out, so
a lead can edit macros in a text editor or keep them in version control.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from helpdesk.accounts.models import User
from helpdesk.extensions import db
from helpdesk.macros import reports, services
from helpdesk.tickets.models import Ticket
from macros.library import macro_from
from macros.model import MacroError

macros_cli = AppGroup("macros", help="Reply macros: list, render for a ticket, check, import and export.")
LOCALES = ("en", "de", "fr", "es", "it", "ja", "zh_Hans", "pt_BR", "pl", "nl", "ar", "th", "id", "vi")


@macros_cli.command("list")
@click.option("--locale", default="en", show_default=True, help="Language of the titles.")
@click.option("--retired", is_flag=True, help="Include retired macros.")
def list_command(locale: str, retired: bool) -> None:
    """Every macro with its languages, origin and uses."""
    uses = services.uses_by(db.session)
    for macro in sorted(services.library(db.session, include_retired=retired).values(), key=lambda m: m.key):
        flag = " (retired)" if macro.retired else ""
        click.echo(
            f"{macro.key:28} {len(macro.locales):2} languages  {macro.source:8} {uses.get(macro.key, 0):5} uses  "
            f"{macro.title(locale)}{flag}"
        )


@macros_cli.command("render")
@click.argument("key")
@click.option("--ticket", "ticket_id", type=int, required=True)
@click.option("--locale", help="Render in this language instead of the buyer's.")
@click.option("--agent", "agent_email", help="Sign as this user (default: the first admin).")
def render_command(key: str, ticket_id: int, locale: str | None, agent_email: str | None) -> None:
    """Render a macro for a ticket as an agent would see it, with the language's reason and any rule it breaks."""
    ticket = db.session.get(Ticket, ticket_id)
    macro = services.library(db.session).get(key)
    if ticket is None or macro is None:
        raise click.UsageError("no such ticket" if ticket is None else f"no macro {key!r}; see 'macros list'")
    stmt = sa.select(User).where(User.email == agent_email) if agent_email else sa.select(User).order_by(User.id)
    agent = db.session.scalars(stmt).first()
    if agent is None:
        raise click.UsageError("no such user")
    result = services.preview(db.session, ticket, agent, macro, locale)
    click.echo(f"# {result.choice.locale} ({result.choice.reason})", err=True)
    if result.error:
        raise click.ClickException(result.error)
    click.echo(result.text, nl=False)
    for violation in result.violations:
        click.echo(f"! {violation.code}: {violation.detail}", err=True)


@macros_cli.command("check")
def check_command() -> None:
    """Missing translations and placeholders that do not resolve; exit 1 when a placeholder is broken."""
    for gap in reports.missing_translations(db.session, LOCALES):
        click.echo(f"{gap.macro.key}: missing {', '.join(gap.missing)}")
    broken = reports.broken_placeholders(db.session)
    for item in broken:
        click.echo(f"{item.macro.key} [{item.locale}]: {item.error}")
    if broken:
        sys.exit(1)
    click.echo("Every placeholder resolves.")


@macros_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(path: Path) -> None:
    """Add (or override) a macro from a TOML file in the shipped format."""
    try:
        macro = macro_from(tomllib.loads(path.read_text(encoding="utf-8")), path.name, source="custom")
        services.save(db.session, services.as_input(macro), None, new=False)
    except (MacroError, tomllib.TOMLDecodeError) as exc:
        raise click.UsageError(str(exc)) from None
    db.session.commit()
    click.echo(f"Saved {macro.key} ({len(macro.locales)} languages).")


def _toml_text(value: str) -> str:
    if "\n" in value:
        return "'''\n" + value.replace("'''", "''\\'") + "\n'''"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@macros_cli.command("export")
@click.argument("key")
def export_command(key: str) -> None:
    """Print a macro in the shipped TOML format."""
    macro = services.get_macro(db.session, key)
    if macro is None:
        raise click.UsageError(f"no macro {key!r}")
    lines = [f'key = "{macro.key}"', f"tags = {list(macro.tags)!r}".replace("'", '"')]
    lines.append(f"platforms = {list(macro.platforms)!r}".replace("'", '"'))
    for table, texts in (("title", macro.titles), ("description", macro.descriptions), ("body", macro.bodies)):
        lines += ["", f"[{table}]", *(f"{locale} = {_toml_text(text)}" for locale, text in texts.items())]
    actions = services.actions_data(macro)
    lines += ["", "[actions]"]
    for name, value in actions.items():
        rendered = repr(value).replace("'", '"').replace("True", "true").replace("False", "false")
        lines.append(f"{name} = {rendered}")
    click.echo("\n".join(lines))
