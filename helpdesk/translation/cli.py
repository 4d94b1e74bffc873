"""``flask --app wsgi helpdesk translation …``: the Administration → Translation page from the command line.

The key is never an argument (shell history and ``ps`` would show it):
``--key-env VAR`` reads it from an environment variable once and stores it
sealed, ``--prompt-key`` asks for it without echo.
"""

from __future__ import annotations

import os

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.extensions import db
from helpdesk.translation import configuration, glossary, registry, services, usage
from helpdesk.translation.base import TranslationError

translation_cli = AppGroup("translation", help="Machine translation: provider, usage, store glossaries.")


@translation_cli.command("configure")
@click.option("--provider", "kind", required=True, type=click.Choice(sorted(registry.PROVIDERS)))
@click.option("--url", default="", help="Server address (LibreTranslate, OpenAI-compatible; DeepL: leave empty).")
@click.option("--key-env", default="", help="Environment variable holding the API key (read now, stored sealed).")
@click.option("--prompt-key", is_flag=True, help="Ask for the API key without echoing it.")
@click.option("--clear-key", is_flag=True, help="Forget the stored API key.")
@click.option("--model", default="", help="Model name for an OpenAI-compatible endpoint (e.g. qwen2.5:7b).")
@click.option("--cap", type=int, default=None, help="Monthly character cap (omit for none).")
@click.option("--inactive", is_flag=True, help="Keep the settings without switching translations to this provider.")
def configure_command(
    kind: str, url: str, key_env: str, prompt_key: bool, clear_key: bool, model: str, cap: int | None, inactive: bool
) -> None:
    """Choose and configure the translation service (audited); `translation test` checks it."""
    key: str | None = None
    if key_env:
        if key_env not in os.environ:
            raise click.UsageError(f"Environment variable {key_env} is not set.")
        key = os.environ[key_env]
    elif prompt_key:
        key = click.prompt("API key", hide_input=True)
    try:
        row = configuration.configure(
            db.session,
            None,
            kind=kind,
            base_url=url,
            api_key=key,
            clear_key=clear_key,
            model=model,
            monthly_char_cap=cap,
            activate=not inactive,
        )
    except configuration.ConfigInvalid as exc:
        db.session.rollback()
        raise click.UsageError(str(exc)) from exc
    db.session.commit()
    state = "active" if row.active else "saved, not active"
    click.echo(f"{kind}: {state}; key {'set' if configuration.has_key(row) else 'not set'}.")
    click.echo("Next: 'flask --app wsgi helpdesk translation test'.")


@translation_cli.command("off")
def off_command() -> None:
    """Stop translating (settings are kept)."""
    row = configuration.deactivate(db.session, None)
    db.session.commit()
    click.echo(f"Translation is off ({row.kind} kept for later)." if row else "Translation was already off.")


def _row(kind: str | None):  # type: ignore[no-untyped-def]
    row = configuration.by_kind(db.session, kind) if kind else configuration.active(db.session)
    if row is None:
        raise click.UsageError(
            f"No {kind or 'active'} translation provider; configure one first (`translation configure "
            f"--provider libretranslate --url http://127.0.0.1:5000`, see {configuration.DOCS})."
        )
    return row


@translation_cli.command("test")
@click.option("--provider", "kind", default=None, help="A configured provider other than the active one.")
def test_command(kind: str | None) -> None:
    """Translate a short sentence and say plainly what works or what to fix."""
    diagnosis = configuration.check_connection(db.session, _row(kind))
    db.session.commit()
    click.echo(("OK " if diagnosis.ok else "FAILED ") + diagnosis.summary)
    if diagnosis.detail:
        click.echo("  " + diagnosis.detail)
    if not diagnosis.ok:
        raise SystemExit(1)


@translation_cli.command("usage")
def usage_command() -> None:
    """Characters sent this month per provider, against each cap."""
    rows = usage.this_month(db.session)
    if not rows:
        click.echo(f"No translation provider configured and nothing sent this month (see {configuration.DOCS}).")
    for u in rows:
        cap = f"of {u.cap:,} ({u.share:.0%})" if u.cap else "(no cap)"
        click.echo(f"{u.provider:16} {u.characters:>12,} characters {cap}  in {u.requests:,} requests")


@translation_cli.command("translate")
@click.argument("text")
@click.option("--to", "target", required=True, help="Target language code, e.g. de.")
@click.option("--source", default=None, help="Source language code (default: the service detects it).")
@click.option("--store", default=None, help="Store whose glossary applies.")
def translate_command(text: str, target: str, source: str | None, store: str | None) -> None:
    """Translate TEXT with the active provider (protection and glossary included; counted)."""
    store_id = _store(store).id if store else None
    try:
        out = services.translate_draft(db.session, text, source, target, store_id)
    except TranslationError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(out.text)
    if out.missing:
        click.echo(f"warning: the service lost {', '.join(out.missing)}", err=True)


def _store(name: str) -> ChannelAccount:
    store = db.session.scalar(sa.select(ChannelAccount).where(ChannelAccount.name == name))
    if store is None:
        raise click.UsageError(f"No store named {name}; `channels list` shows them.")
    return store


@translation_cli.group("glossary")
def glossary_cli() -> None:
    """Brand and product names of a store that translation must not change."""


@glossary_cli.command("list")
@click.argument("store")
def glossary_list(store: str) -> None:
    for term in glossary.terms(db.session, _store(store).id):
        click.echo(term.term)


@glossary_cli.command("add")
@click.argument("store")
@click.argument("terms", nargs=-1, required=True)
def glossary_add(store: str, terms: tuple[str, ...]) -> None:
    """Add TERMS (quote names with spaces)."""
    try:
        added = glossary.add_terms(db.session, None, _store(store), "\n".join(terms))
    except glossary.GlossaryInvalid as exc:
        raise click.UsageError(str(exc)) from exc
    db.session.commit()
    click.echo(f"Added {len(added)}: {', '.join(added)}" if added else "Every term was already in the glossary.")


@glossary_cli.command("remove")
@click.argument("store")
@click.argument("term")
def glossary_remove(store: str, term: str) -> None:
    account = _store(store)
    found = next((t for t in glossary.terms(db.session, account.id) if t.term.lower() == term.lower()), None)
    if found is None:
        raise click.UsageError(f"{term} is not in the glossary of {store}.")
    glossary.remove_term(db.session, None, account, found.id)
    db.session.commit()
    click.echo(f"Removed {found.term}.")
