"""Reading a desk completely (every row, every attachment byte) and rewriting archives to damage them."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa


def everything(app: Any) -> dict[str, Any]:
    """Every row of every table (ordered by primary key), every attachment blob's bytes, the files on disk."""
    from helpdesk.attachments.store import load
    from helpdesk.db import Base
    from helpdesk.extensions import db
    from helpdesk.tickets.models import AttachmentBlob

    with app.app_context():
        tables: dict[str, Any] = {}
        with db.engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
            for table in Base.metadata.sorted_tables:
                tables[table.name] = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            tables["alembic_version"] = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        blobs = {sha: load(db.session, sha) for sha in db.session.scalars(sa.select(AttachmentBlob.sha256))}
        root = app.config["HELPDESK_SETTINGS"].instance_path / "attachments"
        files = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
        db.session.remove()
    return {"table_names": names, "tables": tables, "blobs": blobs, "files": files}


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def rewrite(
    archive: Path,
    out: Path,
    change: Callable[[dict[str, bytes]], None],
    *,
    fix_manifest_sum: bool = False,
    manifest: Callable[[dict[str, Any]], None] | None = None,
) -> Path:
    """A copy of ``archive`` with its members changed; optionally the manifest edited and its checksum made to match."""
    files = members(archive)
    change(files)
    if manifest is not None:
        data = json.loads(files["manifest.json"])
        manifest(data)
        files["manifest.json"] = json.dumps(data).encode()
    if fix_manifest_sum:
        files["manifest.sha256"] = f"{hashlib.sha256(files['manifest.json']).hexdigest()}  manifest.json\n".encode()
    with tarfile.open(out, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out
