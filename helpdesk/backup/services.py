"""Back up a whole helpdesk into one archive, and restore one into an empty instance.

The order of a restore is the point of this module: everything that can be
checked is checked before anything is written — the target is empty, the
archive is complete and every checksum matches, the database kind matches,
the schema is one this version knows, the database copy itself reads back.
Only then are attachment files put in place (harmless if the database step
fails: they are content-addressed), the database replaced, and migrations
run up to this version's head.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from flask import current_app

from helpdesk.backup import attachments, postgres, sqlite
from helpdesk.backup.archive import ArchiveError, ArchiveWriter, Manifest, extract_verified
from helpdesk.extensions import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# Progress: called once with a total and a label, returns a callback for each unit done.
Progress = Callable[[int, str, str], Callable[[int], object]]


class RestoreError(Exception):
    """The restore was refused before anything was written; the message says why and what to do."""


@dataclass
class BackupResult:
    path: Path
    manifest: Manifest
    warnings: list[str] = field(default_factory=list)


@dataclass
class RestoreResult:
    manifest: Manifest
    attachments_written: int
    migrated_from: str | None
    warnings: list[str] = field(default_factory=list)


def _no_progress(total: int, label: str, unit: str) -> Callable[[int], object]:
    return lambda n: None


def default_name(now: datetime | None = None) -> str:
    """``helpdesk-backup-20261203-021500Z.tar.gz``: sorts by time, says it is UTC."""
    return f"helpdesk-backup-{(now or datetime.now(UTC)):%Y%m%d-%H%M%S}Z.tar.gz"


def app_version() -> str:
    try:
        return metadata.version("helpdesk")
    except metadata.PackageNotFoundError:
        return "unknown"


def _database_url() -> str:
    return db.engine.url.render_as_string(hide_password=False)


def _kind() -> str:
    return "sqlite" if db.engine.dialect.name == "sqlite" else "postgresql"


def output_path(output: Path | None) -> Path:
    """Where the archive goes: a folder gets the default name inside it; nothing means the current folder."""
    if output is None:
        return Path.cwd() / default_name()
    if output.is_dir():
        return output / default_name()
    return output


def create_backup(output: Path | None = None, progress: Progress = _no_progress) -> BackupResult:
    """Write one archive with the database and every attachment file; the app may keep running meanwhile."""
    path = output_path(output).resolve()
    if path.exists():
        raise FileExistsError(f"{path} already exists; name another file or move the old one away")
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = _kind()
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix=".helpdesk-backup-", dir=path.parent) as work:
        database = Path(work) / "database"
        if kind == "sqlite":
            sqlite.snapshot(sqlite.database_path(_database_url()), database)
            revision, counts = sqlite.facts(database)
            server_version = sqlite3.sqlite_version
        else:
            revision, counts, server_version = postgres.dump(db.engine, _database_url(), database)
        manifest = Manifest(
            app_version=app_version(),
            created_at=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            database_kind=kind,
            alembic_revision=revision,
            row_counts=counts,
            server_version=server_version,
        )
        writer = ArchiveWriter(path)
        try:
            writer.add_file(manifest.database_file, database)
            files = list(attachments.stored_files(attachments.root()))
            advance = progress(len(files), "attachments", "file")
            for sha, file in files:
                if writer.add_file(attachments.archive_name(sha), file) != sha:
                    # Keep the damaged copy out: restoring it would only plant the damage in the new desk.
                    del writer.files[attachments.archive_name(sha)]
                    warnings.append(f"attachment file {file} does not match its checksum (damaged on disk); left out")
                advance(1)
            writer.finish(manifest)
        except BaseException:
            writer.abort()
            raise
    return BackupResult(path, manifest, warnings)


def holdings() -> dict[str, int]:
    """How many tickets and users the current database holds (tables not created yet count as empty)."""
    names = set(sa.inspect(db.engine).get_table_names())
    found = {}
    with db.engine.connect() as conn:
        for table, label in (("ticket", "tickets"), ("user_account", "users")):
            if table in names:
                found[label] = int(conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar_one())  # noqa: S608
    return found


def _refuse_unless_empty() -> None:
    held = {label: n for label, n in holdings().items() if n}
    if held:
        what = " and ".join(f"{n} {label}" for label, n in held.items())
        raise RestoreError(
            f"this helpdesk already holds {what}; a backup is only restored into an empty instance. "
            "Point HELPDESK_DATABASE_URL at a new, empty database (a new SQLite file, or a PostgreSQL database made "
            "with createdb) and HELPDESK_INSTANCE_PATH at a new folder, then run the restore again."
        )


def _check_revision(manifest: Manifest) -> str:
    """This version's head revision; RestoreError if the archive's schema is newer or unknown."""
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    if manifest.alembic_revision is None:
        raise RestoreError("the backup's database has no schema revision: it was not made from an initialised helpdesk")
    try:
        script.get_revision(manifest.alembic_revision)
    except CommandError:
        raise RestoreError(
            f"the backup's database schema is at revision {manifest.alembic_revision}, which this version of the "
            f"helpdesk does not know (it knows up to {head}): the backup was made by a newer version "
            f"({manifest.app_version}). Install that version or a later one, then restore again."
        ) from None
    return head


@contextmanager
def _work_folder() -> Iterator[Path]:
    instance: Path = current_app.config["HELPDESK_SETTINGS"].instance_path
    instance.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".restore-", dir=instance))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _count_mismatches(expected: dict[str, int], found: dict[str, int]) -> list[str]:
    return [
        f"{table}: {found.get(table, 'no table')} rows instead of {n}"
        for table, n in sorted(expected.items())
        if found.get(table) != n
    ]


def _check_kind(manifest: Manifest, kind: str) -> None:
    """Cross-engine restores are not supported: a dump of one engine does not load into the other."""
    if manifest.database_kind != kind:
        raise RestoreError(
            f"this backup holds a {manifest.database_kind} database and this helpdesk runs on {kind}; restore it "
            f"into a helpdesk whose HELPDESK_DATABASE_URL is a {manifest.database_kind} database (moving between "
            "SQLite and PostgreSQL is not supported)"
        )


def _check_sqlite_copy(database: Path, manifest: Manifest) -> None:
    """The copied database opens, passes SQLite's quick check and holds the rows the manifest lists."""
    problem = sqlite.integrity_problem(database)
    if problem:
        raise ArchiveError(f"the database in the archive does not read back ({problem})")
    mismatches = _count_mismatches(manifest.row_counts, sqlite.facts(database)[1])
    if mismatches:
        raise ArchiveError(
            "the database in the archive does not hold the rows its manifest lists: " + "; ".join(mismatches[:5])
        )


def verify_backup(archive: Path, progress: Progress = _no_progress) -> Manifest:
    """Check an archive completely without restoring it (a backup nobody has checked is a hope, not a backup)."""
    with _work_folder() as work:
        size = archive.stat().st_size if archive.is_file() else 0
        manifest = extract_verified(archive, work / "archive", progress(size, "checking archive", "B"))
        _check_kind(manifest, _kind())
        _check_revision(manifest)
        database = work / "archive" / manifest.database_file
        if manifest.database_kind == "sqlite":
            _check_sqlite_copy(database, manifest)
        else:
            problem = postgres.readable_by_pg_restore(database)
            if problem and "not installed" not in problem:
                raise ArchiveError(f"the database dump in the archive does not read back ({problem})")
    return manifest


def restore_backup(archive: Path, progress: Progress = _no_progress) -> RestoreResult:
    """Restore ``archive`` into this (empty) instance; RestoreError or ArchiveError before anything is written."""
    _refuse_unless_empty()
    kind = _kind()
    with _work_folder() as work:
        size = archive.stat().st_size if archive.is_file() else 0
        manifest = extract_verified(archive, work / "archive", progress(size, "checking archive", "B"))
        _check_kind(manifest, kind)
        head = _check_revision(manifest)
        database = work / "archive" / manifest.database_file
        if kind == "sqlite":
            _check_sqlite_copy(database, manifest)
        else:
            postgres.check_dump(db.engine, database)
        # Everything is checked; from here on the instance changes.
        written = _put_back_attachments(work / "archive", manifest.attachment_files, progress)
        db.session.remove()
        db.engine.dispose()
        if kind == "sqlite":
            sqlite.restore(database, sqlite.database_path(_database_url()))
        else:
            postgres.restore(db.engine, _database_url(), database, work)
    db.engine.dispose()
    warnings = []
    if kind == "postgresql":
        with db.engine.connect() as conn:
            mismatches = _count_mismatches(manifest.row_counts, postgres.facts(conn)[1])
        if mismatches:
            warnings.append(
                "the restored database does not hold the rows the manifest lists: " + "; ".join(mismatches[:5])
            )
    migrated_from = None
    if manifest.alembic_revision != head:
        from flask_migrate import upgrade

        upgrade(directory=str(MIGRATIONS))
        migrated_from = manifest.alembic_revision
    unsent = unsent_replies()
    if unsent:
        warnings.append(
            f"{unsent} replies were still waiting to be sent when the backup was made; the task queue is not in the "
            "backup, so they are not sent now (the old desk may have sent them since). Check those tickets in the "
            "inbox (delivery state queued or sending) before answering again"
        )
    locked = sealed_out()
    if locked:
        warnings.append(
            f"the credentials of {len(locked)} channel accounts ({', '.join(locked[:5])}) cannot be opened with this "
            "helpdesk's key: set HELPDESK_SECRET_KEY (and HELPDESK_ENCRYPTION_KEY if the old desk had one) as on the "
            "old desk, or enter those credentials again under Administration → Channels"
        )
    return RestoreResult(manifest, written, migrated_from, warnings)


def unsent_replies() -> int:
    """Replies the restored desk holds as queued or being sent: their send jobs lived in the task queue."""
    from helpdesk.tickets.models import DeliveryState, Message

    stmt = sa.select(sa.func.count(Message.id)).where(
        Message.delivery_state.in_([DeliveryState.QUEUED, DeliveryState.SENDING])
    )
    count = int(db.session.scalar(stmt) or 0)
    db.session.rollback()
    return count


def sealed_out() -> list[str]:
    """Channel accounts whose stored credentials this app's keys cannot open (the backup does not hold the key)."""
    from helpdesk.channelaccounts.models import ChannelAccount
    from helpdesk.crypto import SealError, unseal

    locked = []
    rows = db.session.execute(
        sa.select(ChannelAccount.name, ChannelAccount.secrets_sealed).where(ChannelAccount.secrets_sealed.is_not(None))
    )
    for name, token in rows:
        try:
            unseal(token)
        except SealError:
            locked.append(name)
    db.session.rollback()
    return sorted(locked)


def _put_back_attachments(extracted: Path, names: Sequence[str], progress: Progress) -> int:
    base = attachments.root()
    advance = progress(len(names), "attachments", "file")
    written = 0
    for name in names:
        sha = name.rsplit("/", 1)[-1]
        written += attachments.put_back(extracted / name, sha, base)
        advance(1)
    return written
