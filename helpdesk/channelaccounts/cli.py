"""``flask --app wsgi helpdesk channels …``: channel accounts from the command line.

``channels add KIND`` is generated from the kind's config schema, so every
connector gets the same set-up command without code of its own: one option
per setting (``--imap-host``), ``--SECRET-env VAR`` per secret (the *name*
of an environment variable, stored as a reference) and ``--encrypt-secrets``
to read those variables now and keep their values encrypted in the
database instead.  The admin page's form comes from the same schema.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from channels import registry
from channels.base import Connector, Diagnosis, FetchResult
from channels.jsonl import customer_to_json, message_to_json, order_to_json
from channels.schema import Field, FieldType
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.channelaccounts.services import (
    AccountError,
    AccountInput,
    build_connector,
    create_account,
    diagnose_account,
    secret_status,
    update_account,
)
from helpdesk.extensions import db

channels_cli = AppGroup("channels", help="Channel accounts: mailboxes and marketplace stores.")


def _account(name: str) -> ChannelAccount:
    account = db.session.scalar(sa.select(ChannelAccount).where(ChannelAccount.name == name))
    if account is None:
        raise click.UsageError(f"no channel account named {name!r}; see 'flask --app wsgi helpdesk channels list'")
    return account


# --- channels add KIND ---------------------------------------------------------------------------------


def _option(f: Field) -> click.Option:
    help_text = f.help + (f" [default: {f.default}]" if f.default not in (None, False, "") else "")
    if f.secret:
        return click.Option(
            [f.option + "-env", f.name + "_env"],
            help=f"Environment variable holding the {f.label.lower()}. {f.help}".strip(),
        )
    if f.type is FieldType.BOOL:
        no = "--no-" + f.option[2:]
        return click.Option([f"{f.option}/{no}", f.name], default=None, help=help_text)
    if f.type is FieldType.INT:
        return click.Option([f.option, f.name], type=int, help=help_text)
    if f.type is FieldType.CHOICE:
        return click.Option([f.option, f.name], type=click.Choice(f.choices), help=help_text)
    return click.Option([f.option, f.name], help=help_text, required=False)


def _add_command(kind: str, cls: type[Connector]) -> click.Command:
    platforms = [p or "none" for p in cls.platforms]
    params: list[click.Parameter] = [
        click.Option(["--name"], required=True, help="Short unique account name, e.g. ebay-uk."),
        click.Option(["--display-name"], help="Shown in the inbox (default: the name)."),
        click.Option(
            ["--platform"],
            type=click.Choice(platforms),
            default=platforms[0],
            show_default=True,
            help="Marketplace the account's buyers come from.",
        ),
        click.Option(["--site"], help="Marketplace site, e.g. DE or US."),
        click.Option(["--language"], help="Default language of the account's customers, e.g. de."),
        click.Option(["--timezone"], help="The store's time zone (SLA business hours), e.g. Europe/Berlin."),
        click.Option(["--poll-interval"], type=int, help="Seconds between polls (default: the connector's)."),
        click.Option(
            ["--encrypt-secrets"],
            is_flag=True,
            help="Read the --*-env variables now and store their values encrypted instead of the references.",
        ),
        click.Option(["--test", "run_test"], is_flag=True, help="Test the connection after adding the account."),
    ]
    params += [_option(f) for f in cls.schema.fields if f.name not in {"name"}]

    def callback(**opts: Any) -> None:
        settings = {f.name: opts.pop(f.name) for f in cls.schema.settings_fields if opts.get(f.name) is not None}
        refs = {f.name: opts.pop(f.name + "_env") for f in cls.schema.secret_fields if opts.get(f.name + "_env")}
        secrets: dict[str, str] = {}
        if opts["encrypt_secrets"]:
            missing = [var for var in refs.values() if var not in os.environ]
            if missing:
                raise click.UsageError(f"--encrypt-secrets: environment variable {missing[0]} is not set")
            secrets, refs = {role: os.environ[var] for role, var in refs.items()}, {}
        given = AccountInput(
            kind=kind,
            name=opts["name"],
            display_name=opts["display_name"],
            platform=opts["platform"],
            site=opts["site"],
            language=opts["language"],
            timezone=opts["timezone"],
            settings=settings,
            secrets=secrets,
            secret_refs=refs,
            poll_interval_s=opts["poll_interval"],
        )
        try:
            account = create_account(db.session, given)
        except AccountError as exc:
            raise click.UsageError(_field_message(cls, exc)) from None
        db.session.commit()
        click.echo(f"Added {cls.title or kind} account {account.name!r}.")
        for note in _notes(account):
            click.echo(note)
        if opts["run_test"]:
            _print_diagnosis(account, diagnose_account(account))
        click.echo("Next steps:")
        for var in [v for v in (account.secret_refs or {}).values() if v not in os.environ]:
            click.echo(f"  export {var}=…        # not set in this shell; the worker needs it too")
        click.echo(f"  flask --app wsgi helpdesk channels test {account.name}")
        click.echo(f"  flask --app wsgi helpdesk channels dry-run {account.name} --pages 1")
        click.echo("  flask --app wsgi helpdesk worker   # keeps polling on schedule")

    return click.Command(kind, params=params, callback=callback, help=f"Add a {cls.title or kind} account.")


def _field_message(cls: type[Connector], exc: AccountError) -> str:
    f = cls.schema.get(exc.field)
    if f is None:
        return str(exc)
    option = f.option + "-env" if f.secret else f.option
    return f"{option}: {exc.reason}"


def _notes(account: ChannelAccount) -> list[str]:
    status = secret_status(account)
    stored = [role for role, state in status.items() if state == "stored"]
    return [f"Secrets stored encrypted: {', '.join(stored)}."] if stored else []


class _KindsGroup(click.Group):
    """``channels add KIND``: one subcommand per registered connector kind, built from its schema."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return registry.kinds()

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        try:
            cls = registry.get(cmd_name)
        except KeyError:
            return None
        return _add_command(cmd_name, cls)


channels_add_cli = _KindsGroup("add", help="Add a channel account (one subcommand per kind; see --help of each).")
channels_cli.add_command(channels_add_cli)


# --- list, kinds, test, dry-run, edit, enable/disable ---------------------------------------------------


@channels_cli.command("list")
def channels_list() -> None:
    """List channel accounts with their health; an account silent for three poll intervals is failing."""
    from helpdesk.channelaccounts.silence import silence_of
    from helpdesk.polling.services import interval_of

    default_s = current_app.config["HELPDESK_SETTINGS"].poll_interval_s
    for account in db.session.scalars(sa.select(ChannelAccount).order_by(ChannelAccount.name)):
        state = "enabled" if account.enabled else "disabled"
        silence = silence_of(account, interval_of(account, default_s))
        health, detail = ("failing", silence.sentence()) if silence else (account.health, account.health_detail or "")
        click.echo(f"{account.name:24} {account.kind:12} {state:8} {health:8} {detail}")


@channels_cli.command("kinds")
def channels_kinds() -> None:
    """The kinds of account this helpdesk can connect, with what each can do."""
    for kind in registry.kinds():
        cls = registry.get(kind)
        caps = ", ".join(sorted(c.value for c in cls.capabilities))
        platforms = ", ".join(p or "none" for p in cls.platforms)
        click.echo(f"{kind:14} {cls.title or kind}\n{'':14} platforms: {platforms}\n{'':14} can: {caps}")


def _print_diagnosis(account: ChannelAccount, diagnosis: Diagnosis) -> None:
    from helpdesk.channelaccounts.diagnosis import explain

    verdict = explain(diagnosis.code)
    click.echo(f"{account.name}: {verdict.title}")
    for check in diagnosis.checks:
        click.echo(f"  {check.name:10} {check.code.value:20} {check.detail}")
    if not diagnosis.checks and diagnosis.detail:
        click.echo(f"  {diagnosis.detail}")
    if not diagnosis.ok:
        click.echo(f"What to do: {diagnosis.hint or verdict.next_step}")


@channels_cli.command("test")
@click.argument("name")
def channels_test(name: str) -> None:
    """Try an account's credentials and every capability now, and say what is wrong."""
    account = _account(name)
    diagnosis = diagnose_account(account)
    _print_diagnosis(account, diagnosis)
    if not diagnosis.ok:
        sys.exit(1)


def _records(page: FetchResult) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = [order_to_json(o) for o in page.orders]
    lines += [customer_to_json(c) for c in page.customers]
    lines += [{"record": "message", **message_to_json(m)} for m in page.messages]
    lines += [
        {"record": "rejected", "raw_format": r.raw_format, "reason": r.reason, "field": r.field} for r in page.rejected
    ]
    lines += [
        {"record": "problem", "stream": p.stream.value, "code": p.code.value, "detail": p.detail} for p in page.problems
    ]
    return lines


@channels_cli.command("dry-run")
@click.argument("name")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]))
@click.option("--pages", default=1, show_default=True, help="Pages to fetch.")
@click.option("--page-size", default=100, show_default=True)
def channels_dry_run(name: str, since: datetime | None, pages: int, page_size: int) -> None:
    """Fetch as the poller would and print the records as JSON lines; nothing is stored, the cursor stays."""
    from datetime import UTC

    account = _account(name)
    try:
        connector = build_connector(account)
    except Exception as exc:
        raise click.UsageError(f"the account cannot be used: {exc}") from None
    try:
        cursor = account.cursor
        if since is not None:
            cursor = connector.start_cursor(since if since.tzinfo else since.replace(tzinfo=UTC))
            if cursor is None:
                click.echo(f"note: {account.kind} accounts cannot start at a time; reading from the start", err=True)
        for n in range(pages):
            page = connector.fetch(cursor, page_size)
            for line in _records(page):
                click.echo(json.dumps(line, ensure_ascii=False))
            click.echo(
                f"page {n + 1}: {len(page.messages)} messages, {len(page.orders)} orders, "
                f"{len(page.rejected)} rejected; more: {'yes' if page.more else 'no'}",
                err=True,
            )
            cursor = page.cursor
            if not page.more:
                break
    except Exception as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from None
    finally:
        connector.close()
    db.session.rollback()


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{value!r}: use KEY=VALUE", param_hint=option)
        out[key.strip().replace("-", "_")] = rest
    return out


@channels_cli.command("edit")
@click.argument("name")
@click.option("--set", "sets", multiple=True, help="A setting as KEY=VALUE (repeatable), e.g. --set folder=Support.")
@click.option("--secret-env", "secret_envs", multiple=True, help="A secret's environment variable: ROLE=VAR.")
@click.option("--encrypt-secret", "encrypt", multiple=True, help="Store ROLE's value read from --secret-env now.")
@click.option("--forget-secret", "forget", multiple=True, help="Remove a stored secret or reference (ROLE).")
@click.option("--display-name")
@click.option("--poll-interval", type=int)
def channels_edit(
    name: str,
    sets: tuple[str, ...],
    secret_envs: tuple[str, ...],
    encrypt: tuple[str, ...],
    forget: tuple[str, ...],
    display_name: str | None,
    poll_interval: int | None,
) -> None:
    """Change an account's settings or secrets (secrets are never printed)."""
    account = _account(name)
    refs = _pairs(secret_envs, "--secret-env")
    values: dict[str, str] = {}
    for role in encrypt:
        var = refs.pop(role, None)
        if var is None or var not in os.environ:
            raise click.UsageError(f"--encrypt-secret {role}: give --secret-env {role}=VAR with VAR set")
        values[role] = os.environ[var]
    fields: dict[str, Any] = {}
    if display_name:
        fields["display_name"] = display_name
    if poll_interval is not None:
        fields["poll_interval_s"] = poll_interval
    try:
        update_account(
            db.session,
            account,
            settings=_pairs(sets, "--set"),
            secrets=values,
            secret_refs=refs,
            forget_secrets=forget,
            **fields,
        )
    except AccountError as exc:
        raise click.UsageError(str(exc)) from None
    db.session.commit()
    click.echo(f"Saved {account.name!r}. Test it with 'flask --app wsgi helpdesk channels test {account.name}'.")


def _set_enabled(name: str, enabled: bool) -> None:
    account = _account(name)
    account.enabled = enabled
    if enabled:
        account.next_poll_at = None  # poll at the next sweep
    db.session.commit()
    click.echo(f"{account.name} {'enabled' if enabled else 'disabled'}.")


@channels_cli.command("enable")
@click.argument("name")
def channels_enable(name: str) -> None:
    """Start polling an account again."""
    _set_enabled(name, True)


@channels_cli.command("disable")
@click.argument("name")
def channels_disable(name: str) -> None:
    """Stop polling an account (its tickets stay)."""
    _set_enabled(name, False)


@channels_cli.command("reseal")
def channels_reseal() -> None:
    """Re-encrypt every stored secret with the first HELPDESK_ENCRYPTION_KEY (after adding a new key)."""
    from helpdesk import crypto

    count = 0
    for account in db.session.scalars(sa.select(ChannelAccount).where(ChannelAccount.secrets_sealed.is_not(None))):
        account.secrets_sealed = crypto.reseal(account.secrets_sealed)
        count += 1
    db.session.commit()
    click.echo(f"Re-encrypted the secrets of {count} accounts with the first key.")
