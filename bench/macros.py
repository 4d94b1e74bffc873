"""Macros: rendering the whole library in every locale, and fuzzy search over a large library.

    python bench/macros.py [--runs 5] [--library 5000] [--queries 300]

**Rendering.** Every shipped macro in every one of its locales against a full
sample ticket (customer, order with lines, tracking, agent, store), through
``macros.engine.render`` (sandbox, Babel formatting for the locale, strict
undefined): renders per second.  The ceiling is a bare Jinja environment
(no sandbox, filters that just ``str()`` their value) rendering the same
bodies in the same run.

**Search.** A library of ``--library`` macros (the shipped ones, repeated
with varied titles and tags), searched with ``helpdesk.macros.services.search``
in an agent's and a buyer's language for ``--queries`` queries (fragments of
titles and tags, with typos): p50 / p95 latency (target p95 ≤ 5 ms).  Prints
one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jinja2 import Environment

from helpdesk.macros.services import search
from macros import engine
from macros.library import shipped

CONTEXT = engine.Context(
    customer=engine.Person("Jonas Weber"),
    agent=engine.Person("Lena Lead"),
    store=engine.StoreContext("Lampworks", "Amazon"),
    ticket=engine.TicketContext(1042, "Where is my order?"),
    order=engine.OrderContext(
        number="028-6614302-5519340",
        currency="EUR",
        total=Decimal("1234.56"),
        status="Shipped",
        items=(engine.OrderLine("Brass desk lamp", 2, Decimal("617.28"), "LAMP-BR-70"),),
        placed_at=datetime(2026, 1, 4, 21, 7, tzinfo=UTC),
        shipped_at=datetime(2026, 1, 5, 14, 0, tzinfo=UTC),
        carrier="DHL",
        tracking_number="JJD000390007813012",
        tracking_url="https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?tracking-id=JJD000390007813012",
    ),
)


def _bare_environment() -> Environment:
    env = Environment(autoescape=False)
    for name in ("date", "datetime", "currency", "number", "percent"):
        env.filters[name] = lambda value, *args: str(value)
    env.globals["plural"] = lambda n, **forms: forms.get("other", "")
    return env


def measure_render(runs: int) -> dict[str, float]:
    pairs = [(locale, body) for macro in shipped().values() for locale, body in macro.bodies.items()]
    for locale, body in pairs:  # compile once, as a running helpdesk has
        engine.render(body, CONTEXT, locale)
    bare = _bare_environment()
    compiled = [bare.from_string(body) for _, body in pairs]
    variables = CONTEXT.variables()
    ours, ceiling = [], []
    for _ in range(runs):
        start = time.perf_counter()
        for locale, body in pairs:
            engine.render(body, CONTEXT, locale)
        ours.append(len(pairs) / (time.perf_counter() - start))
        start = time.perf_counter()
        for template in compiled:
            template.render(variables)
        ceiling.append(len(pairs) / (time.perf_counter() - start))
    rate, bare_rate = statistics.median(ours), statistics.median(ceiling)
    return {
        "bodies": float(len(pairs)),
        "renders_per_s": rate,
        "bare_jinja_per_s": bare_rate,
        "ratio": rate / bare_rate,
    }


def _library(size: int, rng: random.Random) -> list:
    base = list(shipped().values())
    words = ["express", "premium", "eu", "us", "weekend", "holiday", "bulk", "vip", "b2b", "sample"]
    out = []
    for n in range(size):
        macro = base[n % len(base)]
        extra = rng.sample(words, 2)
        titles = {k: f"{v} {extra[0]} {n}" for k, v in macro.titles.items()}
        out.append(replace(macro, key=f"{macro.key}-{n}", titles=titles, tags=(*macro.tags, *extra)))
    return out


def _queries(count: int, rng: random.Random) -> list[str]:
    titles = [m.title("en") for m in shipped().values()] + [t for m in shipped().values() for t in m.tags]
    out = []
    for _ in range(count):
        words = rng.choice(titles).split()
        query = " ".join(words[: rng.randint(1, max(1, len(words)))]).lower()
        if len(query) > 4 and rng.random() < 0.4:  # a typo
            i = rng.randrange(len(query) - 1)
            query = query[:i] + query[i + 1] + query[i] + query[i + 2 :]
        out.append(query)
    return out


def measure_search(size: int, queries: int) -> dict[str, float]:
    rng = random.Random(7)
    macros = _library(size, rng)
    asked = _queries(queries, rng)
    search(macros, asked[0], ["en", "de"])  # warm-up
    times = []
    for query in asked:
        start = time.perf_counter()
        search(macros, query, ["en", "de"], platform="amazon")
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "library": float(size),
        "search_p50_ms": statistics.median(times),
        "search_p95_ms": times[int(len(times) * 0.95)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--library", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    result = measure_render(args.runs) | measure_search(args.library, args.queries)
    print(
        f"render: {result['renders_per_s']:.0f}/s vs bare Jinja {result['bare_jinja_per_s']:.0f}/s "
        f"(ratio {result['ratio']:.3f}) over {result['bodies']:.0f} bodies; search over {args.library} macros: "
        f"p50 {result['search_p50_ms']:.2f} ms, p95 {result['search_p95_ms']:.2f} ms",
        file=sys.stderr,
    )
    print(json.dumps({k: round(v, 4) for k, v in result.items()}))


if __name__ == "__main__":
    main()
