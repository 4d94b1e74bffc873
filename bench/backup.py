"""Backup, check, restore and export of a large desk: wall time and peak memory of each command.

    python bench/backup.py [--tickets 50000] [--files 100] [--postgres]

A fresh migrated database (SQLite, or PostgreSQL with ``--postgres``) is
filled with ``--tickets`` tickets of one message each (as bench/inbox.py
does) plus ``--files`` attachment files of 100 KB of random bytes (random:
they do not compress, as photos do not).  Then each command runs as its own
``flask --app wsgi helpdesk …`` process, as an operator runs it; peak memory
is that process's maximum resident set.  The export must stay flat in memory
however large the desk is: it reads a thousand rows at a time.  The ceiling
is ``tar -cz`` of the same database file and attachment folder (SQLite):
what the archive costs without the snapshot, the manifest or the checksums.
Prints a Markdown summary and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, fresh_postgres, make_app
from bench.inbox import fill


def add_files(app: Any, count: int) -> None:
    from helpdesk.attachments.store import store_many
    from helpdesk.extensions import db

    with app.app_context():
        store_many(db.session, [os.urandom(100 * 1024) for _ in range(count)])
        db.session.commit()


# The command runs in this wrapper so it can report its own peak memory: a child's ru_maxrss on Linux
# starts from its parent's at fork, which here holds the whole filled desk.
_WRAPPER = (
    "import atexit, runpy, sys\n"
    "def peak():\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "    sys.stderr.write(f'\\nVmHWM {hwm}\\n')\n"
    "atexit.register(peak)\n"
    "sys.argv = ['flask'] + sys.argv[1:]\n"
    "runpy.run_module('flask', run_name='__main__')\n"
)


def timed(env: dict[str, str], *args: str) -> dict[str, float]:
    """Run one CLI command in its own process: wall and CPU seconds, and its peak RSS in MB."""
    before = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, "--app", "wsgi", "helpdesk", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - before
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = cpu.ru_utime + cpu.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
    hwm_kb = int(done.stderr.rsplit("VmHWM", 1)[1].split()[0])
    return {"s": round(seconds, 2), "cpu_s": round(cpu_s, 2), "rss_mb": round(hwm_kb / 1024, 1)}


def ceiling(app: Any, database: Path, out: Path) -> dict[str, float]:
    """``tar -cz`` (gzip -6, as the archive) of the database file and the attachment folder."""
    import sqlite3

    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the whole database in its one file
    instance = app.config["HELPDESK_SETTINGS"].instance_path
    before = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        ["tar", "-cz", "-f", str(out), "-C", str(instance), "attachments", "-C", str(database.parent), database.name],
        check=True,
        env={**os.environ, "GZIP": "-6"},
    )
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = cpu.ru_utime + cpu.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
    return {"s": round(time.perf_counter() - before, 2), "cpu_s": round(cpu_s, 2), "rss_mb": 0.0}


def drop_postgres(app: Any, names: list[str]) -> None:
    import sqlalchemy as sa

    from bench.common import PG_URL
    from helpdesk.extensions import db

    with app.app_context():
        db.engine.dispose()
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--postgres", action="store_true")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="helpdesk-bench-backup-"))
    if opts.postgres:
        url, target_url = fresh_postgres("helpdesk_bench_backup"), fresh_postgres("helpdesk_bench_restore")
        if url is None or target_url is None:
            sys.exit("no PostgreSQL server answers")
    else:
        url, target_url = f"sqlite:///{work / 'source.db'}", f"sqlite:///{work / 'target' / 'helpdesk.db'}"
    app = make_app(url)
    fill(app, opts.tickets)
    add_files(app, opts.files)
    base = {**os.environ, "HELPDESK_SECRET_KEY": "bench-secret-key-0123456789", "HELPDESK_WORKER_IN_PROCESS": "false"}
    source = {
        **base,
        "HELPDESK_DATABASE_URL": url,
        "HELPDESK_INSTANCE_PATH": str(app.config["HELPDESK_SETTINGS"].instance_path),
    }
    target = {**base, "HELPDESK_DATABASE_URL": target_url, "HELPDESK_INSTANCE_PATH": str(work / "target")}
    archive = work / "desk.tar.gz"
    results = {}
    if not opts.postgres:
        results["ceiling: tar -cz"] = ceiling(app, work / "source.db", work / "ceiling.tar.gz")
    results |= {
        "backup": timed(source, "backup", "--output", str(archive)),
        "check": timed(target, "restore", "--check", str(archive)),
        "restore": timed(target, "restore", str(archive)),
        "export": timed(source, "export", "--output", str(work / "export")),
    }
    summary = {
        "backend": "postgresql" if opts.postgres else "sqlite",
        "tickets": opts.tickets,
        "files": opts.files,
        "archive_mb": round(archive.stat().st_size / 2**20, 1),
        "export_mb": round(sum(p.stat().st_size for p in (work / "export").iterdir()) / 2**20, 1),
        **results,
    }
    print(
        f"| {summary['backend']} | {opts.tickets:,} tickets, {opts.files} files | archive {summary['archive_mb']} MB |"
    )
    print("| command | wall s | CPU s | peak RSS MB |\n|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['s']} | {r['cpu_s']} | {r['rss_mb']} |")
    print(json.dumps(summary))
    if opts.postgres:
        drop_postgres(app, ["helpdesk_bench_backup", "helpdesk_bench_restore"])


if __name__ == "__main__":
    main()
