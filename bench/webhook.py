"""Inbound ticket webhook throughput: signed deliveries through the production server.

    apt-get install wrk        # the load generator (Debian's package); not a Python dependency
    python bench/webhook.py [--runs 3] [--duration 10] [--connections 16] [--backends sqlite,postgresql]

Each run, each backend: a fresh database (a SQLite file; a fresh PostgreSQL
database on 127.0.0.1:5432 ``test`` as the other benches use), one webhook
channel account made through the accounts service with a sealed signing
secret, and ``flask --app wsgi helpdesk serve`` — Gunicorn, its gthread
worker, the task consumer in the process, as a small desk runs it — on a
free loopback port.  wrk drives ``POST /api/v1/webhooks/tickets`` for
``--duration`` seconds over ``--connections`` keep-alive connections.  wrk's
Lua cannot compute an HMAC, so every delivery is signed here beforehand
(``bench/webhook.lua`` sends each once): its own external id, thread id and
``Idempotency-Key``, the signing time of the run (inside the five-minute
window).  Accepted tickets are counted in the database afterwards and
divided by wrk's wall time; any answer other than 201 is reported and fails
the run.

The ceiling, in the same run: a bare Flask app with one JSON POST endpoint
that parses the body and answers 201, served by the same Gunicorn settings
(``helpdesk.server.serve``, same thread count), driven by the same wrk
settings with the same requests.  Figures are medians over ``--runs``.
Prints a short table on stderr and one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, fresh_postgres, make_app, median

SECRET_KEY = "bench-secret-key-0123456789"  # the one bench.common.make_app seals the account's secret with
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
KEY_ID = "bench-erp"
PATH = "/api/v1/webhooks/tickets"
LUA = Path(__file__).with_name("webhook.lua")
SERVE_THREADS = 100  # ``helpdesk serve``'s default
BACKENDS = ("sqlite", "postgresql")

_WORDS = (
    "Wo bleibt meine Bestellung? Das Paket ist seit einer Woche unterwegs.",
    "The lamp arrived broken, the glass shade is cracked. Can you send a new one?",
    "Bonjour, je voudrais changer l'adresse de livraison de ma commande.",
    "我的订单什么时候发货？已经等了十天了。",
    "Hola, el producto no coincide con la descripción, quiero devolverlo.",
)


@dataclass(frozen=True)
class Delivery:
    """One signed request as an integration sends it."""

    signature: str
    idempotency_key: str
    body: bytes


def signed_deliveries(secret: str, count: int, *, run: str, now: int | None = None) -> Iterator[Delivery]:
    """``count`` distinct deliveries signed with ``secret`` at ``now``: each a new buyer message on a thread of its own.

    Buyers repeat (a quarter as many as messages), as on a real desk; ``run``
    keeps external ids and keys of several runs on one database apart.
    """
    from channels.webhook.signing import sign

    t = int(time.time()) if now is None else now
    rng = random.Random(run)
    buyers = max(1, count // 4)
    for i in range(count):
        b = rng.randrange(buyers)
        data = {
            "external_id": f"{run}-msg-{i}",
            "thread_id": f"{run}-thread-{i}",
            "buyer": {"email": f"buyer{b}@example.test", "name": f"Buyer {b}", "country": "DE"},
            "subject": f"Order {run}-{i}",
            "body": _WORDS[i % len(_WORDS)],
            "order_number": f"SO-{100000 + i}",
        }
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        yield Delivery(sign(secret, body, t), f"{run}-{i}", body)


def write_requests(path: Path, deliveries: Iterator[Delivery]) -> int:
    """The file ``bench/webhook.lua`` reads: signature, key and body, tab-separated, one delivery a line."""
    n = 0
    with path.open("wb") as out:
        for d in deliveries:
            if b"\n" in d.body or b"\t" in d.body:
                raise ValueError("a body with a newline or a tab does not fit the one-line-each file")
            out.write(f"{d.signature}\t{d.idempotency_key}\t".encode() + d.body + b"\n")
            n += 1
    return n


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server in a child process of its own, up once ``/health`` answers; SIGTERM stops it as systemd would."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=self._out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not answer within 60 s:\n{self.tail()}")
            time.sleep(0.2)

    def tail(self) -> str:
        if not self._out.closed:
            self._out.flush()
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()


def wrk(port: int, requests: Path, count_threads: int, duration: int, connections: int) -> dict[str, Any]:
    """One wrk run; the figures ``bench/webhook.lua`` prints."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    argv = [
        "wrk",
        f"-t{count_threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}{PATH}",
        "--",
        str(requests),
        KEY_ID,
        str(count_threads),
    ]
    done = subprocess.run(argv, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["seconds"] = figures.pop("duration_us") / 1e6
    return figures


def _ceiling_app() -> Any:
    """A bare Flask app: one JSON POST endpoint doing nothing but parse the body, and the health check."""
    from flask import Flask, jsonify, request

    from helpdesk.extensions import db

    app = Flask("ceiling")
    # helpdesk.server.serve disposes the app's engine in the forked worker; an in-memory one that no request uses
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db.init_app(app)

    @app.post(PATH)
    def post() -> Any:
        request.get_json()
        return jsonify(ok=True), 201

    @app.get("/health")
    def health() -> Any:
        return jsonify(status="ok")

    return app


def _serve_ceiling(port: int, threads: int) -> None:
    from helpdesk.server import serve

    serve(_ceiling_app(), "127.0.0.1", port, threads=threads)


def _database(backend: str, work: Path) -> str | None:
    if backend == "sqlite":
        return f"sqlite:///{work / 'bench.db'}"
    return fresh_postgres("helpdesk_bench_webhook")


def _count_tickets(url: str) -> int:
    import sqlalchemy as sa

    from helpdesk.tickets.models import Ticket

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.select(sa.func.count()).select_from(Ticket))
    finally:
        engine.dispose()


def measure(
    target: str, duration: int, connections: int, wrk_threads: int, threads: int, worker: bool, warmup: int
) -> dict[str, Any]:
    """One backend (or the ceiling) in a fresh database, a fresh server and fresh signed deliveries."""
    work = Path(tempfile.mkdtemp(prefix="helpdesk-bench-webhook-"))
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    url = None
    if target == "ceiling":
        argv = [sys.executable, str(Path(__file__)), "--serve-ceiling", str(port), "--threads", str(threads)]
    else:
        url = _database(target, work)
        if url is None:
            return {"skipped": True}
        app = make_app(url)  # migrated
        from helpdesk.channelaccounts.services import AccountInput, create_account
        from helpdesk.extensions import db

        with app.app_context():
            given = AccountInput(
                kind="webhook", name="erp", settings={"key_id": KEY_ID}, secrets={"signing_secret": SIGNING_SECRET}
            )
            create_account(db.session, given)
            db.session.commit()
            db.engine.dispose()
        env |= {
            "HELPDESK_DATABASE_URL": url,
            "HELPDESK_SECRET_KEY": SECRET_KEY,
            "HELPDESK_INSTANCE_PATH": str(work / "instance"),
        }
        argv = [sys.executable, "-m", "flask", "--app", "wsgi", "helpdesk", "serve"]
        argv += ["--host", "127.0.0.1", "--port", str(port), "--threads", str(threads)]
        if not worker:
            argv.append("--no-worker")
    # Enough distinct deliveries that no wrk thread runs out: 3,000 a second is well above any rate measured here.
    per_s = 3000 if target != "ceiling" else 500  # the ceiling's endpoint does not care about repeats
    warm_file, run_file = work / "warmup.txt", work / "requests.txt"
    write_requests(warm_file, signed_deliveries(SIGNING_SECRET, int(per_s * warmup) + 100, run="warm"))
    write_requests(run_file, signed_deliveries(SIGNING_SECRET, int(per_s * duration) + 100, run="run"))
    server = Server(argv, env, port, work / "server.log")
    try:
        if warmup > 0:
            wrk(port, warm_file, wrk_threads, warmup, connections)
        before = _count_tickets(url) if url else 0
        figures = wrk(port, run_file, wrk_threads, duration, connections)
    finally:
        server.stop()
    statuses = {int(k): v for k, v in figures.pop("statuses").items()}
    ok = statuses.get(201, 0)
    if url is not None:
        figures["tickets"] = _count_tickets(url) - before
        figures["tickets_per_s"] = figures["tickets"] / figures["seconds"]
        if target == "postgresql":
            fresh_postgres("helpdesk_bench_webhook")  # drop what this run wrote
    figures["req_per_s"] = figures["requests"] / figures["seconds"]
    figures["non_201"] = sum(n for s, n in statuses.items() if s != 201)
    figures["statuses"] = statuses
    if figures["wrapped"] and target != "ceiling":
        raise RuntimeError(f"wrk ran out of distinct deliveries ({figures}); raise per_s in measure()")
    if figures["non_201"] or figures["socket_errors"] or figures["timeouts"]:
        print(
            f"  {target}: answers {statuses}, socket errors {figures['socket_errors']}, "
            f"timeouts {figures['timeouts']}; server log:\n{server.tail()}",
            file=sys.stderr,
        )
    figures["accepted_201"] = ok
    shutil.rmtree(work, ignore_errors=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per measurement")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before each measurement")
    parser.add_argument("--connections", type=int, default=16, help="wrk's open connections")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk's threads (two cores are shared with it)")
    parser.add_argument("--threads", type=int, default=SERVE_THREADS, help="Gunicorn threads, for both servers")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated: sqlite, postgresql")
    parser.add_argument("--no-worker", action="store_true", help="serve --no-worker: no task consumer in the server")
    parser.add_argument("--serve-ceiling", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_ceiling:
        _serve_ceiling(args.serve_ceiling, args.threads)
        return
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        parser.error(f"--backends: unknown {', '.join(sorted(unknown))}")

    results: dict[str, list[dict[str, Any]]] = {name: [] for name in ("ceiling", *backends)}
    for run in range(args.runs):
        for name, figures_of in results.items():
            figures = measure(
                name, args.duration, args.connections, args.wrk_threads, args.threads, not args.no_worker, args.warmup
            )
            if figures.get("skipped"):
                print(f"run {run + 1}/{args.runs} {name:10} skipped: no PostgreSQL server", file=sys.stderr)
                continue
            figures_of.append(figures)
            rate = figures.get("tickets_per_s", figures["req_per_s"])
            print(
                f"run {run + 1}/{args.runs} {name:10} {rate:>8,.0f}/s  p50 {figures['p50_us'] / 1000:.1f} ms  "
                f"p99 {figures['p99_us'] / 1000:.1f} ms  non-201 {figures['non_201']}",
                file=sys.stderr,
            )

    def med(name: str, key: str) -> float | None:
        values = [r[key] for r in results.get(name, []) if key in r]
        return round(median(values), 1) if values else None

    ceiling = med("ceiling", "req_per_s")
    summary: dict[str, Any] = {
        "runs": args.runs,
        "duration_s": args.duration,
        "connections": args.connections,
        "threads": args.threads,
        "worker_in_process": not args.no_worker,
        "ceiling_req_per_s": ceiling,
        "ceiling_p50_ms": _ms(med("ceiling", "p50_us")),
        "ceiling_p99_ms": _ms(med("ceiling", "p99_us")),
    }
    rows = [("ceiling (bare Flask)", ceiling, ceiling, summary["ceiling_p50_ms"], summary["ceiling_p99_ms"])]
    for name in backends:
        rate = med(name, "tickets_per_s")
        summary[f"{name}_tickets_per_s"] = rate
        summary[f"{name}_ratio"] = round(rate / ceiling, 3) if rate and ceiling else None
        summary[f"{name}_p50_ms"] = _ms(med(name, "p50_us"))
        summary[f"{name}_p99_ms"] = _ms(med(name, "p99_us"))
        summary[f"{name}_non_201"] = sum(r["non_201"] for r in results[name])
        rows.append((name, rate, ceiling, summary[f"{name}_p50_ms"], summary[f"{name}_p99_ms"]))
    print(
        f"\n{'backend':20} {'tickets/s':>10} {'ceiling req/s':>14} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7}",
        file=sys.stderr,
    )
    for name, rate, ceil, p50, p99 in rows:
        ratio = f"{rate / ceil:.3f}" if rate and ceil else "-"
        print(f"{name:20} {_f(rate):>10} {_f(ceil):>14} {ratio:>6} {_f(p50, 1):>7} {_f(p99, 1):>7}", file=sys.stderr)
    print(json.dumps(summary))


def _ms(us: float | None) -> float | None:
    return None if us is None else round(us / 1000, 1)


def _f(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


if __name__ == "__main__":
    main()
