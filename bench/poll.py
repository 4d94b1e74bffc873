"""Polling: one cycle over the fakes, and how soon pushed and pulled data reaches the inbox.

    python bench/poll.py [--messages 10000] [--orders 10000] [--runs 3] [--pushes 200] [--pull-samples 3]

**Cycle.** eBay, Amazon SP-API and Shopify fakes run in a process of their
own (``bench/fake_platforms.py``; on two cores, beside the measured one)
holding ``--messages`` pending eBay messages and ``--orders`` orders split
over the three.  One poll cycle reads every account until nothing waits, on
SQLite, through the real poller, reading ahead as ``--reader`` says
(``HELPDESK_POLL_READER``: a forked reader process by default).  Time is
split into HTTP (wall time with a request in flight), mapping (the rest of
the connectors' ``fetch``) and storing (``store_page``: orders, customers,
the ingestion pipeline); HTTP and mapping are seen only in the measured
process, so with ``--reader process`` they cover the first page of each
account alone.  With ``--reader thread`` the next page is fetched while one
is stored, so the parts add up to more than the cycle by
``read_ahead_saved_s``.
The ceiling is the pipeline's own rate for the very same records, stored
again into a fresh database in the same run without any HTTP; the cycle's
rate is reported as a ratio to it (target ≥ 0.5).

**Push freshness.** A real server (the app in a WSGI server thread, the task
consumer in threads, as ``serve`` runs them): a new eBay buyer message, then
eBay's signed notification to ``/hooks/ebay``; the time until the message is
stored, over ``--pushes`` notifications (target p99 ≤ 5 s).

**Pull freshness.** A mailbox without IDLE at the default interval, polled by
the consumer's own minutely schedule: the time from a mail's arrival to its
ticket, over ``--pull-samples`` mails arriving at random moments
(target ≤ 60 s).  Prints one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, make_app, median, run_child


def _sqlite_app(**env: str) -> Any:
    return make_app(f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}", **env)


def _accounts(session: Any, specs: dict[str, dict[str, Any]]) -> dict[str, int]:
    from helpdesk.channelaccounts.services import AccountInput, create_account

    ids = {}
    for name, spec in specs.items():
        given = AccountInput(kind=spec["kind"], name=name, settings=spec["settings"], secrets=spec["secrets"])
        ids[name] = create_account(session, given).id
    session.commit()
    return ids


class _Clock:
    """Wall time during which at least one call of a label was running (calls on several threads overlap)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self._running: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def _enter(self, label: str) -> None:
        with self._lock:
            count, since = self._running.get(label, (0, 0.0))
            self._running[label] = (count + 1, time.perf_counter() if count == 0 else since)

    def _leave(self, label: str) -> None:
        with self._lock:
            count, since = self._running[label]
            if count == 1:
                self.spent[label] = self.spent.get(label, 0.0) + time.perf_counter() - since
            self._running[label] = (count - 1, since)

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            self._enter(label)
            try:
                return original(*args, **kwargs)
            finally:
                self._leave(label)

        setattr(owner, name, timed)


def measure_cycle(messages: int, orders: int, workers: int, reader: str = "process") -> dict[str, float]:
    from channels import registry
    from channels.http import HttpClient
    from helpdesk.extensions import db
    from helpdesk.polling import services as polling

    platforms = subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "fake_platforms.py"), str(messages), str(orders)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert platforms.stdout is not None
    assert platforms.stdin is not None
    specs = json.loads(platforms.stdout.readline())
    pages: list[tuple[str, Any]] = []
    clock = _Clock()
    clock.wrap(HttpClient, "request", "http")
    for kind in registry.kinds():
        clock.wrap(registry.get(kind), "fetch", "fetch")
    store = polling.store_page

    def keep(session: Any, account: Any, page: Any, **kw: Any) -> Any:
        pages.append((account.name, page))
        return store(session, account, page, **kw)

    polling.store_page = keep  # type: ignore[assignment]
    clock.wrap(polling, "store_page", "store")
    app = _sqlite_app(HELPDESK_POLL_READER=reader)
    with app.app_context():
        ids = _accounts(db.session, specs)
        per_account: dict[str, float] = {}

        def poll(name: str, account_id: int) -> None:
            with app.app_context():  # a worker thread of the task consumer has its own session
                began = time.perf_counter()
                report = polling.poll_account(db.session, account_id, max_pages=1000)
                assert report.error is None, report.error
                per_account[f"{name}_s"] = time.perf_counter() - began
                db.session.remove()

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for done in [pool.submit(poll, name, account_id) for name, account_id in ids.items()]:
                done.result()
        total = time.perf_counter() - start
        stored = _count(db.engine, "message") + _count(db.engine, "order_record")
    assert stored >= messages + orders, f"the cycle stored {stored} records, not {messages + orders}"
    platforms.stdin.close()
    platforms.wait(timeout=30)
    polling.store_page = store  # type: ignore[assignment]
    pipeline = _pipeline_rate(specs, pages)
    http, fetch, storing = (clock.spent.get(k, 0.0) for k in ("http", "fetch", "store"))
    rate = stored / total
    return {
        "records": float(stored),
        "cycle_s": total,
        "fetch_s": fetch,  # inside connectors' fetch: HTTP and mapping
        "http_s": http,  # at least one request in flight
        "mapping_s": fetch - http,
        "store_s": storing,  # store_page: orders, customers, the ingestion pipeline
        "read_ahead_saved_s": fetch + storing - total,  # fetching the next page while this one was stored
        "cycle_rate": rate,
        "pipeline_rate": pipeline,
        "ratio": rate / pipeline,
        **per_account,
    }


def _pipeline_rate(specs: dict[str, dict[str, Any]], pages: list[tuple[str, Any]]) -> float:
    """The same records through store_page into a fresh database: no HTTP, no mapping."""
    from helpdesk.channelaccounts.models import ChannelAccount
    from helpdesk.extensions import db
    from helpdesk.polling.services import store_page

    app = _sqlite_app()
    with app.app_context():
        _accounts(db.session, specs)
        accounts = {a.name: a for a in db.session.query(ChannelAccount)}
        start = time.perf_counter()
        for name, page in pages:
            store_page(db.session, accounts[name], page, source="bench")
            db.session.commit()
        elapsed = time.perf_counter() - start
        return (_count(db.engine, "message") + _count(db.engine, "order_record")) / elapsed


# --- freshness ---------------------------------------------------------------------------------------


def _serve(app: Any) -> tuple[Any, str]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def _count(engine: Any, table: str) -> int:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def _wait_for(engine: Any, table: str, above: int, timeout: float) -> float | None:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if _count(engine, table) > above:
            return time.perf_counter() - start
        time.sleep(0.005)
    return None


def measure_push(pushes: int) -> dict[str, float]:
    from channels.ebay.fake import FakeEbay
    from helpdesk.extensions import db
    from helpdesk.polling.services import poll_account
    from helpdesk.tasks import start_consumer

    fake = FakeEbay().start()
    app = _sqlite_app()
    settings, secrets = fake.account_settings()
    with app.app_context():
        (account_id,) = _accounts(db.session, {"ebay-uk": {"kind": "ebay", "settings": settings, "secrets": secrets}})
        poll_account(db.session, account_id)
        engine = db.engine
    server, url = _serve(app)
    consumer = start_consumer()
    latencies = []
    try:
        for _ in range(pushes):
            before = _count(engine, "message")
            with fake.lock:
                fake.seed(messages=1)
            start = time.perf_counter()
            fake.push_to(f"{url}/hooks/ebay")
            seen = _wait_for(engine, "message", before, 30.0)
            latencies.append(time.perf_counter() - start if seen is not None else 30.0)
    finally:
        consumer.stop(graceful=True)
        server.shutdown()
        fake.stop()
    latencies.sort()
    return {
        "push_p50_s": median(latencies),
        "push_p99_s": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "push_max_s": latencies[-1],
    }


def measure_pull(samples: int, seed: int = 5) -> dict[str, float]:
    from channels.email.fake import EmailFake
    from helpdesk.extensions import db
    from helpdesk.polling.services import poll_account
    from helpdesk.tasks import start_consumer

    fake = EmailFake().start()
    app = _sqlite_app()
    settings, secrets = fake.account_settings()
    settings["idle"] = False  # pull only: the minutely schedule must find it
    with app.app_context():
        (account_id,) = _accounts(db.session, {"mailbox": {"kind": "email", "settings": settings, "secrets": secrets}})
        poll_account(db.session, account_id)
        engine = db.engine
    consumer = start_consumer()
    rng = random.Random(seed)
    waits = []
    try:
        for _ in range(samples):
            time.sleep(rng.uniform(0, 60))
            before = _count(engine, "message")
            fake.seed(messages=1)
            waited = _wait_for(engine, "message", before, 180.0)
            waits.append(waited if waited is not None else 180.0)
    finally:
        consumer.stop(graceful=True)
        fake.stop()
    return {"pull_mean_s": sum(waits) / len(waits), "pull_max_s": max(waits)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="Accounts polled at once.")
    parser.add_argument(
        "--reader",
        choices=["process", "thread", "inline"],
        default="process",
        help="Where pages are read ahead (HELPDESK_POLL_READER): another process, a thread, or not at all.",
    )
    parser.add_argument("--pushes", type=int, default=200)
    parser.add_argument("--pull-samples", type=int, default=3)
    parser.add_argument("--child", choices=["cycle", "push", "pull"])
    args = parser.parse_args()
    if args.child == "cycle":
        print(json.dumps(measure_cycle(args.messages, args.orders, args.workers, args.reader)))
        return
    if args.child == "push":
        print(json.dumps(measure_push(args.pushes)))
        return
    if args.child == "pull":
        print(json.dumps(measure_pull(args.pull_samples)))
        return
    script = Path(__file__)
    runs = [
        run_child(
            script,
            "--child",
            "cycle",
            "--messages",
            str(args.messages),
            "--orders",
            str(args.orders),
            "--workers",
            str(args.workers),
            "--reader",
            args.reader,
        )
        for _ in range(args.runs)
    ]
    for n, run in enumerate(runs, start=1):
        print(f"cycle run {n}: " + ", ".join(f"{k}={v:.3f}" for k, v in run.items()), file=sys.stderr)
    result: dict[str, float] = {key: median([r[key] for r in runs]) for key in runs[0]}
    if args.pushes:
        result |= run_child(script, "--child", "push", "--pushes", str(args.pushes))
    if args.pull_samples:
        result |= run_child(script, "--child", "pull", "--pull-samples", str(args.pull_samples))
    print(json.dumps({k: round(v, 4) for k, v in result.items()}))


if __name__ == "__main__":
    main()
