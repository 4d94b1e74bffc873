"""SQLite: a consistent copy of a live database with the online backup API, and back.

``Connection.backup`` copies the database page by page inside one read
transaction; under WAL the web process, the worker and pollers keep writing
meanwhile and the copy is the database as of the moment it started.  It is
taken in one step: a step-wise copy restarts whenever another connection
writes, so on a busy desk it might never finish.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path


def database_path(url: str) -> Path:
    """The file behind a ``sqlite:///path`` URL."""
    import sqlalchemy as sa

    name = sa.make_url(url).database
    if not name or name == ":memory:":
        raise ValueError("an in-memory SQLite database cannot be backed up or restored")
    return Path(name)


def snapshot(source: Path, target: Path) -> None:
    """Copy the live database ``source`` to the new file ``target`` (journal mode DELETE: one self-contained file)."""
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")


def table_names(path: Path) -> list[str]:
    """The ordinary tables of a database file (not SQLite's own, not full-text search's internal ones)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        rows = conn.execute("PRAGMA table_list").fetchall()
    # PRAGMA table_list: schema, name, type (table, view, shadow, virtual), ncol, wr, strict.
    return sorted(
        name
        for schema, name, kind, *_ in rows
        if schema == "main" and kind == "table" and not name.startswith("sqlite_")
    )


def facts(path: Path) -> tuple[str | None, dict[str, int]]:
    """The Alembic revision and the row count of every table in a database file."""
    names = table_names(path)
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        counts = {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}  # noqa: S608 - names from the file's own catalogue
        revision = None
        if "alembic_version" in names:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
    return revision, counts


def integrity_problem(path: Path) -> str | None:
    """What SQLite's quick check finds wrong with a database file, or None."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            result = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None if result == ["ok"] else "; ".join(result[:3])


def restore(source: Path, target: Path) -> None:
    """Replace the database in ``target`` by the copy in ``source``, then switch the target to WAL as the app runs it.

    The target is switched out of WAL first: the backup API cannot change a
    WAL database's page size, and the copy may have another one.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target, timeout=30)) as dst:
        dst.execute("PRAGMA journal_mode=DELETE")
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
