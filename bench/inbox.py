"""Inbox speed: server time of the default inbox view and a ticket page, and live-event delay.

    python bench/inbox.py [--sizes 10000 100000] [--requests 200] [--clients 100] [--events 50]

Part 1, per size on SQLite: a fresh migrated database filled with that many
tickets (one message each, 80 % with an SLA due date, most open), then the
default inbox view (first page, sorted by SLA due, with the sidebar counts)
and a ticket page are requested through the WSGI app in-process, as a lead
(sees everything) and as an agent (three stores).  Server time = wall time
of the WSGI call; median and p95.  Target: median <= 30 ms at 100,000.

Part 2: the real Socket.IO server on a loopback port with ``--clients``
signed-in clients on WebSocket; the pipeline ingests one message at a time
and commits; delay = arrival of ``message.received`` at each client minus
the instant before the commit.  p50 / p99 over every client and event.
Target: p99 <= 100 ms.  Prints a Markdown summary and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import make_app

PASSWORD = "bench-password-123"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def fill(app: Any, tickets: int) -> dict[str, Any]:
    """Accounts, a team, users and ``tickets`` tickets with one message each, bulk-inserted."""
    import sqlalchemy as sa

    from helpdesk.accounts.models import Team
    from helpdesk.accounts.services import create_user
    from helpdesk.customers.models import Customer
    from helpdesk.db import bulk_insert
    from helpdesk.demo.synthetic import add_store_accounts
    from helpdesk.extensions import db
    from helpdesk.tickets.models import Message, Ticket

    rng = random.Random(7)
    now = datetime.now(UTC)
    with app.app_context():
        s = db.session
        accounts = list(add_store_accounts(s).values())
        team = Team(name="Bench")
        s.add(team)
        s.flush()
        s.execute(
            sa.insert(sa.table("team_channel_account", sa.column("team_id"), sa.column("channel_account_id"))),
            [{"team_id": team.id, "channel_account_id": a.id} for a in accounts[:3]],
        )
        lead = create_user(s, "lead@bench.example", "Lead", PASSWORD, role="lead")
        agent = create_user(s, "agent@bench.example", "Agent", PASSWORD, teams=[team])
        s.commit()
        conn = s.connection()
        customers = max(1, tickets // 4)
        bulk_insert(
            conn,
            Customer.__table__,
            [
                {"display_name": f"Buyer {i}", "notes": "", "created_at": now, "updated_at": now}
                for i in range(customers)
            ],
        )
        first_customer = s.scalar(sa.select(sa.func.min(Customer.id)))
        rows, messages = [], []
        for i in range(tickets):
            account = accounts[i % len(accounts)]
            created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 60))
            has_due = rng.random() < 0.8
            status = rng.choices(["new", "open", "pending", "solved", "closed"], [3, 4, 1, 4, 2])[0]
            rows.append(
                {
                    "subject": f"Question {i} about order",
                    "status": status,
                    "priority": "normal",
                    "channel_account_id": account.id,
                    "platform": account.platform,
                    "language": "en",
                    "customer_id": first_customer + i % customers,
                    "assignee_id": agent.id if rng.random() < 0.1 else None,
                    "message_count": 1,
                    "created_at": created,
                    "updated_at": created,
                    "last_message_at": created,
                    "sla_due_at": created + timedelta(hours=24) if has_due else None,
                    "sla_state": rng.choice(["ok", "warning", "breached"]) if has_due else None,
                }
            )
        ids = bulk_insert(conn, Ticket.__table__, rows, return_ids=True)
        for ticket_id, row in zip(ids, rows, strict=True):
            messages.append(
                {
                    "ticket_id": ticket_id,
                    "channel_account_id": row["channel_account_id"],
                    "external_id": f"bench-{ticket_id}",
                    "direction": "in",
                    "is_internal": False,
                    "customer_id": row["customer_id"],
                    "author_name": "Buyer",
                    "subject": row["subject"],
                    "body_text": f"Hello, where is my parcel number {ticket_id}? Thanks",
                    "meta": {},
                    "sent_at": row["created_at"],
                    "received_at": row["created_at"],
                    "delivery_state": "received",
                    "delivery_attempts": 0,
                }
            )
        for start in range(0, len(messages), 5000):
            bulk_insert(conn, Message.__table__, messages[start : start + 5000])
        s.commit()
        s.execute(sa.text("ANALYZE"))  # what a long-lived database has; the planner needs the statistics
        s.commit()
        sample = s.scalar(sa.select(Ticket.id).where(Ticket.channel_account_id == accounts[0].id).limit(1))
        return {"lead": lead.email, "agent": agent.email, "ticket": sample, "accounts": [a.name for a in accounts]}


def login(client: Any, email: str) -> None:
    import re

    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, "bench login failed"


def time_requests(app: Any, email: str, path: str, count: int) -> dict[str, float]:
    client = app.test_client()
    login(client, email)
    for _ in range(5):  # warm caches and compiled templates
        assert client.get(path).status_code == 200
    times = []
    for _ in range(count):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return {"median_ms": round(statistics.median(times), 2), "p95_ms": round(percentile(times, 95), 2)}


def page_times(size: int, count: int) -> dict[str, Any]:
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'inbox.db'}"
    app = make_app(url)
    started = time.perf_counter()
    info = fill(app, size)
    filled = time.perf_counter() - started
    return {
        "tickets": size,
        "fill_s": round(filled, 1),
        "inbox_lead": time_requests(app, info["lead"], "/", count),
        "inbox_agent": time_requests(app, info["agent"], "/", count),
        "ticket_page": time_requests(app, info["agent"], f"/tickets/{info['ticket']}", count),
        "counts_lead": time_requests(app, info["lead"], "/inbox/counts", count),
    }


# --- live events ---------------------------------------------------------------------------------


def _client_process(base: str, email: str, clients: int, reports: Any, ready: Any, stop: Any) -> None:
    """``clients`` signed-in Socket.IO clients in one process; reports each message's arrivals when all have it."""
    import re

    import requests
    import socketio

    arrivals: dict[int, list[float]] = {}
    lock = threading.Lock()
    sockets = []
    for _ in range(clients):
        http = requests.Session()
        http.headers["User-Agent"] = "helpdesk-bench"  # session protection ties the login to the agent string
        token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(f"{base}/login").text).group(1)
        http.post(f"{base}/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
        sio = socketio.Client(http_session=http)

        @sio.on("message.received")
        def _received(data: dict[str, Any]) -> None:
            at = time.perf_counter()  # CLOCK_MONOTONIC: comparable across processes on one machine
            with lock:
                got = arrivals.setdefault(data["message_id"], [])
                got.append(at)
                if len(got) == clients:
                    reports.put((data["message_id"], list(got)))

        sio.connect(base, transports=["websocket"], wait_timeout=10, headers={"User-Agent": "helpdesk-bench"})
        sockets.append(sio)
    ready.put(len(sockets))
    stop.wait()
    for sio in sockets:
        threading.Thread(target=sio.disconnect, daemon=True).start()
    time.sleep(0.5)


def event_delays(clients: int, events: int, processes: int = 4) -> dict[str, Any]:
    import multiprocessing

    import sqlalchemy as sa
    from werkzeug.serving import make_server

    from channels.base import InboundMessage, Party
    from helpdesk.extensions import db
    from helpdesk.ingest.pipeline import ingest
    from helpdesk.tickets.models import Message

    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'live.db'}"
    app = make_app(url)
    info = fill(app, 1000)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()

    # Clients live in other processes, as browsers do, so their parsing does not compete with the server.
    ctx = multiprocessing.get_context("spawn")
    reports, ready, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    share = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    children = [
        ctx.Process(target=_client_process, args=(base, info["lead"], n, reports, ready, stop), daemon=True)
        for n in share
        if n
    ]
    for child in children:
        child.start()
    connected = sum(ready.get(timeout=120) for _ in children)
    assert connected == clients, f"only {connected} of {clients} clients connected"

    delays: list[float] = []
    commits: list[float] = []
    account = info["accounts"][0]
    with app.app_context():
        for n in range(events):
            msg = InboundMessage(
                channel="bench",
                account=account,
                external_id=f"live-{n}",
                sent_at=datetime.now(UTC),
                sender=Party(platform_id=f"live-buyer-{n}"),
                body_text="live message",
                external_thread_id=f"live-{n}",
            )
            ingest(db.session, [msg], source="bench")
            message_id = db.session.scalar(sa.select(Message.id).where(Message.external_id == f"live-{n}"))
            before_commit = time.perf_counter()
            db.session.commit()  # listeners emit right after the commit
            commits.append((time.perf_counter() - before_commit) * 1000)
            for _ in children:
                reported_id, times = reports.get(timeout=5)
                assert reported_id == message_id, "events arrived out of order"
                delays.extend((at - before_commit) * 1000 for at in times)
            time.sleep(0.02)
    stop.set()
    for child in children:
        child.join(10)
    server.shutdown()
    return {
        "clients": clients,
        "events": events,
        "client_processes": len(children),
        "p50_ms": round(percentile(delays, 50), 2),
        "p99_ms": round(percentile(delays, 99), 2),
        "commit_and_emit_p50_ms": round(percentile(commits, 50), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--events", type=int, default=50)
    args = parser.parse_args()
    pages = [page_times(size, args.requests) for size in args.sizes]
    print(
        "| tickets | inbox as lead (median / p95) | inbox as agent (median / p95) | ticket page (median / p95) "
        "| view counts, lead (median / p95) |"
    )
    print("|---:|---:|---:|---:|---:|")
    keys = ("inbox_lead", "inbox_agent", "ticket_page", "counts_lead")
    for r in pages:
        cells = [f"{r[k]['median_ms']} / {r[k]['p95_ms']} ms" for k in keys]
        print(f"| {r['tickets']:,} | " + " | ".join(cells) + " |")
    live = event_delays(args.clients, args.events) if args.clients else None
    if live:
        print(
            f"\nLive events: {live['clients']} clients in {live['client_processes']} processes, "
            f"{live['events']} messages: p50 {live['p50_ms']} ms, p99 {live['p99_ms']} ms "
            f"(commit + emit alone: p50 {live['commit_and_emit_p50_ms']} ms)"
        )
    print(json.dumps({"pages": pages, "live": live}))


if __name__ == "__main__":
    main()
