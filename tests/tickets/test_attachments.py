"""Files on replies and notes: the channel's limits, storage, delivery over real SMTP, the download route."""

from __future__ import annotations

import io
from typing import Any

import pytest
import sqlalchemy as sa

from channels import registry
from channels.base import NO_ATTACHMENTS, AttachmentLimits, Party
from channels.email.settings import reply_attachment_bytes
from helpdesk.ingest.pipeline import ingest
from helpdesk.tickets import attachments as files
from helpdesk.tickets.models import Attachment, Message, Ticket
from tests.email_channel.conftest import SMTP_PASSWORD, Recorder, smtp_server
from tests.web import csrf_token, login

__all__ = ["smtp_server"]

PDF = b"%PDF-1.4\n% invoice 1042\n" + b"x" * 2000


@pytest.fixture
def email_ticket(session: Any, world: Any, make_account: Any, make_message: Any, monkeypatch: Any, smtp_server: Any):
    """A ticket on a mailbox whose replies go out through the loopback SMTP server."""
    controller, _ = smtp_server
    monkeypatch.setenv("TEST_SMTP_PASSWORD", SMTP_PASSWORD)

    def make(**settings: Any) -> Ticket:
        values = {
            "imap_host": "127.0.0.1",
            "user": "support@lampworks.example",
            "smtp_host": "127.0.0.1",
            "smtp_port": controller.port,
            "smtp_security": "none",
            "from_address": "support@lampworks.example",
            "timeout_s": 5,
            **settings,
        }
        make_account(
            name="mailbox", kind="email", platform=None, settings=values, secret_refs={"password": "TEST_SMTP_PASSWORD"}
        )
        msg = make_message(
            channel="email",
            account="mailbox",
            platform=None,
            external_id="buyer-1@example.test",
            sender=Party(email="jonas@example.test", name="Jonas Weber"),
            subject="Invoice please",
            body_text="Could you send me the invoice?",
        )
        ingest(session, [msg], source="test")
        session.commit()
        return session.scalars(sa.select(Ticket).order_by(Ticket.id.desc())).first()

    return make


def send(client: Any, ticket: Ticket, uploads: list[tuple[bytes, str, str]], body: str = "Here it is.", **extra: Any):
    data: dict[str, Any] = {"body": body, "csrf_token": csrf_token(client, f"/tickets/{ticket.id}"), **extra}
    data["files"] = [(io.BytesIO(content), name, kind) for content, name, kind in uploads]
    return client.post(f"/tickets/{ticket.id}/reply", data=data, content_type="multipart/form-data")


def test_a_reply_with_files_is_stored_and_mailed_as_mime_parts(client, session, world, email_ticket, smtp_server):
    _, recorder = smtp_server
    recorder: Recorder
    ticket = email_ticket()
    login(client, world.lead)

    response = send(
        client,
        ticket,
        [(PDF, "invoice-1042.pdf", "application/pdf"), (b"\x89PNG\r\n\x1a\nfake", "../../发票 照片.png", "image/png")],
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    reply = session.scalars(sa.select(Message).where(Message.direction == "out")).one()
    assert reply.delivery_state == "sent"
    stored = session.scalars(sa.select(Attachment).where(Attachment.message_id == reply.id).order_by(Attachment.id))
    assert [(a.filename, a.content_type, a.size) for a in stored] == [
        ("invoice-1042.pdf", "application/pdf", len(PDF)),
        ("发票 照片.png", "image/png", 12),
    ]
    (mail,) = recorder.received
    parts = [(p.get_filename(), p.get_content_type(), p.get_content()) for p in mail.iter_attachments()]
    assert parts == [
        ("invoice-1042.pdf", "application/pdf", PDF),
        ("发票 照片.png", "image/png", b"\x89PNG\r\n\x1a\nfake"),
    ]
    assert "Here it is." in mail.get_body(("plain",)).get_content()
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "invoice-1042.pdf" in page and "发票 照片.png" in page
    # a name in Chinese travels as UTF-8 in filename* (headers are Latin-1), with an ASCII stand-in
    photo = session.scalar(sa.select(Attachment).where(Attachment.filename == "发票 照片.png"))
    download = client.get(f"/tickets/attachments/{photo.id}")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == (
        "inline; filename=\"__ __.png\"; filename*=UTF-8''%E5%8F%91%E7%A5%A8%20%E7%85%A7%E7%89%87.png"
    )


def test_files_over_the_mail_servers_limit_are_refused_naming_the_limit(client, session, world, email_ticket):
    # The server takes 4,000 bytes of mail beyond what headers and text need: 3,000 bytes of files once base64'd.
    ticket = email_ticket(smtp_max_message_bytes=256 * 1024 + 4000)
    login(client, world.lead)

    response = send(client, ticket, [(b"a" * 2000, "a.txt", "text/plain"), (b"b" * 2000, "b.txt", "text/plain")])

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This channel takes at most 3.0 kB of files per reply; yours come to 4.0 kB." in page
    assert session.scalar(sa.select(sa.func.count(Message.id)).where(Message.direction == "out")) == 0
    assert session.scalar(sa.select(sa.func.count(Attachment.id))) == 0
    assert "Up to 20 files, 3.0 kB in all." in page  # the composer shows the limit it was held to
    assert "Nothing was sent. Attach these files again before sending: a.txt, b.txt" in page


def test_a_marketplace_that_sends_no_files_refuses_them_and_the_composer_disables_the_button(
    client, session, world, make_ticket
):
    ticket = make_ticket()  # an eBay store: its connector cannot send attachments
    login(client, world.eu)

    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'id="files" name="files" multiple class="visually-hidden" disabled' in page
    assert "This channel cannot send files to the customer; attach them to an internal note instead." in page

    refused = send(client, ticket, [(PDF, "invoice.pdf", "application/pdf")])
    assert refused.status_code == 422
    assert "This channel cannot send files to the customer." in refused.get_data(as_text=True)

    noted = send(client, ticket, [(PDF, "invoice.pdf", "application/pdf")], body="For the team", internal="1")
    assert noted.status_code == 302
    note = session.scalars(sa.select(Message).where(Message.is_internal.is_(True))).one()
    assert [a.filename for a in note.attachments] == ["invoice.pdf"]
    assert note.delivery_state == "received"  # a note never leaves


def test_download_is_for_those_who_see_the_ticket_as_a_file_with_its_type(client, session, world, make_ticket):
    ticket = make_ticket()  # shop-de: team Europe (eu) and the lead see it; Aiko of team Asia does not
    login(client, world.eu)
    uploads = [
        (PDF, "invoice.pdf", "application/pdf"),
        (b"<script>alert(1)</script>", "page.html", "text/html"),
        (b"\x89PNG\r\n\x1a\nfake", "photo.png", "image/png"),
        (b"data", "we<ird>|name.pdf", "text/html"),
    ]
    assert send(client, ticket, uploads, internal="1").status_code == 302
    rows = {a.filename: a.id for a in session.scalars(sa.select(Attachment))}
    assert set(rows) == {"invoice.pdf", "page.html", "photo.png", "we_ird_name.pdf"}

    pdf = client.get(f"/tickets/attachments/{rows['invoice.pdf']}")
    assert pdf.status_code == 200 and pdf.data == PDF
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="invoice.pdf"'
    assert pdf.headers["X-Content-Type-Options"] == "nosniff"

    html = client.get(f"/tickets/attachments/{rows['page.html']}")
    assert html.headers["Content-Type"] == "application/octet-stream"  # never rendered as a page
    assert html.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in html.headers["Content-Security-Policy"]

    png = client.get(f"/tickets/attachments/{rows['photo.png']}")
    assert (png.headers["Content-Type"], png.headers["Content-Disposition"]) == (
        "image/png",
        'inline; filename="photo.png"',
    )
    # the browser's word for a .pdf is not taken: the name decides the type
    assert client.get(f"/tickets/attachments/{rows['we_ird_name.pdf']}").headers["Content-Type"] == "application/pdf"

    login(client, world.asia_agent)
    assert client.get(f"/tickets/attachments/{rows['invoice.pdf']}").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    anonymous = client.get(f"/tickets/attachments/{rows['invoice.pdf']}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_a_note_keeps_the_helpdesks_own_limit(client, session, world, make_ticket):
    ticket = make_ticket()
    login(client, world.eu)
    many = [(b"x", f"f{i}.txt", "text/plain") for i in range(files.MAX_NOTE_FILES + 1)]

    response = send(client, ticket, many, internal="1")

    assert response.status_code == 422
    assert "A note takes at most 20 files; you attached 21." in response.get_data(as_text=True)


def test_connectors_declare_their_limits_and_platform_rules_tighten_them(app, session, make_account):
    email = registry.get("email")
    assert email.reply_attachment_limits({}) == AttachmentLimits(20, reply_attachment_bytes({}))
    assert 14_000_000 < reply_attachment_bytes({}) < 15_800_000  # 20 MB of mail, less base64 and room for text
    assert registry.get("ebay").reply_attachment_limits({}) == NO_ATTACHMENTS
    assert registry.get("amazon").reply_attachment_limits({}) == NO_ATTACHMENTS

    big = {"smtp_max_message_bytes": 50_000_000}
    own = Ticket(channel_account_id=make_account(name="own", kind="email", platform=None, settings=big).id)
    relay = make_account(name="relay", kind="email", platform="amazon", settings=big)
    assert files.reply_limits(session, own).max_attachment_bytes == reply_attachment_bytes(big)
    amazon = Ticket(channel_account_id=relay.id, platform="amazon")
    assert files.reply_limits(session, amazon).max_attachment_bytes == 10 * 1024 * 1024  # Amazon's 10 MB in all


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("invoice.pdf", "invoice.pdf"),
        ("C:\\Users\\mia\\Desktop\\invoice.pdf", "invoice.pdf"),
        ("../../etc/passwd", "passwd"),
        ('a"b\r\nc.txt', "a_b_c.txt"),
        ("...", "attachment"),
        ("", "attachment"),
        ("请款单.pdf", "请款单.pdf"),
        ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
    ],
)
def test_safe_filenames(raw: str, safe: str) -> None:
    assert files.safe_filename(raw) == safe


def test_types_come_from_the_name() -> None:
    assert files.content_type_of("a.pdf", "text/html") == "application/pdf"
    assert files.content_type_of("noext", "image/png") == "image/png"
    assert files.content_type_of("noext", "not a type<script>") == "application/octet-stream"
    assert files.content_type_of("noext", None) == "application/octet-stream"


def test_a_body_larger_than_the_server_reads_returns_to_the_ticket_naming_the_limit(app, client, world, make_ticket):
    ticket = make_ticket()
    login(client, world.eu)
    app.config["MAX_CONTENT_LENGTH"] = 50_000

    response = send(client, ticket, [(b"x" * 60_000, "big.bin", "application/octet-stream")], internal="1")

    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tickets/{ticket.id}")
    limit = files.size_text(app.config["HELPDESK_SETTINGS"].attachment_max_bytes)
    assert f"The files are larger than the helpdesk accepts ({limit} in all)" in client.get(
        f"/tickets/{ticket.id}"
    ).get_data(as_text=True)
