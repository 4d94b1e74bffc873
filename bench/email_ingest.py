"""Email ingestion throughput: raw mail through ``parse_email`` and the full pipeline.

    python bench/email_ingest.py [--scale 1.0] [--runs 3]

The workload is the shared mail corpus (``../shared/corpus/email`` beside the
repository, about a thousand real-world test mails of every shape: relay
mail, bounces, auto-replies, odd charsets, attachments).  ``--scale 1.0``
feeds it twice; every pass gives the mails fresh Message-IDs so the pipeline
stores them rather than skipping duplicates.  Mails go in batches of 200 on
SQLite, as ``helpdesk email import`` sends them.

The ceiling is bare ``email.message_from_bytes`` over the same mails, measured
in the same process right before the pipeline run; ``parse_only_per_s``
(``parse_email`` without the pipeline) shows where the time goes.  Each run is a fresh
process and database; figures are medians.  Prints one JSON object as its
last line.
"""

from __future__ import annotations

import argparse
import email
import json
import sys
import tempfile
import time
from contextlib import suppress
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, make_app, median, peak_rss_mb, run_child

CORPUS = REPO.parent / "shared" / "corpus" / "email"
NOT_MAIL = {"README.md", "README", "LICENSE", ".gitattributes"}
BATCH = 200
ACCOUNT = "bench-mail"


def corpus() -> list[bytes]:
    """The corpus mails, in a stable order."""
    if not CORPUS.is_dir():
        sys.exit(f"the shared mail corpus is missing at {CORPUS}")
    files = sorted(
        p for p in CORPUS.rglob("*") if p.is_file() and p.name not in NOT_MAIL and not p.name.startswith("LICENSE")
    )
    return [p.read_bytes() for p in files]


def workload(scale: float) -> list[bytes]:
    mails = corpus()
    count = max(1, int(len(mails) * 2 * scale))
    return [mails[i % len(mails)] for i in range(count)]


def measure_ceiling(raws: list[bytes]) -> float:
    start = time.perf_counter()
    for raw in raws:
        email.message_from_bytes(raw)
    return len(raws) / (time.perf_counter() - start)


def measure_parse(raws: list[bytes]) -> float:
    """``parse_email`` alone, to show how the cost splits between parsing and the pipeline."""
    from channels.email import MailParseError, parse_email
    from macros.language import detect

    detect("a warm-up, so the language model is loaded")  # once per process, as in a running worker
    start = time.perf_counter()
    for raw in raws:
        with suppress(MailParseError):
            parse_email(raw, account=ACCOUNT)
    return len(raws) / (time.perf_counter() - start)


def measure_pipeline(raws: list[bytes], corpus_size: int) -> dict[str, float]:
    from channels.email import MailParseError, parse_email
    from helpdesk.channelaccounts.models import ChannelAccount
    from helpdesk.extensions import db
    from helpdesk.ingest.pipeline import ingest
    from helpdesk.ingest.quarantine import RawInput
    from macros.language import detect

    detect("a warm-up, so the language model is loaded")  # once per process, as in a running worker
    app = make_app(f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}")
    counts: dict[str, int] = {}
    with app.app_context():
        db.session.add(ChannelAccount(name=ACCOUNT, kind="email", display_name="Bench mailbox"))
        db.session.commit()
        start = time.perf_counter()
        for offset in range(0, len(raws), BATCH):
            batch: list = []
            for index, raw in enumerate(raws[offset : offset + BATCH], start=offset):
                try:
                    msg = parse_email(raw, account=ACCOUNT)
                except MailParseError:
                    batch.append(RawInput(raw, "email", ACCOUNT))
                    continue
                batch.append(replace(msg, external_id=f"{msg.external_id}#{index // corpus_size}"))
            result = ingest(db.session, batch, source="bench:email")
            db.session.commit()
            for outcome in result.outcomes:
                counts[outcome.status] = counts.get(outcome.status, 0) + 1
        elapsed = time.perf_counter() - start
        db.engine.dispose()
    return {"emails_per_s": len(raws) / elapsed, "seconds": elapsed} | {f"n_{k}": float(v) for k, v in counts.items()}


def one_run(scale: float) -> dict[str, float]:
    raws = workload(scale)
    ceiling = measure_ceiling(raws)
    parse_only = measure_parse(raws)
    figures = measure_pipeline(raws, len(corpus()))
    return figures | {
        "ceiling_per_s": ceiling,
        "parse_only_per_s": parse_only,
        "emails": float(len(raws)),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = the corpus twice")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.scale)))
        return
    runs = []
    for run in range(args.runs):
        figures = run_child(Path(__file__), "--one", "--scale", str(args.scale))
        runs.append(figures)
        print(
            f"run {run + 1}/{args.runs}: {figures['emails_per_s']:,.0f} emails/s, "
            f"ceiling {figures['ceiling_per_s']:,.0f}/s, peak {figures['peak_rss_mb']:.0f} MB",
            file=sys.stderr,
        )

    def med(key: str) -> float:
        return round(median([r[key] for r in runs]), 1)

    summary = {
        "emails": int(runs[0]["emails"]),
        "runs": args.runs,
        "emails_per_s": med("emails_per_s"),
        "ceiling_per_s": med("ceiling_per_s"),
        "parse_only_per_s": med("parse_only_per_s"),
        "peak_rss_mb": med("peak_rss_mb"),
        "outcomes": {k[2:]: int(v) for k, v in runs[0].items() if k.startswith("n_")},
    }
    summary["ratio"] = round(summary["emails_per_s"] / summary["ceiling_per_s"], 3)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
