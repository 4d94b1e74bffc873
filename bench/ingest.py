"""Ingestion throughput: synthetic marketplace traffic through the full pipeline.

    python bench/ingest.py [--scale 1.0] [--runs 3] [--batch 1000] [--auto-translate]

Default: 50,000 messages (several platforms and languages, 30 % replies to
earlier threads, repeat customers) in transactions of ``helpdesk ingest``'s
default size (1,000; ``--batch 500`` is a poller's page), on SQLite and on
PostgreSQL, each run in a fresh process and a fresh database.  The ceiling
is a raw ``sqlite3`` executemany of the same message rows (no dedupe, no
threading, no customers) measured in the same run.  ``--auto-translate``
configures a translation service and has one team, serving every store,
translate buyer messages automatically: ingest must not get slower (the
translations are queued by the outbox relay after the commit, not here).  Prints one JSON object
as its last line.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import fresh_postgres, make_app, median, peak_rss_mb, run_child
from helpdesk.cli import IMPORT_BATCH


def _messages(count: int) -> list:
    from helpdesk.demo.synthetic import stream

    return list(stream(count, seed=42, reply_share=0.3, customers=count // 4))


def _accounts(session) -> None:  # type: ignore[no-untyped-def]
    from helpdesk.demo.synthetic import add_store_accounts

    add_store_accounts(session)
    session.commit()


def _auto_translate(session) -> None:  # type: ignore[no-untyped-def]
    """One team serving every store with automatic translation into Chinese, and an active service."""
    import sqlalchemy as sa

    from helpdesk.accounts.models import Team, team_channel_accounts
    from helpdesk.channelaccounts.models import ChannelAccount
    from helpdesk.translation import configuration

    team = Team(name="bench", auto_translate_to="zh")
    session.add(team)
    session.flush()
    stores = session.scalars(sa.select(ChannelAccount.id)).all()
    session.execute(sa.insert(team_channel_accounts), [{"team_id": team.id, "channel_account_id": s} for s in stores])
    configuration.configure(session, None, kind="libretranslate", base_url="http://127.0.0.1:5000")
    session.commit()


def measure_pipeline(backend: str, count: int, batch: int, auto_translate: bool = False) -> dict[str, float]:
    if backend == "sqlite":
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    else:
        url = fresh_postgres("helpdesk_bench_ingest")
        if url is None:
            return {"skipped": 1.0}
    app = make_app(url)
    messages = _messages(count)
    from helpdesk.extensions import db
    from helpdesk.ingest.pipeline import ingest

    with app.app_context():
        _accounts(db.session)
        if auto_translate:
            _auto_translate(db.session)
        start = time.perf_counter()
        ingested = 0
        for i in range(0, len(messages), batch):
            result = ingest(db.session, messages[i : i + batch], source="bench")
            db.session.commit()
            ingested += result.ingested
        elapsed = time.perf_counter() - start
    assert ingested == count, f"only {ingested} of {count} ingested"
    return {"messages_per_s": count / elapsed, "seconds": elapsed, "peak_rss_mb": peak_rss_mb()}


def measure_ceiling(count: int, batch: int) -> dict[str, float]:
    """Raw sqlite3 batched insert of the same message rows: the floor of any pipeline's cost."""
    messages = _messages(count)
    path = Path(tempfile.mkdtemp()) / "ceiling.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE message (id INTEGER PRIMARY KEY, account TEXT, external_id TEXT, direction TEXT, "
        "author_name TEXT, subject TEXT, body_text TEXT, language TEXT, sent_at TEXT, "
        "UNIQUE(account, external_id))"
    )
    start = time.perf_counter()
    for i in range(0, len(messages), batch):
        rows = [
            (
                m.account,
                m.external_id,
                m.direction.value,
                m.sender.name,
                m.subject,
                m.body_text,
                m.language,
                m.sent_at.isoformat(),
            )
            for m in messages[i : i + batch]
        ]
        conn.executemany(
            "INSERT INTO message (account, external_id, direction, author_name, subject, body_text, "
            "language, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.commit()
    elapsed = time.perf_counter() - start
    return {"messages_per_s": count / elapsed, "seconds": elapsed, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 50,000 messages")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=IMPORT_BATCH, help="messages per transaction")
    parser.add_argument("--auto-translate", action="store_true", help="a team translates buyer messages")
    parser.add_argument("--one", choices=["sqlite", "postgresql", "ceiling"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    count = int(50_000 * args.scale)
    if args.one:
        if args.one == "ceiling":
            figures = measure_ceiling(count, args.batch)
        else:
            figures = measure_pipeline(args.one, count, args.batch, args.auto_translate)
        print(json.dumps(figures))
        return

    results: dict[str, list[dict[str, float]]] = {"ceiling": [], "sqlite": [], "postgresql": []}
    for run in range(args.runs):
        for name, figures_of in results.items():
            extra = ["--auto-translate"] if args.auto_translate and name != "ceiling" else []
            figures = run_child(
                Path(__file__), "--one", name, "--scale", str(args.scale), "--batch", str(args.batch), *extra
            )
            figures_of.append(figures)
            if "skipped" not in figures:
                print(
                    f"run {run + 1}/{args.runs} {name:10} {figures['messages_per_s']:>10,.0f} msg/s  "
                    f"peak {figures['peak_rss_mb']:.0f} MB",
                    file=sys.stderr,
                )

    def med(name: str, key: str) -> float | None:
        values = [r[key] for r in results[name] if key in r]
        return round(median(values), 1) if values else None

    summary = {
        "messages": count,
        "batch": args.batch,
        "auto_translate": args.auto_translate,
        "runs": args.runs,
        "messages_per_s": med("sqlite", "messages_per_s"),
        "ceiling_per_s": med("ceiling", "messages_per_s"),
        "postgresql_messages_per_s": med("postgresql", "messages_per_s"),
        "peak_rss_mb": med("sqlite", "peak_rss_mb"),
        "postgresql_peak_rss_mb": med("postgresql", "peak_rss_mb"),
    }
    if summary["messages_per_s"] and summary["ceiling_per_s"]:
        summary["ratio"] = round(summary["messages_per_s"] / summary["ceiling_per_s"], 3)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
