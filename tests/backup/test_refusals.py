"""A damaged, truncated, incomplete or edited archive is refused with a message naming the problem."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.backup.conftest import run
from tests.backup.helpers import members, rewrite

# Checking an archive does not depend on the database: SQLite is enough here (PostgreSQL's dump is checked below).
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def archive(app: Any, one_ticket: dict[str, Any], tmp_path: Path) -> Path:
    path = tmp_path / "good.tar.gz"
    made = run(app, "backup", "--output", str(path))
    assert made.exit_code == 0, made.output
    return path


def _attachment(files: dict[str, bytes]) -> str:
    [name] = [n for n in files if n.startswith("attachments/")]
    return name


def flip_byte_in_stream(archive: Path, out: Path) -> Path:
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    out.write_bytes(bytes(data))
    return out


def truncate(archive: Path, out: Path) -> Path:
    out.write_bytes(archive.read_bytes()[: archive.stat().st_size * 2 // 3])
    return out


def flip_byte_in_attachment(archive: Path, out: Path) -> Path:
    def change(files: dict[str, bytes]) -> None:
        name = _attachment(files)
        files[name] = bytes([files[name][0] ^ 1]) + files[name][1:]

    return rewrite(archive, out, change)


def drop_attachment(archive: Path, out: Path) -> Path:
    return rewrite(archive, out, lambda files: files.pop(_attachment(files)))


def edit_manifest(archive: Path, out: Path) -> Path:
    return rewrite(archive, out, lambda files: None, manifest=lambda m: m["row_counts"].update(ticket=5))


def edit_manifest_and_its_sum(archive: Path, out: Path) -> Path:
    return rewrite(
        archive, out, lambda files: None, manifest=lambda m: m["row_counts"].update(ticket=5), fix_manifest_sum=True
    )


def drop_manifest(archive: Path, out: Path) -> Path:
    return rewrite(archive, out, lambda files: files.pop("manifest.json"))


def add_unlisted_file(archive: Path, out: Path) -> Path:
    return rewrite(archive, out, lambda files: files.update({"attachments/00/00/" + "0" * 64: b"stowaway"}))


def newer_schema(archive: Path, out: Path) -> Path:
    def manifest(m: dict[str, Any]) -> None:
        m["database"]["alembic_revision"] = "9999"
        m["app_version"] = "9.0.0"

    return rewrite(archive, out, lambda files: None, manifest=manifest, fix_manifest_sum=True)


def other_engine(archive: Path, out: Path) -> Path:
    def change(files: dict[str, bytes]) -> None:
        files["database/helpdesk.pgdump"] = files.pop("database/helpdesk.sqlite3")

    def manifest(m: dict[str, Any]) -> None:
        m["database"]["kind"] = "postgresql"
        m["files"]["database/helpdesk.pgdump"] = m["files"].pop("database/helpdesk.sqlite3")

    return rewrite(archive, out, change, manifest=manifest, fix_manifest_sum=True)


CASES: list[tuple[Callable[[Path, Path], Path], str]] = [
    (flip_byte_in_stream, "damaged"),
    (truncate, "truncated or damaged"),
    (flip_byte_in_attachment, "does not match its SHA-256 (damaged)"),
    (drop_attachment, "is missing"),
    (edit_manifest, "manifest.json does not match its checksum in manifest.sha256: the manifest was edited"),
    (edit_manifest_and_its_sum, "ticket: 1 rows instead of 5"),
    (drop_manifest, "has no manifest.json"),
    (add_unlisted_file, "is not listed in the manifest"),
    (newer_schema, "made by a newer version (9.0.0)"),
    (other_engine, "holds a postgresql database and this helpdesk runs on sqlite"),
]


@pytest.mark.parametrize(("damage", "message"), CASES, ids=[c[0].__name__ for c in CASES])
def test_bad_archive_is_refused_and_nothing_written(
    archive: Path, damage: Callable[[Path, Path], Path], message: str, empty_target: Any, tmp_path: Path
) -> None:
    bad = damage(archive, tmp_path / "bad.tar.gz")
    target = empty_target()
    checked = run(target, "restore", "--check", str(bad))
    assert checked.exit_code != 0
    assert message in checked.output
    refused = run(target, "restore", str(bad))
    assert refused.exit_code != 0
    assert "Refused" in refused.output and message in refused.output
    instance = target.config["HELPDESK_SETTINGS"].instance_path
    assert not (instance / "attachments").exists()
    assert not list(instance.glob(".restore-*"))  # the work folder is gone too
    from helpdesk.extensions import db

    with target.app_context():
        assert sa.inspect(db.engine).get_table_names() == []


def test_check_accepts_the_good_archive(archive: Path, empty_target: Any) -> None:
    checked = run(empty_target(), "restore", "--check", str(archive))
    assert checked.exit_code == 0, checked.output
    assert "every checksum matches" in checked.output
    assert json.loads(members(archive)["manifest.json"])["created_at"] in checked.output


def test_missing_archive_is_named(empty_target: Any, tmp_path: Path) -> None:
    result = run(empty_target(), "restore", str(tmp_path / "nowhere.tar.gz"))
    assert result.exit_code != 0
    assert "there is no file" in result.output and "nowhere.tar.gz" in result.output
