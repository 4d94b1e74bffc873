"""The fuzzer's parts: routes from ``app.url_map``, hostile values, the parameters each view reads, the checks.

Routes are walked from the URL map, so a route added tomorrow is fuzzed
tomorrow.  Which query and form parameters a view reads is found out, not
listed: the app's request class is swapped for one whose parameter
dictionaries note every name a view asks for (``request.args.get("team")``),
and a first request to each route with valid values collects them.  A
registry of names every filter bar uses, and random names, come on top.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from flask import Request
from hypothesis import strategies as st
from werkzeug.datastructures import ImmutableMultiDict

# --- hostile values --------------------------------------------------------------------------------

#: Numbers past every integer type the app or its databases have, digits Python reads but SQL does not,
#: and what is not a number at all.
HOSTILE_INTS = (
    "0",
    "-1",
    "007",
    "2147483647",
    "2147483648",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",  # 2**63
    "18446744073709551617",  # 2**64 + 1
    "1" + "0" * 40,
    "²",
    "¹²",
    "١٢",  # Arabic-Indic digits: str.isdigit() and int() accept them
    "１２",  # full-width
    "1e3",
    "1.5",
    " 1",
    "+1",
    "0x1f",
    "1\x00",
    "NaN",
    "-0",
)
#: Days no database or ``datetime`` arithmetic around them can hold, and dates that are no dates.
HOSTILE_DATES = (
    "0001-01-01",
    "9999-12-31",
    "0000-00-00",
    "2026-02-30",
    "2026-13-01",
    "99999-01-01",
    "2026-1-1",
    "20260101",
    "2026-W01-1",
    "²⁰²⁶-01-01",
    "2026-01-01T25:00",
    "2026-01-01T00:00+99:00",
    "-2026-01-01",
)
#: Text that breaks parsers, templates, headers and queries, and the 60 KB search of the issue.
HOSTILE_TEXT = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "Ünïcødé 🙂 中文 עברית",
    "\u202e\u0301\ufeff",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    '"',
    "%",
    "%00",
    "*",
    "\\",
    "../../etc/passwd",
    "\r\nSet-Cookie: x=1",
    "a" * 60_000,
    "a " * 30_000,
)


#: Every name a view reads gets each of these once, whatever the Hypothesis examples draw.
SWEEP = (
    "²",
    "١٢",
    "-1",
    "2147483648",
    "9223372036854775808",
    "18446744073709551617",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "\x00",
    "Ünïcødé 🙂",
    "a" * 60_000,
)
#: Forms get the same but the 60 KB string: form fields are capped by the request size, and a 60 KB macro or
#: reply is a legitimate (slow to check) request, not an attack on parsing.
SWEEP_FORM = SWEEP[:-1]
#: Every id in a path gets each of these once: past each integer type, and digits that are no ASCII digits.
SWEEP_IDS = ("0", "2147483648", "9223372036854775808", "18446744073709551617", "²", "١٢", "１２")


def tampered_cursors(valid: str) -> tuple[str, ...]:
    """A real cursor changed the ways a person editing the address bar would change it."""
    kind, at, ticket_id = valid.split("~")
    return (
        valid[:-1],
        valid + "~",
        valid.replace("~", ""),
        f"{kind}~{at}~9223372036854775808",
        f"{kind}~{at}~18446744073709551617",
        f"{kind}~{at}~²",
        f"{kind}~{at}~-1",
        f"{kind}~0001-01-01T00:00:00+05:00~{ticket_id}",
        f"{kind}~9999-12-31T23:59:59-05:00~{ticket_id}",
        f"{kind}~0001-01-01~{ticket_id}",
        f"x~{at}~{ticket_id}",
        f"c~~{ticket_id}",
        f"n~{at}~{ticket_id}",
        "~~",
        "Zm9vYmFy",
    )


#: Query names the app's filter bars, lists and pages use: every one is sent to every GET route.
QUERY_NAMES = (
    "q",
    "view",
    "account",
    "store",
    "assignee",
    "agent",
    "team",
    "status",
    "priority",
    "platform",
    "language",
    "tag",
    "sort",
    "group",
    "key",
    "after",
    "before",
    "page",
    "p",
    "cursor",
    "from",
    "to",
    "into",
    "locale",
    "unread",
    "action",
    "actor",
    "user",
    "next",
    "limit",
    "per_page",
)

_ARG = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


@dataclass(frozen=True)
class Route:
    """One rule and method of the URL map, with its path arguments (name, converter, converter arguments)."""

    rule: str
    endpoint: str
    method: str
    args: tuple[tuple[str, str, str], ...]

    @property
    def is_api(self) -> bool:
        return self.rule.startswith("/api/")

    def url(self, values: dict[str, str], query: dict[str, str] | None = None) -> str:
        """The address with ``values`` in the path (percent-encoded) and ``query`` as its query string."""

        def fill(match: re.Match[str]) -> str:
            return quote(values[match.group(3)], safe="/" if match.group(1) == "path" else "")

        path = _ARG.sub(fill, self.rule)
        return f"{path}?{urlencode(query)}" if query else path


def routes(app: Any, methods: tuple[str, ...]) -> list[Route]:
    """Every (rule, method) of the app's URL map with one of ``methods``, in a stable order."""
    found = []
    for rule in app.url_map.iter_rules():
        args = tuple((m.group(3), m.group(1) or "default", m.group(2) or "") for m in _ARG.finditer(rule.rule))
        found.extend(Route(rule.rule, rule.endpoint, m, args) for m in sorted((rule.methods or set()) & set(methods)))
    return sorted(found, key=lambda r: (r.rule, r.method))


# --- which parameters a view reads -----------------------------------------------------------------

#: The names asked for since the last ``reading()``; the recording dictionaries append to it.
_READ: list[str] = []


class RecordingMultiDict(ImmutableMultiDict):  # type: ignore[type-arg]
    """Query and form parameters that note each name a view asks for."""

    def __getitem__(self, key: Any) -> Any:
        _READ.append(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:
        _READ.append(key)
        return super().get(key, default, type)

    def getlist(self, key: Any, type: Any = None) -> Any:
        _READ.append(key)
        return super().getlist(key, type)

    def __contains__(self, key: Any) -> bool:
        _READ.append(key)
        return super().__contains__(key)


class RecordingRequest(Request):
    parameter_storage_class = RecordingMultiDict


@contextmanager
def reading() -> Iterator[list[str]]:
    """The parameter names read by the requests made inside the block."""
    _READ.clear()
    names: list[str] = []
    yield names
    names.extend(dict.fromkeys(n for n in _READ if isinstance(n, str)))


# --- strategies ------------------------------------------------------------------------------------

_NAME_CHARS = string.ascii_lowercase + "_"


def int_values(known: list[int]) -> st.SearchStrategy[str]:
    """An id in a path or query: an existing row's, a hostile number, or any integer."""
    parts = [st.sampled_from(HOSTILE_INTS), st.integers(-(2**70), 2**70).map(str)]
    if known:
        parts.insert(0, st.sampled_from(known).map(str))
    return st.one_of(*parts)


def text_values(known: tuple[str, ...] = ()) -> st.SearchStrategy[str]:
    """Any value: known good ones, hostile text, numbers and dates, or random unicode."""
    parts = [
        st.sampled_from(HOSTILE_TEXT),
        st.sampled_from(HOSTILE_INTS),
        st.sampled_from(HOSTILE_DATES),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=24),
    ]
    if known:
        parts.insert(0, st.sampled_from(known))
    return st.one_of(*parts)


@dataclass
class Vocabulary:
    """What the fuzzer knows of the desk: ids by path-argument name, good values by parameter name."""

    ids: dict[str, list[int]]
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def path_value(self, name: str, converter: str, converter_args: str) -> st.SearchStrategy[str]:
        if converter == "int":
            return int_values(self.ids.get(name, []))
        if converter == "any":
            choices = tuple(c.strip().strip("'\"") for c in converter_args.split(","))
            return st.one_of(st.sampled_from(choices), text_values())
        known = self.values.get(name, ())
        values = text_values(known).filter(bool)  # an empty segment is a different address, not a value
        if converter == "path":
            return st.one_of(values, st.sampled_from(("x/y", "../app.py", "..%2f..%2fetc/passwd", "a/../../b")))
        return values

    def plausible(self, name: str) -> str:
        """A good value for a form field: a known one, an id for an ``…_id``, else a word."""
        known = self.values.get(name)
        if known:
            return known[0]
        if name.endswith("_id") and self.ids.get(name):
            return str(self.ids[name][0])
        return "Zed"

    def query_value(self, name: str) -> st.SearchStrategy[str]:
        known = self.values.get(name, ())
        ids = [str(i) for group in self.ids.values() for i in group][:40]
        return st.one_of(text_values(known), int_values([]), st.sampled_from(ids or ["1"]))

    def parameters(self, names: list[str], *, registry: tuple[str, ...] = QUERY_NAMES) -> st.SearchStrategy[Any]:
        """A dictionary of parameters: mostly the names the view reads, some registry names, a random one."""
        pool = list(dict.fromkeys([*names, *registry]))
        key = st.one_of(
            *([st.sampled_from(names)] * 3 if names else []),
            st.sampled_from(pool),
            st.text(_NAME_CHARS, min_size=1, max_size=6),
        )
        return st.dictionaries(key, st.just(""), max_size=5).flatmap(
            lambda keys: st.fixed_dictionaries({k: self.query_value(k) for k in keys})
        )


# --- checks ----------------------------------------------------------------------------------------


@dataclass
class Failures:
    """What went wrong, one line per (route, kind of failure): the first example of each is kept."""

    lines: dict[tuple[str, str], str] = field(default_factory=dict)
    requests: int = 0

    def add(self, route: Route, kind: str, detail: str, where: str = "") -> None:
        """Note a failure; ``where`` (the one parameter sent) keeps one line per parameter that fails."""
        self.lines.setdefault(
            (f"{route.method} {route.rule}", kind, where), f"{route.method} {route.rule}: {kind}: {detail}"
        )

    def report(self) -> str:
        return "\n".join(sorted(self.lines.values()))


def short(url: str, limit: int = 300) -> str:
    return url if len(url) <= limit else f"{url[:limit]}…({len(url)} chars)"


def check_response(
    route: Route,
    url: str,
    response: Any,
    forbidden: tuple[str, ...],
    failures: Failures,
    *,
    page_marker: str,
    where: str = "",
) -> None:
    """No 5xx; no marker of what the caller may not see; an error is the app's own page or JSON error."""
    status = response.status_code
    if status >= 500:
        failures.add(route, f"status {status}", short(url), where)
        return
    body = response.get_data(as_text=True)
    seen = body + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    for marker in forbidden:
        if marker in seen:
            failures.add(route, f"leaks {marker!r}", short(url), where)
    if status in (400, 404) and response.mimetype != "application/json" and page_marker not in body:
        failures.add(route, f"{status} outside the app's layout", short(url), where)


def call(client: Any, method: str, url: str, **kwargs: Any) -> tuple[Any, str | None]:
    """The response, or the exception a view raised (tests propagate them instead of answering 500)."""
    try:
        return client.open(url, method=method, **kwargs), None
    except Exception as exc:
        return None, f"{type(exc).__name__}: {str(exc)[:200]}"


Check = Callable[[Route, str, Any], None]
