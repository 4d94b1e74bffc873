"""PostgreSQL backups need pg_dump at least as new as the server; without one the message says what to install."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.backup.conftest import run

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])


def test_missing_pg_dump_is_named_with_what_to_install(app: Any, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = run(app, "backup", "--output", str(tmp_path / "b.tar.gz"), env={"PATH": str(empty)})
    assert result.exit_code != 0
    assert "pg_dump was not found on PATH" in result.output
    assert "apt-get install postgresql-client" in result.output
    assert not list(tmp_path.glob("*.tar.gz")) and not list(tmp_path.glob(".*"))


def test_pg_dump_older_than_the_server_is_refused(app: Any, tmp_path: Path) -> None:
    # A stand-in that reports version 9.6, as an old client package would; it must never be asked to dump.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    old = bin_dir / "pg_dump"
    old.write_text(
        "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'pg_dump (PostgreSQL) 9.6.24'; exit 0; fi\nexit 3\n"
    )
    old.chmod(0o755)
    result = run(app, "backup", "--output", str(tmp_path / "b.tar.gz"), env={"PATH": f"{bin_dir}{os.pathsep}/usr/bin"})
    assert result.exit_code != 0
    assert "is version 9, older than the PostgreSQL" in result.output
    assert not list(tmp_path.glob("*.tar.gz"))


def test_check_reads_the_dump_with_pg_restore(app: Any, one_ticket: Any, empty_target: Any, tmp_path: Path) -> None:
    import hashlib

    from tests.backup.helpers import rewrite

    archive = tmp_path / "b.tar.gz"
    assert run(app, "backup", "--output", str(archive)).exit_code == 0
    target = empty_target()
    checked = run(target, "restore", "--check", str(archive))
    assert checked.exit_code == 0, checked.output

    # A dump that was already broken when it was archived: every checksum matches, pg_restore cannot read it.
    garbage = b"PGDMP" + bytes(200)

    def manifest(m: dict[str, Any]) -> None:
        m["files"]["database/helpdesk.pgdump"] = {"sha256": hashlib.sha256(garbage).hexdigest(), "size": len(garbage)}

    broken = rewrite(
        archive,
        tmp_path / "broken.tar.gz",
        lambda files: files.update({"database/helpdesk.pgdump": garbage}),
        manifest=manifest,
        fix_manifest_sum=True,
    )
    for args in (("restore", "--check", str(broken)), ("restore", str(broken))):
        refused = run(target, *args)
        assert refused.exit_code != 0
        assert "pg_restore failed" in refused.output, refused.output
