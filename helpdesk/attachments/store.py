"""Attachment bytes stored once per SHA-256, on disk or in the database.

Disk is the default (``HELPDESK_ATTACHMENT_STORAGE=disk``): files live under
``instance/attachments/ab/cd/<sha256>`` and are written atomically, so a crash
never leaves half a file under a valid name.  ``db`` keeps the bytes in the
``attachment_blob`` row, for deployments with several machines and no shared
disk.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from helpdesk.db import utcnow
from helpdesk.ingest.batch import chunks
from helpdesk.tickets.models import AttachmentBlob


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _root() -> Path:
    return current_app.config["HELPDESK_SETTINGS"].instance_path / "attachments"


def _path(sha: str) -> Path:
    return _root() / sha[:2] / sha[2:4] / sha


def store_many(session: Session, blobs: Iterable[bytes]) -> dict[str, int]:
    """Store every distinct blob not yet stored; return sha → size of all given."""
    by_sha: dict[str, bytes] = {}
    for data in blobs:
        by_sha.setdefault(digest(data), data)
    if not by_sha:
        return {}
    table = AttachmentBlob.__table__
    existing: set[str] = set()
    for part in chunks(by_sha):
        existing.update(session.scalars(sa.select(table.c.sha256).where(table.c.sha256.in_(part))))
    in_db = current_app.config["HELPDESK_SETTINGS"].attachment_storage == "db"
    now = utcnow()
    rows = []
    for sha, data in by_sha.items():
        if sha in existing:
            continue
        if not in_db:
            _write_file(sha, data)
        rows.append({"sha256": sha, "size": len(data), "data": data if in_db else None, "created_at": now})
    if rows:
        session.execute(sa.insert(table), rows)
    return {sha: len(data) for sha, data in by_sha.items()}


def _write_file(sha: str, data: bytes) -> None:
    path = _path(sha)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(session: Session, sha: str) -> bytes:
    """The bytes of a stored blob; FileNotFoundError when they are gone."""
    blob = session.get(AttachmentBlob, sha)
    if blob is None:
        raise FileNotFoundError(f"no attachment blob {sha}")
    if blob.data is not None:
        return blob.data
    return _path(sha).read_bytes()
