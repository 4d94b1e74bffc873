"""``helpdesk email import``: mail archives and migrations through the pipeline.

Import is how a mailbox archive or a migration from another helpdesk gets in:
raw messages (any file name), folders of them and mbox files go through the
same pipeline as polled mail, in batches, idempotent on Message-ID.  The
``--report`` file has one JSON object per input message, in input order, so
an admin can check every message of a migration.

Mailbox accounts themselves are set up like every other channel account
(``channels add email``, generated from the e-mail connector's schema).
"""

from __future__ import annotations

import json
import mailbox
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

from channels import registry
from channels.base import InboundMessage
from channels.email import MailParseError, parse_email
from helpdesk.extensions import db

email_cli = AppGroup("email", help="The email channel: imports and migrations.")

MAIL_FORMAT = "email"  # the raw format of a MIME message, as mail connectors declare it


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
    mail_kinds = [kind for kind in registry.kinds() if MAIL_FORMAT in registry.get(kind).raw_formats]
    names = list(
        db.session.scalars(
            sa.select(ChannelAccount.name).where(ChannelAccount.kind.in_(mail_kinds)).order_by(ChannelAccount.name)
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
            pending.append((source, RawInput(raw, MAIL_FORMAT, account), None, exc.reason))
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
