"""PostgreSQL: ``pg_dump`` of a consistent snapshot, ``pg_restore`` piped into ``psql`` in one transaction.

The row counts in the manifest and the dump must describe the same moment,
so the backup opens a repeatable-read transaction, exports its snapshot,
counts rows in it and hands the snapshot to ``pg_dump --snapshot``.

The restore drops the (empty) target's tables and loads the dump inside one
``psql --single-transaction``: it either completes or leaves the target as
it was.  The password travels in ``PGPASSWORD``, never on a command line
that ``ps`` shows.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import sqlalchemy as sa


class ToolError(Exception):
    """A PostgreSQL client program is missing, too old or failed; the message says what to install or check."""


_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment that carries the password."""
    parsed = sa.make_url(url)
    parts = {"dbname": parsed.database, "host": parsed.host, "port": parsed.port, "user": parsed.username}
    for key, value in parsed.query.items():
        parts[key] = value if isinstance(value, str) else value[-1]
    conninfo = " ".join(f"{key}={_quote(str(value))}" for key, value in parts.items() if value not in (None, ""))
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    return conninfo, env


def server_major(conn: sa.Connection) -> int:
    return int(conn.execute(sa.text("SHOW server_version_num")).scalar_one()) // 10000


def find_tool(name: str, server: int) -> str:
    """The path of a client program at least as new as the server; ToolError says what to install otherwise."""
    path = shutil.which(name)
    install = (
        f"install the PostgreSQL {server} client tools or newer (Debian and Ubuntu: apt-get install postgresql-client)"
    )
    if path is None:
        raise ToolError(f"{name} was not found on PATH; {install}")
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout
    except OSError as exc:
        raise ToolError(f"{path} could not be run ({exc}); {install}") from None
    match = _VERSION.search(out)
    if match is None:
        raise ToolError(f"{path} --version printed {out.strip()!r}, not a PostgreSQL version; {install}")
    major = int(match.group(1))
    if major < server:
        raise ToolError(f"{path} is version {major}, older than the PostgreSQL {server} server; {install}")
    return path


def table_names(conn: sa.Connection) -> list[str]:
    return sorted(sa.inspect(conn).get_table_names())


def facts(conn: sa.Connection) -> tuple[str | None, dict[str, int]]:
    """Alembic revision and row counts, read in ``conn``'s transaction (the dump's snapshot)."""
    names = table_names(conn)
    counts = {name: int(conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one()) for name in names}  # noqa: S608
    revision = None
    if "alembic_version" in names:
        revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    return revision, counts


def dump(engine: sa.Engine, url: str, target: Path) -> tuple[str | None, dict[str, int], str]:
    """Dump the database to ``target`` (custom format, uncompressed: the archive compresses it once).

    Returns the Alembic revision, the row counts and the server version, all of the dumped snapshot.
    """
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        pg_dump = find_tool("pg_dump", server_major(conn))
        version = str(conn.execute(sa.text("SHOW server_version")).scalar_one()).split()[0]
        snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
        revision, counts = facts(conn)
        conninfo, env = libpq_target(url)
        _run(
            [pg_dump, "--format=custom", "--compress=0", "--no-owner", "--no-privileges",
             f"--snapshot={snapshot}", f"--file={target}", f"--dbname={conninfo}"],
            env,
        )  # fmt: skip
        conn.rollback()
    return revision, counts, version


def check_dump(engine: sa.Engine, dump_file: Path) -> str:
    """Make sure this machine's ``pg_restore`` reads the dump; return its path.  Touches no database."""
    with engine.connect() as conn:
        pg_restore = find_tool("pg_restore", server_major(conn))
        find_tool("psql", server_major(conn))
    _run([pg_restore, "--list", str(dump_file)], dict(os.environ))
    return pg_restore


def readable_by_pg_restore(dump_file: Path) -> str | None:
    """Let any ``pg_restore`` on PATH read the dump's table of contents; None if it did, else why not.

    For ``restore --check`` on a machine that may not run PostgreSQL at all,
    so no server version to compare with.
    """
    path = shutil.which("pg_restore")
    if path is None:
        return "pg_restore is not installed here, so the dump's contents were not read (its checksum matches)"
    try:
        _run([path, "--list", str(dump_file)], dict(os.environ))
    except ToolError as exc:
        return str(exc)
    return None


def restore(engine: sa.Engine, url: str, dump_file: Path, work: Path) -> None:
    """Replace every table of the target by the dump's, in one transaction."""
    with engine.connect() as conn:
        server = server_major(conn)
        names = table_names(conn)
    pg_restore = find_tool("pg_restore", server)
    psql = find_tool("psql", server)
    drops = work / "drop-tables.sql"
    drops.write_text("".join(f'DROP TABLE IF EXISTS "{name}" CASCADE;\n' for name in names))
    conninfo, env = libpq_target(url)
    engine.dispose()
    log = work / "pg_restore.log"
    with log.open("wb") as errors:
        producer = subprocess.Popen(
            [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(dump_file)],
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env,
        )
        assert producer.stdout is not None
        with producer.stdout:
            loaded = subprocess.run(
                [psql, "-X", "-q", "--no-psqlrc", "--single-transaction", "-v", "ON_ERROR_STOP=1",
                 f"--file={drops}", "--file=-", f"--dbname={conninfo}"],
                stdin=producer.stdout,
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )  # fmt: skip
        producer.wait()
    producer_err = log.read_text(errors="replace")
    if loaded.returncode != 0:
        raise ToolError(f"psql could not load the dump, the database is unchanged: {_last_lines(loaded.stderr)}")
    if producer.returncode != 0:
        raise ToolError(f"pg_restore failed, the database is unchanged: {_last_lines(producer_err)}")


def _run(args: list[str], env: dict[str, Any]) -> None:
    result = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise ToolError(f"{Path(args[0]).name} failed: {_last_lines(result.stderr)}")


def _last_lines(text: str, n: int = 3) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " / ".join(lines[-n:]) or "no message"
