"""SLA engine at scale: the sweep over open tickets and the reports page over a year of history.

    python bench/sla.py [--tickets 1000000] [--messages-per-ticket 5] [--runs 5]

Builds two SQLite databases with raw inserts (the pipeline is measured by
``bench/ingest.py``):

* sweep: ``--tickets`` open tickets, each with a running first-response
  clock.  "steady" is one minutely sweep on a live desk where 1 % of the
  clocks reach their warning and 1 % their due instant since the last
  sweep; "catch-up" is the first sweep after the worker was down for a
  day, when every clock needs a warning or a breach.  The sweep commits
  every 50,000 clocks (short write transactions); the figure is the total
  over all its transactions, and the longest one is printed too.
* report: ``--tickets`` tickets spread over 365 days (5 % still open),
  ``--messages-per-ticket`` messages each, a first-response and about 1.5
  next-response clocks per ticket; the page is ``/reports/`` for the last
  30 days grouped by platform, requested through the test client as a
  signed-in lead (median of ``--runs``).

Targets on SQLite: sweep ≤ 10 s, report page ≤ 1 s.  Prints one JSON object
as its last line.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import make_app

PLATFORMS = ("amazon", "ebay", "walmart", "shopee", "etsy", "email")
CHUNK = 50_000
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
PASSWORD = "bench password 0123"


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(sep=" ", timespec="microseconds")[:26]


def _base(conn: sqlite3.Connection) -> None:
    now = _ts(NOW)
    conn.execute(
        "INSERT INTO customer (id, display_name, notes, created_at, updated_at) VALUES (1, 'Buyer', '', ?, ?)",
        (now, now),
    )
    for i, platform in enumerate(PLATFORMS, start=1):
        conn.execute(
            "INSERT INTO channel_account (id, name, kind, platform, display_name, timezone, settings, secret_refs, "
            "enabled, health, consecutive_failures, created_at) VALUES (?, ?, ?, ?, ?, 'UTC', '{}', '{}', 1, "
            "'unknown', 0, ?)",
            (i, f"store-{platform}", platform, platform, f"Store {platform}", now),
        )
    conn.execute("INSERT INTO team (id, name, created_at) VALUES (1, 'Team A', ?), (2, 'Team B', ?)", (now, now))
    for uid in range(1, 21):
        conn.execute(
            "INSERT INTO user_account (id, email, name, password_hash, role, locale, timezone, active, "
            "failed_logins, created_at) VALUES (?, ?, ?, 'x', ?, 'en', 'UTC', 1, 0, ?)",
            (uid, f"u{uid}@bench.test", f"Agent {uid}", "lead" if uid == 1 else "agent", now),
        )


def _insert(conn: sqlite3.Connection, sql: str, rows: list[tuple]) -> None:
    conn.executemany(sql, rows)
    rows.clear()


TICKET_SQL = (
    "INSERT INTO ticket (id, subject, status, priority, channel_account_id, platform, customer_id, team_id, "
    "assignee_id, message_count, created_at, updated_at, last_message_at, solved_at, sla_due_at, sla_state) "
    "VALUES (?, 'Where is my parcel?', ?, 'normal', ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
CLOCK_SQL = (
    "INSERT INTO sla_clock (ticket_id, channel_account_id, platform, kind, started_at, target_s, warn_share, due_at, "
    "warning_at, status, paused_total_s, breached_at, stopped_at, warned_at, next_check_at, elapsed_s) "
    "VALUES (?, ?, ?, ?, ?, 86400, 0.75, ?, ?, ?, 0, ?, ?, ?, ?, ?)"
)
MESSAGE_SQL = (
    "INSERT INTO message (ticket_id, channel_account_id, external_id, direction, is_internal, author_name, subject, "
    "body_text, meta, sent_at, received_at, delivery_state, delivery_attempts) VALUES (?, ?, ?, ?, 0, 'x', '', "
    "'Hello, where is my parcel?', '{}', ?, ?, 'received', 0)"
)


def build_sweep_db(path: Path, tickets: int, catch_up: bool) -> None:
    """Open tickets with one running clock each; warning and due instants placed around NOW."""
    rng = random.Random(7)
    conn = sqlite3.connect(path)
    _base(conn)
    trows: list[tuple] = []
    crows: list[tuple] = []
    for tid in range(1, tickets + 1):
        account = tid % len(PLATFORMS) + 1
        if catch_up:
            warned = rng.random() < 0.5  # half were warned before the outage and are now overdue
            started = NOW - timedelta(hours=24 + rng.uniform(0.1, 20) if warned else 18 + rng.uniform(0.01, 5.9))
        else:
            r = rng.random()
            if r < 0.01:  # due within the last minute: breach now
                started = NOW - timedelta(hours=24, seconds=rng.uniform(1, 59))
                warned = True
            elif r < 0.02:  # warning within the last minute
                started = NOW - timedelta(hours=18, seconds=rng.uniform(1, 59))
                warned = False
            else:  # not yet at warning, or warned earlier and not yet due
                warned = r < 0.3
                started = NOW - timedelta(hours=rng.uniform(18.1, 23.9) if warned else rng.uniform(0, 17.9))
        due, warning = started + timedelta(hours=24), started + timedelta(hours=18)
        warned_at = warning if warned else None
        next_check = due if warned else warning
        trows.append(
            (
                tid,
                "open",
                account,
                PLATFORMS[account - 1],
                1,
                None,
                1,
                _ts(started),
                _ts(started),
                _ts(started),
                None,
                _ts(due),
                "warning" if warned else "ok",
            )
        )
        crows.append(
            (
                tid,
                account,
                PLATFORMS[account - 1],
                "first_response",
                _ts(started),
                _ts(due),
                _ts(warning),
                "running",
                None,
                None,
                _ts(warned_at),
                _ts(next_check),
                None,
            )
        )
        if len(trows) >= CHUNK:
            _insert(conn, TICKET_SQL, trows)
            _insert(conn, CLOCK_SQL, crows)
    _insert(conn, TICKET_SQL, trows)
    _insert(conn, CLOCK_SQL, crows)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def build_report_db(path: Path, tickets: int, per_ticket: int) -> int:
    """A year of tickets with messages and clocks; returns the number of messages written."""
    rng = random.Random(11)
    conn = sqlite3.connect(path)
    _base(conn)
    trows: list[tuple] = []
    crows: list[tuple] = []
    mrows: list[tuple] = []
    span = 365 * 86400
    messages = 0
    for tid in range(1, tickets + 1):
        account = rng.randrange(len(PLATFORMS)) + 1
        created = NOW - timedelta(seconds=span * tid / tickets)
        is_open = rng.random() < 0.05
        solved = None if is_open else created + timedelta(hours=rng.uniform(1, 96))
        first = timedelta(hours=rng.expovariate(1 / 8))
        late = first > timedelta(hours=24)
        trows.append(
            (
                tid,
                "open" if is_open else "solved",
                account,
                PLATFORMS[account - 1],
                1 + tid % 2,
                1 + tid % 20,
                per_ticket,
                _ts(created),
                _ts(created),
                _ts(created),
                _ts(solved),
                None,
                None,
            )
        )
        crows.append(
            (
                tid,
                account,
                PLATFORMS[account - 1],
                "first_response",
                _ts(created),
                _ts(created + timedelta(hours=24)),
                _ts(created + timedelta(hours=18)),
                "breached" if late else "met",
                _ts(created + timedelta(hours=24, seconds=60)) if late else None,
                _ts(created + first),
                None,
                None,
                first.total_seconds(),
            )
        )
        at = created + first
        for _ in range(rng.choice((1, 1, 2))):
            at += timedelta(hours=rng.uniform(1, 30))
            reply = timedelta(hours=rng.expovariate(1 / 6))
            late = reply > timedelta(hours=24)
            crows.append(
                (
                    tid,
                    account,
                    PLATFORMS[account - 1],
                    "next_response",
                    _ts(at),
                    _ts(at + timedelta(hours=24)),
                    _ts(at + timedelta(hours=18)),
                    "breached" if late else "met",
                    _ts(at + timedelta(hours=24, seconds=60)) if late else None,
                    _ts(at + reply),
                    None,
                    None,
                    reply.total_seconds(),
                )
            )
        for n in range(per_ticket):
            sent = _ts(created + timedelta(minutes=37 * n))
            mrows.append((tid, account, f"m{tid}-{n}", "in" if n % 2 == 0 else "out", sent, sent))
        messages += per_ticket
        if len(trows) >= CHUNK:
            _insert(conn, TICKET_SQL, trows)
            _insert(conn, CLOCK_SQL, crows)
            _insert(conn, MESSAGE_SQL, mrows)
            conn.commit()
    _insert(conn, TICKET_SQL, trows)
    _insert(conn, CLOCK_SQL, crows)
    _insert(conn, MESSAGE_SQL, mrows)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return messages


def measure_sweep(tickets: int, catch_up: bool) -> dict[str, float]:
    path = Path(tempfile.mkdtemp()) / "sweep.db"
    app = make_app(f"sqlite:///{path}")
    from helpdesk.extensions import db

    with app.app_context():
        db.engine.dispose()
    build_sweep_db(path, tickets, catch_up)
    from helpdesk.sla.services import sweep

    breached = warned = 0
    chunks: list[float] = []
    with app.app_context():
        start = time.perf_counter()
        while True:  # what sweep_all does, timing each committed transaction
            t0 = time.perf_counter()
            result = sweep(db.session, NOW)
            db.session.commit()
            chunks.append(time.perf_counter() - t0)
            breached += result.breached
            warned += result.warned
            if not result.more:
                break
        elapsed = time.perf_counter() - start
    return {
        "seconds": round(elapsed, 3),
        "breached": breached,
        "warned": warned,
        "transactions": len(chunks),
        "longest_transaction_s": round(max(chunks), 3),
    }


def measure_report(tickets: int, per_ticket: int, runs: int) -> dict[str, float]:
    path = Path(tempfile.mkdtemp()) / "report.db"
    app = make_app(f"sqlite:///{path}")
    from helpdesk.extensions import db

    with app.app_context():
        db.engine.dispose()
    messages = build_report_db(path, tickets, per_ticket)
    import time_machine

    from helpdesk.accounts.services import create_user

    timings = []
    with time_machine.travel(NOW, tick=True), app.app_context():
        create_user(db.session, "lead@bench.test", "Lead", PASSWORD, role="lead")
        db.session.commit()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        signed_in = client.post(
            "/login", data={"email": "lead@bench.test", "password": PASSWORD, "csrf_token": token.group(1)}
        )
        assert signed_in.status_code == 302
        db.session.remove()
        for _ in range(runs):
            start = time.perf_counter()
            response = client.get("/reports/?group=platform")
            timings.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"report page answered {response.status_code}")
            db.session.remove()
    return {"median_ms": round(statistics.median(timings), 1), "messages": messages, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--messages-per-ticket", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=["sweep", "report"])
    args = parser.parse_args()
    out: dict[str, object] = {"tickets": args.tickets}
    if args.only in (None, "sweep"):
        steady = measure_sweep(args.tickets, catch_up=False)
        print(f"sweep (steady)   {steady['seconds']:8.2f} s  {steady['breached']} breached, {steady['warned']} warned")
        print(
            f"                 in {steady['transactions']} transaction(s), longest {steady['longest_transaction_s']} s"
        )
        catch_up = measure_sweep(args.tickets, catch_up=True)
        print(
            f"sweep (catch-up) {catch_up['seconds']:8.2f} s  {catch_up['breached']} breached, "
            f"{catch_up['warned']} warned"
        )
        print(f"{'':17}in {catch_up['transactions']} transactions, longest {catch_up['longest_transaction_s']} s")
        out["sweep_steady"] = steady
        out["sweep_catch_up"] = catch_up
    if args.only in (None, "report"):
        report = measure_report(args.tickets, args.messages_per_ticket, args.runs)
        print(
            f"report page      {report['median_ms']:8.1f} ms median over {report['runs']} runs "
            f"({args.tickets:,} tickets, {report['messages']:,} messages)"
        )
        out["report"] = report
    print(json.dumps(out))


if __name__ == "__main__":
    main()
