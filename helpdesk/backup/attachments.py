"""Attachment files on disk: which ones a backup takes, and putting them back.

Blobs up to ``SMALL_BLOB_BYTES`` live in the database and travel with it;
larger ones are content-addressed files under ``<instance>/attachments``
(see :mod:`helpdesk.attachments.store`).  The database is copied first and
the files after it: a file is always written before the row that names it
is committed, so every file the copied database names is already on disk.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from flask import current_app

_BLOB_NAME = re.compile(r"^[0-9a-f]{64}$")


def root() -> Path:
    return current_app.config["HELPDESK_SETTINGS"].instance_path / "attachments"


def archive_name(sha: str) -> str:
    return f"attachments/{sha[:2]}/{sha[2:4]}/{sha}"


def stored_files(base: Path) -> Iterator[tuple[str, Path]]:
    """``(sha256, path)`` of every blob file under ``base``; half-written temporary files are skipped."""
    if not base.is_dir():
        return
    for first in sorted(base.iterdir()):
        if not first.is_dir() or len(first.name) != 2:
            continue
        for second in sorted(first.iterdir()):
            if not second.is_dir():
                continue
            for path in sorted(second.iterdir()):
                if _BLOB_NAME.match(path.name) and path.name.startswith(first.name + second.name):
                    yield path.name, path


def put_back(source: Path, sha: str, base: Path) -> bool:
    """Move an extracted, verified blob into the store; False when an identical file is already there."""
    target = base / sha[:2] / sha[2:4] / sha
    if target.exists() and _sha256(target) == sha:
        source.unlink()
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)  # same file system: the extraction folder is inside the instance folder
    return True


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            sha.update(chunk)
    return sha.hexdigest()
