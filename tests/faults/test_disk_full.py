"""The disk fills up while an import writes a mail's attachment.

Real write errors without root: the import runs in a forked child whose
``RLIMIT_FSIZE`` is below the attachment's size (and above the database's),
so the attachment file's write fails with ``EFBIG`` half-way, exactly where
a full disk fails with ``ENOSPC``.  What a helpdesk must do then: keep the
buyer's text (a message with no attachment is still a question to answer),
say on the message which file is missing and why, and leave no half-written
file behind.
"""

from __future__ import annotations

import email
import io
import resource
import signal
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.email_channel.conftest import mail
from tests.faults.harness import child_env, forked_work
from tests.web import compiled_translations, csrf_token, fresh_globals_per_request, login, make_ticket, world

__all__ = ["compiled_translations", "fresh_globals_per_request", "make_ticket", "world"]

PHOTO = bytes(range(256)) * 16384  # 4 MiB: a file of its own, not a row (SMALL_BLOB_BYTES)


def _mail_with_photo() -> bytes:
    text = "Hello, the lamp arrived with a cracked shade. Photo attached. Jonas"
    msg = email.message_from_bytes(mail(1, body=text, message_id="<broken-lamp@example.test>"), policy=default)
    assert isinstance(msg, EmailMessage)
    msg.add_attachment(PHOTO, maintype="image", subtype="jpeg", filename="shade.jpg")
    return bytes(msg)


def _import_with_file_size_limit(limit: int, path: Path) -> int:
    """The forked child: files may not grow past ``limit`` bytes; then ``helpdesk email import``."""
    from flask import current_app

    from macros.language import detect

    detect("warm up")  # the language model unpacks itself to a temporary file once per process: before the limit
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    result = current_app.test_cli_runner().invoke(args=["helpdesk", "email", "import", str(path)])
    if result.exit_code:
        import traceback

        (path.parent / "import.log").write_text(
            result.output + "".join(traceback.format_exception(result.exception)) if result.exception else ""
        )
    return result.exit_code


def test_an_attachment_that_cannot_be_written_leaves_the_message_stored_and_says_what_is_missing(
    app: Any, session: Any, make_account: Any, make_user: Any, database_url: str, tmp_path: Path
) -> None:
    from helpdesk.tickets.models import Attachment, Message

    make_account(name="mailbox", kind="email", platform=None, settings={"from_address": "support@lampworks.example"})
    eml = tmp_path / "broken-lamp.eml"
    eml.write_bytes(_mail_with_photo())
    instance = tmp_path / "worker"
    database = sa.make_url(database_url).database if database_url.startswith("sqlite") else None
    # above what the database and its journal grow to in this import, below the photo
    limit = (Path(database).stat().st_size if database else 0) + len(PHOTO) // 4
    assert limit < len(PHOTO)

    child = forked_work(child_env(database_url, instance), lambda: _import_with_file_size_limit(limit, eml))
    child.join(60)
    assert child.exitcode == 0

    session.expire_all()
    message = session.scalars(sa.select(Message)).one()  # the buyer's text is kept
    assert "cracked shade" in message.body_text
    assert session.scalars(sa.select(Attachment)).all() == []
    assert message.meta["failed_attachments"] == f"shade.jpg ({len(PHOTO)} bytes): not saved: File too large"
    assert message.original_sha256 is None and message.meta["original_unsaved"] == "not saved: File too large"
    leftovers = [p for p in (instance / "attachments").rglob("*") if p.is_file()]
    assert leftovers == []  # no half-written file, under its name or a temporary one

    lead = make_user("lead@example.test", name="Lena", role="lead")
    client = app.test_client()
    login(client, lead)
    page = client.get(f"/tickets/{message.ticket_id}").get_data(as_text=True)
    assert "could not be saved" in page and "shade.jpg" in page and "File too large" in page


def test_an_agents_file_that_cannot_be_written_refuses_the_note_in_words_and_keeps_nothing(
    app: Any, session: Any, client: Any, world: Any, make_ticket: Any
) -> None:
    """Here the message is the agent's, still in their browser: refusing it whole (422) loses nothing."""
    from helpdesk.attachments.store import digest
    from helpdesk.tickets.models import Message

    ticket_id = make_ticket().id
    scan = PHOTO[: 100 * 1024]
    blocked = Path(app.instance_path) / "attachments" / digest(scan)[:2]
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_bytes(b"")  # a file where the folder must go: the write fails as on a full disk, with an OSError
    login(client, world.eu)
    data = {
        "body": "The buyer's scan, for the carrier claim.",
        "internal": "1",
        "csrf_token": csrf_token(client, f"/tickets/{ticket_id}"),
        "files": [(io.BytesIO(scan), "scan.jpg", "image/jpeg")],
    }
    answer = client.post(f"/tickets/{ticket_id}/reply", data=data, content_type="multipart/form-data")

    text = answer.get_data(as_text=True)
    assert answer.status_code == 422, text[:500]
    assert "could not save the attachments" in text and "nothing was sent" in text
    assert "The buyer&#39;s scan, for the carrier claim." in text  # the draft is handed back
    session.expire_all()
    assert session.scalars(sa.select(Message).where(Message.is_internal)).all() == []
