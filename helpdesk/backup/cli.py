"""``flask --app wsgi helpdesk backup | restore | export``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask.cli import with_appcontext
from tqdm import tqdm


@contextmanager
def _bars() -> Iterator[Callable[[int, str, str], Callable[[int], object]]]:
    """A progress-bar factory for the services; every bar it opened is closed on the way out."""
    opened: list[tqdm] = []

    def make(total: int, label: str, unit: str) -> Callable[[int], object]:
        bar = tqdm(total=total, desc=label, unit=unit, unit_scale=unit == "B", disable=None, leave=False)
        opened.append(bar)
        return bar.update

    try:
        yield make
    finally:
        for bar in opened:
            bar.close()


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


@click.command("backup")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    help="Archive file or folder (default: helpdesk-backup-<UTC time>.tar.gz in the current folder).",
)
@with_appcontext
def backup_command(output: Path | None) -> None:
    """Back up the database and the attachment files into one archive (safe while the helpdesk runs)."""
    from helpdesk.backup.postgres import ToolError
    from helpdesk.backup.services import create_backup

    try:
        with _bars() as progress:
            result = create_backup(output, progress)
    except (ToolError, FileExistsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    manifest = result.manifest
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(
        f"Backup written to {result.path} ({_size(result.path.stat().st_size)}): {manifest.database_kind} database "
        f"at schema {manifest.alembic_revision}, {manifest.row_counts.get('ticket', 0)} tickets, "
        f"{len(manifest.attachment_files)} attachment files."
    )
    click.echo("Copy it to another machine; check it with 'flask --app wsgi helpdesk restore --check ARCHIVE'.")


@click.command("restore")
@click.argument("archive", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--check", "check_only", is_flag=True, help="Only verify the archive; change nothing.")
@with_appcontext
def restore_command(archive: Path, check_only: bool) -> None:
    """Restore a backup archive into this helpdesk, which must be empty (a new database and instance folder)."""
    from helpdesk.backup.archive import ArchiveError
    from helpdesk.backup.postgres import ToolError
    from helpdesk.backup.services import RestoreError, restore_backup, verify_backup

    try:
        with _bars() as progress:
            if check_only:
                manifest = verify_backup(archive, progress)
                click.echo(
                    f"{archive} is complete: every checksum matches. It holds a {manifest.database_kind} database at "
                    f"schema {manifest.alembic_revision} made {manifest.created_at} by version {manifest.app_version}, "
                    f"and {len(manifest.attachment_files)} attachment files."
                )
                return
            result = restore_backup(archive, progress)
    except ArchiveError as exc:
        raise click.ClickException(f"Refused: {exc}. Nothing was changed.") from None
    except RestoreError as exc:
        raise click.ClickException(f"Refused: {exc}") from None
    except ToolError as exc:
        raise click.ClickException(str(exc)) from None
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    manifest = result.manifest
    click.echo(
        f"Restored the backup of {manifest.created_at}: {manifest.row_counts.get('ticket', 0)} tickets, "
        f"{manifest.row_counts.get('user_account', 0)} users, {len(manifest.attachment_files)} attachment files "
        f"({result.attachments_written} written)."
    )
    if result.migrated_from:
        click.echo(f"The schema was upgraded from {result.migrated_from} to this version's.")
    click.echo(
        "Next: start the helpdesk with the same HELPDESK_SECRET_KEY (or HELPDESK_ENCRYPTION_KEY) as the old one, "
        "or channel credentials cannot be read; then sign in with an existing account."
    )


@click.command("export")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    help="A folder (one file per kind) or a file ending in .jsonl or .jsonl.gz (every record in one file). "
    "Default: a new folder helpdesk-export-<UTC time> in the current folder.",
)
@with_appcontext
def export_command(output: Path | None) -> None:
    """Export every customer, order, ticket and message as JSON lines (streamed; the helpdesk may keep running)."""
    from helpdesk.backup.export import counts, export
    from helpdesk.backup.services import default_name
    from helpdesk.extensions import db

    if output is None:
        output = Path.cwd() / default_name().replace("backup", "export").removesuffix(".tar.gz")
    total = sum(counts(db.session).values())
    try:
        with tqdm(total=total, desc="export", unit="record", disable=None, leave=False) as bar:
            written = export(db.session, output, bar.update)
    except FileExistsError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.session.rollback()
    summary = ", ".join(f"{n} {kind}s" for kind, n in written.items())
    click.echo(f"Exported {summary} to {output}.")
