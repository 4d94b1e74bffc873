"""Attachment bytes stored once per SHA-256, on disk or in the database.

Disk is the default (``HELPDESK_ATTACHMENT_STORAGE=disk``): blobs over
:data:`SMALL_BLOB_BYTES` are files under ``instance/attachments/ab/cd/<sha256>``,
written atomically, so a crash never leaves half a file under a valid name;
smaller ones (most raw mails, signatures, logos) stay in the
``attachment_blob`` row, because databases read and write small blobs faster
than the file system does files (SQLite's own measurements put the break-even
near 100 KB), and an import of 100,000 mails does not become 100,000 files.
``db`` keeps every blob in its row, for deployments with several machines and
no shared disk.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import threading
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from helpdesk.db import any_of_param, bulk_insert, list_param, utcnow
from helpdesk.tickets.models import AttachmentBlob

SMALL_BLOB_BYTES = 64 * 1024


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _root() -> Path:
    return current_app.config["HELPDESK_SETTINGS"].instance_path / "attachments"


def _path(sha: str) -> Path:
    return _root() / sha[:2] / sha[2:4] / sha


@functools.cache
def _stored_statement(dialect: str) -> sa.Select[tuple[str]]:
    """Which of the ``shas`` are stored: built once per dialect (each ingest batch asks)."""
    table = AttachmentBlob.__table__
    return sa.select(table.c.sha256).where(any_of_param(table.c.sha256, "shas", dialect))


def store_many(session: Session, blobs: Iterable[bytes], *, unsaved: dict[str, str] | None = None) -> dict[int, str]:
    """Store every distinct blob not yet stored; return each given blob's SHA-256 by ``id(blob)``.

    The caller names its rows by those digests without hashing the bytes a
    second time (an imported mail's original is hashed once, not twice).
    A file that cannot be written (the disk is full, a quota or size limit)
    raises ``OSError``; or, when the caller passes ``unsaved``, is left out
    and its digest recorded there with the reason, so the caller can keep
    the rest (a buyer's text must not be lost for want of room for a photo).
    Either way no part-written file is left behind.
    """
    sha_of: dict[int, str] = {}
    by_sha: dict[str, bytes] = {}
    for data in blobs:
        sha = sha_of.get(id(data))
        if sha is None:
            sha = sha_of[id(data)] = digest(data)
        by_sha.setdefault(sha, data)
    if not by_sha:
        return sha_of
    conn = session.connection()
    table = AttachmentBlob.__table__
    dialect = conn.dialect.name
    existing = set(conn.execute(_stored_statement(dialect), {"shas": list_param(by_sha, dialect)}).scalars())
    all_in_db = current_app.config["HELPDESK_SETTINGS"].attachment_storage == "db"
    now = utcnow()
    rows = []
    for sha, data in by_sha.items():
        if sha in existing:
            continue
        in_db = all_in_db or len(data) <= SMALL_BLOB_BYTES
        if not in_db:
            try:
                _write_file(sha, data)
            except OSError as exc:
                if unsaved is None:
                    raise
                unsaved[sha] = unsaved_reason(exc)
                continue
        rows.append({"sha256": sha, "size": len(data), "data": data if in_db else None, "created_at": now})
    bulk_insert(conn, table, rows)
    return sha_of


def unsaved_reason(exc: OSError) -> str:
    """Why a file was not written, in words an admin can act on ("No space left on device")."""
    return f"not saved: {os.strerror(exc.errno) if exc.errno else exc}"


_made_dirs: set[Path] = set()
_temp_names = itertools.count()


def _write_file(sha: str, data: bytes) -> None:
    """Write atomically: a temporary name in the same folder, then a rename over the final one.

    Only called for digests the database does not know, so the file is
    normally new; if a crash left it behind, the rename replaces it with the
    same bytes.
    """
    path = _path(sha)
    if path.parent not in _made_dirs:  # 65,536 folders at most; each is made once per process
        path.parent.mkdir(parents=True, exist_ok=True)
        _made_dirs.add(path.parent)
    tmp = path.parent / f".tmp-{os.getpid()}-{threading.get_ident()}-{next(_temp_names)}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load(session: Session, sha: str) -> bytes:
    """The bytes of a stored blob; FileNotFoundError when they are gone."""
    blob = session.get(AttachmentBlob, sha)
    if blob is None:
        raise FileNotFoundError(f"no attachment blob {sha}")
    if blob.data is not None:
        return blob.data
    return _path(sha).read_bytes()
