"""``/admin/backup``: how this desk is backed up, restored and exported — read-only, admins only.

Backups run from the command line (cron or a systemd timer), not from a
button: a multi-gigabyte archive does not belong in a web request, and the
archive must land where the operator's off-site copy picks it up.  The page
shows the commands for *this* desk (its database, its folders) so an admin
can copy them, and says whether the PostgreSQL client tools the backup needs
are installed.  Anyone but an admin gets 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from helpdesk.accounts.models import Role
from helpdesk.admin.sections import Section, add_section
from helpdesk.extensions import db

bp = Blueprint("backup", __name__, url_prefix="/admin/backup")

add_section(
    Section(
        "backup.index",
        _l("Backups"),
        _l("How to back up, check, restore and export this desk's data."),
        order=90,
    )
)


@dataclass(frozen=True)
class DeskFacts:
    """What the page says about this desk; nothing secret (the database URL without its password)."""

    kind: str
    database: str
    revision: str | None
    instance: Path
    attachment_storage: str
    tool_problem: str | None
    tool_path: str | None


def desk_facts() -> DeskFacts:
    from helpdesk.backup import postgres

    settings = current_app.config["HELPDESK_SETTINGS"]
    url = db.engine.url
    kind = "sqlite" if url.get_backend_name() == "sqlite" else "postgresql"
    tool_problem = tool_path = None
    with db.engine.connect() as conn:
        revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        if kind == "postgresql":
            try:
                tool_path = postgres.find_tool("pg_dump", postgres.server_major(conn))
            except postgres.ToolError as exc:
                tool_problem = str(exc)
    if kind == "sqlite":
        database = url.database or ""
    else:
        database = url.set(drivername="postgresql", password=None).render_as_string()
    return DeskFacts(
        kind, database, revision, settings.instance_path, settings.attachment_storage, tool_problem, tool_path
    )


@bp.get("/")
@login_required
def index() -> str:
    if current_user.role != Role.ADMIN:
        abort(404)
    return render_template("admin/backup.html", desk=desk_facts())
