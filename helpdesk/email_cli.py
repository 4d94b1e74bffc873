"""``helpdesk email import`` and ``helpdesk channels add email``.

Import is how a mailbox archive or a migration from another helpdesk gets in:
raw messages (any file name), folders of them and mbox files go through the
same pipeline as polled mail, in batches, idempotent on Message-ID.  The
``--report`` file has one JSON object per input message, in input order, so
an admin can check every message of a migration.

``channels add email`` stores a mailbox account: non-secret settings in
``ChannelAccount.settings``, and only the *names* of the environment
variables that hold its secrets.
"""

from __future__ import annotations

import json
import mailbox
import os
import re
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from tqdm import tqdm

from channels.base import AccountConfig, InboundMessage
from channels.email import MailParseError, parse_email
from channels.email.oauth import PROVIDERS
from channels.email.settings import PLATFORMS, SECURITY, SettingsError, load_settings
from helpdesk.extensions import db

email_cli = AppGroup("email", help="The email channel: imports and migrations.")
channels_add_cli = AppGroup("add", help="Add a channel account.")

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --- inputs ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailSource:
    """One message to import: a label for the report and a way to read its bytes."""

    label: str
    read: Callable[[], bytes]
    received_at: datetime | None = None


def _is_mbox(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(5) == b"From "


def _mbox_sources(path: Path, stack: ExitStack) -> list[MailSource]:
    box = mailbox.mbox(path, create=False)
    stack.callback(box.close)
    keys = list(box.keys())
    return [
        MailSource(f"{path}#{number}", lambda key=key: box.get_bytes(key)) for number, key in enumerate(keys, start=1)
    ]


def _file_sources(path: Path, stack: ExitStack) -> list[MailSource]:
    if _is_mbox(path):
        return _mbox_sources(path, stack)
    received = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return [MailSource(str(path), path.read_bytes, received)]


def collect_sources(paths: tuple[Path, ...], stack: ExitStack) -> list[MailSource]:
    """Every message under ``paths``: files as given, folders walked in name order, mbox split.

    mbox files stay open (on ``stack``) and are read message by message.
    """
    sources: list[MailSource] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if not any(part.startswith(".") for part in child.relative_to(path).parts):
                    sources.extend(_file_sources(child, stack))
        else:
            sources.extend(_file_sources(path, stack))
    return sources


# --- import --------------------------------------------------------------------------------------------


def _email_account_name(requested: str | None) -> str:
    from helpdesk.channelaccounts.models import ChannelAccount

    if requested:
        kind = db.session.scalar(sa.select(ChannelAccount.kind).where(ChannelAccount.name == requested))
        if kind is None:
            raise click.UsageError(f"no channel account named {requested!r}")
        return requested
    names = list(
        db.session.scalars(
            sa.select(ChannelAccount.name).where(ChannelAccount.kind == "email").order_by(ChannelAccount.name)
        )
    )
    if len(names) == 1:
        return names[0]
    if not names:
        raise click.UsageError("no email account yet; add one with 'flask --app wsgi helpdesk channels add email'")
    raise click.UsageError(f"several email accounts; choose one with --account ({', '.join(names)})")


def _report_line(source: MailSource, outcome: Any, msg: InboundMessage | None, parse_error: str | None) -> str:
    record: dict[str, Any] = {
        "file": source.label,
        "status": outcome.status,
        "reason": parse_error or outcome.reason,
        "ticket_id": outcome.ticket_id,
        "message_id": msg.external_id if msg else None,
        "subject": msg.subject if msg else None,
        "from_address": msg.sender.email if msg else None,
        "from_name": msg.sender.name if msg else None,
        "body_text": msg.body_text if msg else None,
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": len(a.content)}
            for a in (msg.attachments if msg else ())
        ],
    }
    return json.dumps(record, ensure_ascii=False)


def _import(
    sources: list[MailSource], account: str, max_bytes: int, report_file: IO[str] | None, batch_size: int
) -> dict[str, int]:
    """Parse and ingest ``sources`` in batches, one transaction each; returns counts by status."""
    from helpdesk.ingest.pipeline import ingest
    from helpdesk.ingest.quarantine import RawInput

    totals = {"ingested": 0, "duplicate": 0, "quarantined": 0}
    source_tag = "import:email"
    pending: list[tuple[MailSource, InboundMessage | RawInput, InboundMessage | None, str | None]] = []

    def flush() -> None:
        result = ingest(
            db.session, [entry for _, entry, _, _ in pending], source=source_tag, max_attachment_bytes=max_bytes
        )
        db.session.commit()
        for (source, _, msg, error), outcome in zip(pending, result.outcomes, strict=True):
            totals[outcome.status] = totals.get(outcome.status, 0) + 1
            if report_file is not None:
                report_file.write(_report_line(source, outcome, msg, error) + "\n")
        pending.clear()

    for source in tqdm(sources, desc="mail", unit="mail", disable=None):
        raw = source.read()
        try:
            parsed = parse_email(raw, account=account, max_attachment_bytes=max_bytes, received_at=source.received_at)
            pending.append((source, parsed, parsed, None))
        except MailParseError as exc:
            pending.append((source, RawInput(raw, "email", account), None, exc.reason))
        if len(pending) >= batch_size:
            flush()
    if pending:
        flush()
    return totals


@email_cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--account", "account_name", help="Email account the mail belongs to (default: the only one).")
@click.option("--report", "report_file", type=click.File("w", encoding="utf-8"), help="Write one JSON line per mail.")
@click.option("--batch-size", default=200, show_default=True, help="Mails per transaction.")
def import_command(
    paths: tuple[Path, ...], account_name: str | None, report_file: IO[str] | None, batch_size: int
) -> None:
    """Import raw mails, folders of them or mbox files through the ingestion pipeline."""
    account = _email_account_name(account_name)
    max_bytes = current_app.config["HELPDESK_SETTINGS"].attachment_max_bytes
    with ExitStack() as stack:
        sources = collect_sources(paths, stack)
        totals = _import(sources, account, max_bytes, report_file, batch_size)
    click.echo(
        f"{len(sources)} mails: {totals['ingested']} ingested, {totals['duplicate']} duplicates, "
        f"{totals['quarantined']} quarantined (account {account!r})."
    )
    if totals["quarantined"]:
        click.echo("See why with 'flask --app wsgi helpdesk quarantine list'.")


# --- channels add email --------------------------------------------------------------------------------


def _env_option(value: str | None, option: str) -> str | None:
    if value is not None and not _ENV_NAME.match(value):
        raise click.BadParameter(
            f"{value!r} is not an environment variable name (give the NAME, not the secret)", param_hint=option
        )
    return value


@channels_add_cli.command("email")
@click.option("--name", required=True, help="Short unique account name, e.g. amazon-de-mail.")
@click.option("--display-name", help="Shown in the inbox (default: the name).")
@click.option("--imap-host", required=True)
@click.option("--imap-port", type=int, help="Default: 993 for ssl, 143 otherwise.")
@click.option("--imap-security", type=click.Choice(SECURITY), default="ssl", show_default=True)
@click.option("--user", required=True, help="IMAP login (usually the mailbox address).")
@click.option("--password-env", help="Environment variable holding the IMAP password.")
@click.option("--oauth2-token-env", help="Environment variable holding an XOAUTH2 access token instead.")
@click.option("--oauth2-provider", type=click.Choice(sorted(PROVIDERS)), help="Refresh tokens at this provider.")
@click.option("--oauth2-client-id", help="OAuth client (application) id the refresh token was issued to.")
@click.option("--oauth2-token-url", help="Token endpoint, when it is not a known --oauth2-provider.")
@click.option("--oauth2-refresh-token-env", help="Environment variable holding the OAuth refresh token.")
@click.option("--oauth2-client-secret-env", help="Environment variable holding the OAuth client secret.")
@click.option("--folder", default="INBOX", show_default=True, help="Folder to read buyer mail from.")
@click.option("--sent-folder", help="Also read replies sent from other clients in this folder.")
@click.option("--mark-seen", is_flag=True, help="Mark mail read once it is stored.")
@click.option("--move-to", help="Move mail to this folder once it is stored.")
@click.option("--idle", is_flag=True, help="Hold an IMAP IDLE connection so new mail arrives within seconds.")
@click.option("--smtp-host", help="SMTP server for replies (without it the account only reads).")
@click.option("--smtp-port", type=int, help="Default: 465 for ssl, 587 for starttls, 25 for none.")
@click.option("--smtp-security", type=click.Choice(SECURITY), default="starttls", show_default=True)
@click.option("--smtp-user", help="SMTP login (default: --user).")
@click.option("--smtp-password-env", help="Environment variable holding the SMTP password (default: the IMAP one).")
@click.option("--from-address", help="Sender of replies; for marketplace relays the authorised sender address.")
@click.option("--from-name", help="Display name on replies.")
@click.option("--platform", type=click.Choice([*PLATFORMS, "none"]), default="none", show_default=True)
@click.option("--site", help="Marketplace site, e.g. DE or US.")
@click.option("--language", help="Default language of the account's customers, e.g. de.")
def add_email_command(**opts: Any) -> None:
    """Add a mailbox read over IMAP and answered over SMTP."""
    from helpdesk.channelaccounts.models import ChannelAccount

    password_env = _env_option(opts["password_env"], "--password-env")
    token_env = _env_option(opts["oauth2_token_env"], "--oauth2-token-env")
    smtp_env = _env_option(opts["smtp_password_env"], "--smtp-password-env")
    refresh_env = _env_option(opts["oauth2_refresh_token_env"], "--oauth2-refresh-token-env")
    client_secret_env = _env_option(opts["oauth2_client_secret_env"], "--oauth2-client-secret-env")
    if not password_env and not token_env and not refresh_env:
        raise click.UsageError(
            "give --password-env VAR, --oauth2-refresh-token-env VAR (with --oauth2-provider and "
            "--oauth2-client-id) or --oauth2-token-env VAR (the variable's name, not the secret)"
        )
    if refresh_env and not opts["oauth2_client_id"]:
        raise click.UsageError("--oauth2-refresh-token-env needs --oauth2-client-id")
    if db.session.scalar(sa.select(ChannelAccount.id).where(ChannelAccount.name == opts["name"])) is not None:
        raise click.UsageError(f"a channel account named {opts['name']!r} already exists")
    from_address = opts["from_address"] or (opts["user"] if "@" in opts["user"] else None)
    if opts["smtp_host"] and not from_address:
        raise click.UsageError("replies need --from-address (the user name is not an e-mail address)")
    if opts["platform"] in ("amazon", "walmart") and opts["smtp_host"] and not opts["from_address"]:
        click.echo(
            f"Note: {opts['platform']} relays only accept replies from an authorised sender; using {from_address}."
        )
    settings: dict[str, Any] = {
        "imap_host": opts["imap_host"],
        "imap_security": opts["imap_security"],
        "user": opts["user"],
        "folder": opts["folder"],
        "mark_seen": opts["mark_seen"],
        "idle": opts["idle"],
    }
    optional = {
        "imap_port": opts["imap_port"],
        "sent_folder": opts["sent_folder"],
        "move_to": opts["move_to"],
        "smtp_host": opts["smtp_host"],
        "smtp_port": opts["smtp_port"],
        "smtp_user": opts["smtp_user"],
        "from_address": from_address,
        "from_name": opts["from_name"],
        "oauth2_provider": opts["oauth2_provider"],
        "oauth2_client_id": opts["oauth2_client_id"],
        "oauth2_token_url": opts["oauth2_token_url"],
    }
    settings.update({key: value for key, value in optional.items() if value is not None})
    if opts["smtp_host"]:
        settings["smtp_security"] = opts["smtp_security"]
    refs = {
        role: var
        for role, var in (
            ("password", password_env),
            ("oauth2_token", token_env),
            ("oauth2_refresh_token", refresh_env),
            ("oauth2_client_secret", client_secret_env),
            ("smtp_password", smtp_env),
        )
        if var
    }
    try:
        load_settings(AccountConfig(name=opts["name"], kind="email", settings=settings))
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    account = ChannelAccount(
        name=opts["name"],
        kind="email",
        platform=None if opts["platform"] == "none" else opts["platform"],
        display_name=opts["display_name"] or opts["name"],
        site=opts["site"],
        default_language=opts["language"],
        settings=settings,
        secret_refs=refs,
    )
    db.session.add(account)
    db.session.commit()
    click.echo(f"Added email account {account.name!r} ({settings['user']} on {settings['imap_host']}).")
    missing = [var for var in refs.values() if var not in os.environ]
    click.echo("Next steps:")
    for var in missing:
        click.echo(f"  export {var}=…        # not set in this shell; the worker needs it too")
    click.echo(f"  flask --app wsgi helpdesk poll --once --account {account.name}")
    click.echo("  flask --app wsgi helpdesk worker   # keeps polling on schedule")
