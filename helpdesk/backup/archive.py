"""The backup archive: one ``.tar.gz`` with a manifest that names and checksums every file in it.

Layout::

    database/helpdesk.sqlite3  or  database/helpdesk.pgdump
    attachments/ab/cd/<sha256>         attachment files kept on disk
    manifest.json                      what the archive holds (see :class:`Manifest`)
    manifest.sha256                    the SHA-256 of manifest.json

The manifest comes last because it holds the checksums of everything before
it; its own checksum sits beside it so an edited manifest is caught too.
A restore reads the whole archive and checks every file *before* it changes
anything: a damaged backup must never half-replace a working desk.

The archive is written under a temporary name and renamed when complete,
so a backup that crashes never leaves a file that looks like a backup.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

FORMAT = "helpdesk-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
DATABASE_FILES = {"sqlite": "database/helpdesk.sqlite3", "postgresql": "database/helpdesk.pgdump"}
ATTACHMENT_PREFIX = "attachments/"
_ATTACHMENT_NAME = re.compile(r"^attachments/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})$")
_CHUNK = 1024 * 1024


class ArchiveError(Exception):
    """The archive cannot be restored; the message says what is wrong with it."""


@dataclass
class Manifest:
    """What a backup holds; ``files`` maps each archive path to its SHA-256 and size."""

    app_version: str
    created_at: str
    database_kind: str
    alembic_revision: str | None
    row_counts: dict[str, int]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    server_version: str | None = None

    @property
    def database_file(self) -> str:
        return DATABASE_FILES[self.database_kind]

    @property
    def attachment_files(self) -> list[str]:
        return sorted(name for name in self.files if name.startswith(ATTACHMENT_PREFIX))

    def to_json(self) -> bytes:
        data = {
            "format": FORMAT,
            "format_version": self.format_version,
            "app_version": self.app_version,
            "created_at": self.created_at,
            "database": {
                "kind": self.database_kind,
                "file": self.database_file,
                "alembic_revision": self.alembic_revision,
                "server_version": self.server_version,
            },
            "row_counts": self.row_counts,
            "attachments": {
                "files": len(self.attachment_files),
                "bytes": sum(self.files[name]["size"] for name in self.attachment_files),
            },
            "files": self.files,
        }
        return json.dumps(data, indent=2, sort_keys=True).encode() + b"\n"

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        """Parse and check the shape; ArchiveError names the first field that is wrong."""
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ArchiveError(f"manifest.json is not valid JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ArchiveError("manifest.json does not describe a helpdesk backup")
        version = data.get("format_version")
        if not isinstance(version, int):
            raise ArchiveError("manifest.json has no format_version")
        if version > FORMAT_VERSION:
            raise ArchiveError(
                f"the archive has backup format {version}, this version of the helpdesk reads up to "
                f"{FORMAT_VERSION}; restore it with the newer version that made it"
            )
        try:
            database = data["database"]
            kind = database["kind"]
            if kind not in DATABASE_FILES:
                raise ArchiveError(f"manifest.json names an unknown database kind {kind!r}")
            files = data["files"]
            if not isinstance(files, dict) or not all(
                isinstance(v, dict) and isinstance(v.get("sha256"), str) and isinstance(v.get("size"), int)
                for v in files.values()
            ):
                raise ArchiveError("manifest.json lists files without a sha256 and size")
            row_counts = {str(k): int(v) for k, v in data["row_counts"].items()}
            return cls(
                app_version=str(data["app_version"]),
                created_at=str(data["created_at"]),
                database_kind=kind,
                alembic_revision=database.get("alembic_revision"),
                server_version=database.get("server_version"),
                row_counts=row_counts,
                files=files,
                format_version=version,
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ArchiveError(f"manifest.json is incomplete or malformed (at {exc})") from None


class _HashingReader(io.RawIOBase):
    """Hashes what tarfile reads, so a file is read from disk once for the checksum and the archive."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self.sha = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        self.sha.update(data)
        return data


class _CountingReader(io.RawIOBase):
    """Reports how many bytes of the archive have been read, for a progress bar."""

    def __init__(self, fh: IO[bytes], progress: Callable[[int], object]) -> None:
        self._fh = fh
        self._progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._fh.readinto(buffer)  # type: ignore[attr-defined]
        self._progress(n)
        return int(n)


class ArchiveWriter:
    """Adds files to a new archive, recording each one's checksum for the manifest."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._partial = path.with_name(f".{path.name}.partial")
        # Owner-only from the first byte: a backup holds every customer's messages.
        self._fh = os.fdopen(os.open(self._partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
        # Level 6 is gzip's own default: level 9 (tarfile's) costs far more time for a few percent.
        self._tar = tarfile.open(fileobj=self._fh, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self.files: dict[str, dict[str, Any]] = {}

    def add_file(self, name: str, source: Path) -> str:
        """Add ``source`` as ``name``; return its SHA-256."""
        with source.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            info = tarfile.TarInfo(name)
            info.size = size
            info.mode = 0o600
            info.mtime = int(os.fstat(fh.fileno()).st_mtime)
            reader = _HashingReader(fh)
            self._tar.addfile(info, reader)  # type: ignore[arg-type]
        sha = reader.sha.hexdigest()
        self.files[name] = {"sha256": sha, "size": size}
        return sha

    def finish(self, manifest: Manifest) -> Path:
        """Write the manifest and its checksum, then give the archive its final name."""
        manifest.files = self.files
        raw = manifest.to_json()
        self._add_bytes(MANIFEST, raw)
        self._add_bytes(MANIFEST_SUM, f"{hashlib.sha256(raw).hexdigest()}  {MANIFEST}\n".encode())
        self._tar.close()
        self._fh.close()
        os.replace(self._partial, self.path)
        return self.path

    def abort(self) -> None:
        self._tar.close()
        self._fh.close()
        self._partial.unlink(missing_ok=True)

    def _add_bytes(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o600
        self._tar.addfile(info, io.BytesIO(data))


def _safe_name(name: str) -> str:
    """The member's name if it is one a backup can hold; anything else (``..``, absolute) is refused."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or name != str(path):
        raise ArchiveError(f"the archive holds a file with an unsafe name: {name!r}")
    if name in (MANIFEST, MANIFEST_SUM) or name in DATABASE_FILES.values() or _ATTACHMENT_NAME.match(name):
        return name
    raise ArchiveError(f"the archive holds a file a helpdesk backup never contains: {name!r}")


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    for member in tar:
        if not member.isfile():
            raise ArchiveError(f"the archive holds {member.name!r}, which is not a regular file")
        yield member


def _read_to_end(tar: tarfile.TarFile) -> None:
    """Read what follows the last member: only zero padding may remain, and gzip checks its CRC at the end.

    tarfile ends the listing quietly at a header that does not read back
    (unless it is the first), so a damaged header would otherwise look like
    the archive's end; the member's body after it is not zeros.  Reading on
    from where tarfile stopped (no seek: a gzip stream seeks back by
    decompressing again from the start).
    """
    stream = tar.fileobj
    assert stream is not None
    while chunk := stream.read(_CHUNK):
        if chunk.count(0) != len(chunk):
            raise ArchiveError(
                f"the archive is damaged: a file header after byte {tar.offset} of its contents does not read back; "
                "use another copy of the backup"
            )


def extract_verified(archive: Path, into: Path, progress: Callable[[int], object] | None = None) -> Manifest:
    """Unpack ``archive`` into the empty folder ``into`` and check it completely.

    Every file must be listed in the manifest with the same size and SHA-256,
    every listed file must be present, and the manifest must match its own
    checksum.  Raises ArchiveError naming the first problem; the caller then
    removes ``into`` and nothing else has been touched.  ``progress`` is
    called with the number of archive bytes read.
    """
    seen: dict[str, dict[str, Any]] = {}
    manifest_raw = manifest_sum = None
    try:
        with archive.open("rb") as raw:
            reader = io.BufferedReader(_CountingReader(raw, progress or (lambda n: None)), _CHUNK)
            with tarfile.open(fileobj=reader, mode="r:gz") as tar:
                for member in _members(tar):
                    name = _safe_name(member.name)
                    if name in seen:
                        raise ArchiveError(f"the archive holds {name} twice")
                    source = tar.extractfile(member)
                    assert source is not None  # a regular file always has a body
                    if name == MANIFEST:
                        manifest_raw = source.read()
                        seen[name] = {}
                        continue
                    if name == MANIFEST_SUM:
                        manifest_sum = source.read()
                        seen[name] = {}
                        continue
                    target = into / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    sha = hashlib.sha256()
                    size = 0
                    with target.open("wb") as out:
                        while chunk := source.read(_CHUNK):
                            sha.update(chunk)
                            size += len(chunk)
                            out.write(chunk)
                    seen[name] = {"sha256": sha.hexdigest(), "size": size}
                _read_to_end(tar)
    except FileNotFoundError:
        raise ArchiveError(f"there is no file {archive}") from None
    except (EOFError, tarfile.ReadError, zlib.error, OSError) as exc:
        raise ArchiveError(
            f"the archive is truncated or damaged ({exc}); it cannot be restored — use another copy of the backup"
        ) from None
    if manifest_raw is None:
        raise ArchiveError("the archive has no manifest.json; it is not a complete helpdesk backup")
    if manifest_sum is None:
        raise ArchiveError("the archive has no manifest.sha256; it is not a complete helpdesk backup")
    expected = manifest_sum.decode(errors="replace").split()[:1]
    if expected != [hashlib.sha256(manifest_raw).hexdigest()]:
        raise ArchiveError("manifest.json does not match its checksum in manifest.sha256: the manifest was edited")
    manifest = Manifest.from_json(manifest_raw)
    problems = []
    for name, want in sorted(manifest.files.items()):
        got = seen.get(name)
        if got is None:
            problems.append(f"{name} is missing")
        elif got["size"] != want["size"]:
            problems.append(f"{name} has {got['size']} bytes instead of {want['size']}")
        elif got["sha256"] != want["sha256"]:
            problems.append(f"{name} does not match its SHA-256 (damaged)")
    for name in sorted(set(seen) - set(manifest.files) - {MANIFEST, MANIFEST_SUM}):
        problems.append(f"{name} is not listed in the manifest")
    if manifest.database_file not in manifest.files:
        problems.append(f"{manifest.database_file} (the database) is not listed in the manifest")
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise ArchiveError(f"the archive is damaged: {shown}")
    return manifest
