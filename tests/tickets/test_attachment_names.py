"""Attachment names from outside are cleaned when stored, and every stored file can be downloaded.

A marketplace or a mail client may send a name with folders, line breaks or
other control characters; one such name once made its file impossible to
download.  Names are cleaned by the ingest pipeline (uploads already were),
and again on the way out for rows stored before; the header carries the
name as UTF-8 in ``filename*`` (RFC 6266) with an ASCII stand-in.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import AttachmentData
from helpdesk.attachments.names import safe_filename
from helpdesk.ingest.pipeline import ingest
from helpdesk.tickets.models import Attachment
from tests.web import login

PDF = b"%PDF-1.4\n% invoice\n"


def test_a_name_from_a_channel_is_cleaned_when_stored(session: Any, world: Any, make_message: Any) -> None:
    msg = make_message(
        account="shop-de",
        attachments=(
            AttachmentData("../../Rechnung\r\nMärz\x00.pdf", "application/pdf", PDF),
            AttachmentData("发票\u2028照片.png", "image/png", b"\x89PNG\r\n\x1a\n"),
        ),
    )
    ingest(session, [msg], source="test")
    session.commit()
    names = list(session.scalars(sa.select(Attachment.filename).order_by(Attachment.id)))
    assert names == ["Rechnung_März_.pdf", "发票_照片.png"]


@pytest.fixture
def stored_with_a_line_break(session: Any, world: Any, make_ticket: Any) -> Attachment:
    """A file whose name was stored before names were cleaned: a line break in the middle of it."""
    ticket = make_ticket(body_text="See the invoice")
    message_id = ticket.messages[0].id
    from helpdesk.attachments import store

    (digest,) = store.store_many(session, [PDF]).values()
    row = Attachment(
        message_id=message_id,
        sha256=digest,
        filename="Rechnung\r\nMärz.pdf",
        content_type="application/pdf",
        size=len(PDF),
    )
    session.add(row)
    session.commit()
    return row


def test_a_stored_name_with_a_line_break_can_still_be_downloaded(
    client: Any, world: Any, stored_with_a_line_break: Attachment
) -> None:
    login(client, world.eu)
    download = client.get(f"/tickets/attachments/{stored_with_a_line_break.id}")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"Rechnung_M_rz.pdf\"; filename*=UTF-8''Rechnung_M%C3%A4rz.pdf"
    )


def test_the_api_download_sends_the_same_header(
    client: Any, session: Any, world: Any, stored_with_a_line_break: Attachment
) -> None:
    from helpdesk.api.tokens import create_token

    _row, token = create_token(session, world.eu, "reader")
    session.commit()
    download = client.get(
        f"/api/v1/attachments/{stored_with_a_line_break.id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert download.status_code == 200
    assert "\n" not in download.headers["Content-Disposition"]
    assert "filename*=UTF-8''Rechnung_M%C3%A4rz.pdf" in download.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("line\nbreak.txt", "line_break.txt"),
        ("tab\there.txt", "tab_here.txt"),
        ("next\u0085line\u2028sep.txt", "next_line_sep.txt"),
        ("Größe 대한민국 عربى.pdf", "Größe 대한민국 عربى.pdf"),
        ("/etc/passwd", "passwd"),
    ],
)
def test_control_characters_and_folders_go_letters_stay(raw: str, safe: str) -> None:
    assert safe_filename(raw) == safe
