"""Every customer, order, ticket and message as JSON lines, for other tools (a data warehouse, a move, an audit).

One JSON object per line and every object carries its ``kind``, so the
same records can go to one file per kind (a folder) or to one file, and a
reader can split or join them without knowing which.  Records come in the
order customer, order, ticket, message, so every id a record names was
written before it.

Rows are read a chunk at a time by id (keyset), never a whole table.
Timestamps are ISO 8601 in UTC (``2026-01-05T09:00:00Z``), money is a
decimal string (``"59.90"``) so no float rounds it.  Attachments are
referenced, not embedded: their SHA-256 and, for blobs kept on disk, the
path under the instance folder; small blobs live in the database and have
no path (a backup has their bytes).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Team, User
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.customers.models import Customer, CustomerIdentity
from helpdesk.db import UTCDateTime, any_of
from helpdesk.orders.models import Order, OrderLine
from helpdesk.tickets.models import Attachment, AttachmentBlob, Message, Ticket, TicketTag

CHUNK = 1000
# One encoder for every line: json.dumps with options builds a new encoder per call.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
KINDS = ("customer", "order", "ticket", "message")
FILE_NAMES = {kind: f"{kind}s.jsonl" for kind in KINDS}


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class _Shape:
    """Turns a table's rows into JSON-ready dicts; which columns need converting is worked out once per table.

    A desk of a million messages has tens of millions of values: asking each
    one its type would cost more than reading it.
    """

    def __init__(self, table: sa.Table, skip: Sequence[str] = ()) -> None:
        self.names = [column.name for column in table.columns]
        self.skip = tuple(skip)
        self.convert: list[tuple[str, Callable[[Any], Any]]] = []
        for column in table.columns:
            if column.name in self.skip:
                continue
            if isinstance(column.type, UTCDateTime):
                self.convert.append((column.name, iso))
            elif isinstance(column.type, sa.Numeric):
                self.convert.append((column.name, str))

    def __call__(self, row: sa.Row[Any]) -> dict[str, Any]:
        record = dict(zip(self.names, row, strict=True))
        for name in self.skip:
            del record[name]
        for name, convert in self.convert:
            value = record[name]
            if value is not None:
                record[name] = convert(value)
        return record


def _chunks(session: Session, table: sa.Table) -> Iterator[list[sa.Row[Any]]]:
    """The rows of ``table`` by ascending id, ``CHUNK`` at a time."""
    last = 0
    while True:
        rows = session.execute(sa.select(table).where(table.c.id > last).order_by(table.c.id).limit(CHUNK)).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def _grouped(session: Session, stmt: sa.Select[Any], key: str) -> dict[Any, list[sa.Row[Any]]]:
    grouped: dict[Any, list[sa.Row[Any]]] = {}
    for row in session.execute(stmt):
        grouped.setdefault(row._mapping[key], []).append(row)
    return grouped


@dataclass
class _Names:
    """Channel accounts, users and teams by id: small tables, read once, so records name them."""

    accounts: dict[int, str]
    users: dict[int, str]
    teams: dict[int, str]

    @classmethod
    def load(cls, session: Session) -> _Names:
        return cls(
            accounts=dict(session.execute(sa.select(ChannelAccount.id, ChannelAccount.name)).all()),
            users=dict(session.execute(sa.select(User.id, User.email)).all()),
            teams=dict(session.execute(sa.select(Team.id, Team.name)).all()),
        )


def _customers(session: Session, names: _Names) -> Iterator[dict[str, Any]]:
    identity = CustomerIdentity.__table__
    customer_shape, identity_shape = _Shape(Customer.__table__), _Shape(identity, skip=("customer_id",))
    for rows in _chunks(session, Customer.__table__):
        ids = [row.id for row in rows]
        dialect = session.get_bind().dialect.name
        stmt = sa.select(identity).where(any_of(identity.c.customer_id, ids, dialect)).order_by(identity.c.id)
        identities = _grouped(session, stmt, "customer_id")
        for row in rows:
            record = {"kind": "customer", **customer_shape(row)}
            record["identities"] = [identity_shape(i) for i in identities.get(row.id, [])]
            yield record


def _orders(session: Session, names: _Names) -> Iterator[dict[str, Any]]:
    line = OrderLine.__table__
    order_shape, line_shape = _Shape(Order.__table__), _Shape(line, skip=("order_id",))
    for rows in _chunks(session, Order.__table__):
        dialect = session.get_bind().dialect.name
        stmt = sa.select(line).where(any_of(line.c.order_id, [r.id for r in rows], dialect)).order_by(line.c.id)
        lines = _grouped(session, stmt, "order_id")
        for row in rows:
            record = {"kind": "order", **order_shape(row)}
            record["channel_account"] = names.accounts.get(row.channel_account_id)
            record["lines"] = [line_shape(item) for item in lines.get(row.id, [])]
            yield record


def _tickets(session: Session, names: _Names) -> Iterator[dict[str, Any]]:
    tag = TicketTag.__table__
    ticket_shape = _Shape(Ticket.__table__)
    for rows in _chunks(session, Ticket.__table__):
        dialect = session.get_bind().dialect.name
        stmt = sa.select(tag).where(any_of(tag.c.ticket_id, [r.id for r in rows], dialect)).order_by(tag.c.tag)
        tags = _grouped(session, stmt, "ticket_id")
        for row in rows:
            record = {"kind": "ticket", **ticket_shape(row)}
            record["channel_account"] = names.accounts.get(row.channel_account_id)
            record["assignee"] = names.users.get(row.assignee_id) if row.assignee_id else None
            record["team"] = names.teams.get(row.team_id) if row.team_id else None
            record["tags"] = [t.tag for t in tags.get(row.id, [])]
            yield record


def _ref(sha: str, on_disk: set[str]) -> dict[str, Any]:
    """An attachment by content hash, with its path under the instance folder when it is a file there."""
    path = f"attachments/{sha[:2]}/{sha[2:4]}/{sha}" if sha in on_disk else None
    return {"sha256": sha, "path": path}


def _messages(session: Session, names: _Names) -> Iterator[dict[str, Any]]:
    attachment = Attachment.__table__
    blob = AttachmentBlob.__table__
    message_shape = _Shape(Message.__table__, skip=("original_sha256",))
    attachment_shape = _Shape(attachment, skip=("message_id", "sha256"))
    for rows in _chunks(session, Message.__table__):
        dialect = session.get_bind().dialect.name
        stmt = sa.select(attachment).where(any_of(attachment.c.message_id, [r.id for r in rows], dialect))
        attachments = _grouped(session, stmt.order_by(attachment.c.id), "message_id")
        shas = {a.sha256 for group in attachments.values() for a in group}
        shas.update(r.original_sha256 for r in rows if r.original_sha256)
        on_disk = set(
            session.scalars(sa.select(blob.c.sha256).where(any_of(blob.c.sha256, shas, dialect), blob.c.data.is_(None)))
        )

        for row in rows:
            record = {"kind": "message", **message_shape(row)}
            record["channel_account"] = names.accounts.get(row.channel_account_id)
            record["author_user"] = names.users.get(row.author_user_id) if row.author_user_id else None
            record["original"] = _ref(row.original_sha256, on_disk) if row.original_sha256 else None
            record["attachments"] = [
                {**attachment_shape(a), **_ref(a.sha256, on_disk)} for a in attachments.get(row.id, [])
            ]
            yield record


_READERS: dict[str, Callable[[Session, _Names], Iterator[dict[str, Any]]]] = {
    "customer": _customers,
    "order": _orders,
    "ticket": _tickets,
    "message": _messages,
}
_TABLES = {"customer": Customer, "order": Order, "ticket": Ticket, "message": Message}


def counts(session: Session) -> dict[str, int]:
    return {kind: int(session.scalar(sa.select(sa.func.count(model.id))) or 0) for kind, model in _TABLES.items()}


def records(session: Session) -> Iterator[dict[str, Any]]:
    """Every record of every kind, in the order customer, order, ticket, message."""
    names = _Names.load(session)
    for kind in KINDS:
        yield from _READERS[kind](session, names)


class _Sink:
    """Where lines go: one file per kind in a folder, or one file (gzip-compressed if it ends in .gz)."""

    def __init__(self, output: Path) -> None:
        self.single = output.name.endswith((".jsonl", ".jsonl.gz"))
        self.paths = [output] if self.single else [output / FILE_NAMES[kind] for kind in KINDS]
        taken = [path for path in self.paths if path.exists()]
        if taken:
            raise FileExistsError(f"{taken[0]} already exists; export to another place or move the old file away")
        self.paths[0].parent.mkdir(parents=True, exist_ok=True)
        self._files = [self._open(path) for path in self.paths]

    @staticmethod
    def _open(path: Path) -> IO[str]:
        if path.name.endswith(".gz"):
            return gzip.open(path, "wt", encoding="utf-8")
        return path.open("w", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        fh = self._files[0] if self.single else self._files[KINDS.index(record["kind"])]
        fh.write(_encode(record) + "\n")

    def close(self) -> None:
        for fh in self._files:
            fh.close()


def export(session: Session, output: Path, progress: Callable[[int], object] = lambda n: None) -> dict[str, int]:
    """Write every record under ``output``; returns how many of each kind were written.

    A folder gets ``customers.jsonl``, ``orders.jsonl``, ``tickets.jsonl``
    and ``messages.jsonl`` (each written even when empty); a path ending in
    ``.jsonl`` or ``.jsonl.gz`` gets all records in one file.
    """
    sink = _Sink(output)
    written = dict.fromkeys(KINDS, 0)
    try:
        for record in records(session):
            sink.write(record)
            written[record["kind"]] += 1
            progress(1)
    except BaseException:
        sink.close()
        for path in sink.paths:  # half an export looks like a whole one to whoever reads it later
            path.unlink(missing_ok=True)
        raise
    sink.close()
    return written
