"""``helpdesk email import`` and ``helpdesk channels add email`` as an admin uses them."""

from __future__ import annotations

import json
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.ingest import quarantine
from helpdesk.ingest.models import QuarantinedInput
from helpdesk.tickets.models import Message
from tests.email_channel.conftest import BROKEN, mail


def run(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["helpdesk", *args], catch_exceptions=False)


@pytest.fixture
def support(make_account: Any) -> ChannelAccount:
    return make_account(name="support", kind="email", platform=None, site=None, default_language=None)


def html_mail_with_attachment() -> bytes:
    msg = EmailMessage()
    msg["From"] = "=?utf-8?q?Ren=C3=A9e_M=C3=BCller?= <renee@example.test>"
    msg["To"] = "support@lampworks.example"
    msg["Subject"] = "=?utf-8?q?R=C3=BCcksendung_Lampe?="
    msg["Message-ID"] = "<html-only@example.test>"
    msg["Date"] = "Mon, 05 Jan 2026 10:00:00 +0100"
    msg.set_content("<p>Die Lampe ist <b>kaputt</b>.</p><p>Foto anbei.</p>", subtype="html")
    msg.add_attachment(b"\x89PNG fake image", maintype="image", subtype="png", filename="lampe.png")
    return bytes(msg)


def mbox_of(*mails: bytes) -> bytes:
    return b"".join(b"From MAILER-DAEMON Mon Jan  5 09:00:00 2026\n" + m.replace(b"\r\n", b"\n") + b"\n" for m in mails)


def test_import_reports_every_mail_in_input_order_and_is_idempotent(app, session, support, tmp_path):
    single = tmp_path / "no-extension"
    single.write_bytes(html_mail_with_attachment())
    folder = tmp_path / "maildir"
    folder.mkdir()
    (folder / "a.eml").write_bytes(mail(1))
    (folder / "b.txt").write_bytes(mail(2))
    (folder / ".hidden").write_bytes(mail(9))
    archive = tmp_path / "archive.mbox"
    archive.write_bytes(mbox_of(mail(3), BROKEN, mail(1)))
    report = tmp_path / "report.jsonl"

    result = run(app, "email", "import", str(single), str(folder), str(archive), "--report", str(report))

    assert result.exit_code == 0, result.output
    assert "6 mails: 4 ingested, 1 duplicates, 1 quarantined (account 'support')" in result.output
    lines = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    assert [(r["file"], r["status"]) for r in lines] == [
        (str(single), "ingested"),
        (str(folder / "a.eml"), "ingested"),
        (str(folder / "b.txt"), "ingested"),
        (f"{archive}#1", "ingested"),
        (f"{archive}#2", "quarantined"),
        (f"{archive}#3", "duplicate"),
    ]
    first = lines[0]
    assert first["subject"] == "Rücksendung Lampe"
    assert (first["from_address"], first["from_name"]) == ("renee@example.test", "Renée Müller")
    assert first["body_text"] == "Die Lampe ist kaputt.\n\nFoto anbei."
    assert first["attachments"] == [{"filename": "lampe.png", "content_type": "image/png", "size": 15}]
    assert first["message_id"] == "html-only@example.test" and isinstance(first["ticket_id"], int)
    assert lines[1]["body_text"] == "Hello, this is question number 1.\nThanks, Jonas"
    assert "not an e-mail message" in lines[4]["reason"] and lines[4]["ticket_id"] is None
    assert lines[5]["ticket_id"] == lines[1]["ticket_id"]
    assert session.scalar(sa.select(sa.func.count(QuarantinedInput.id))) == 1

    again = run(app, "email", "import", str(folder), "--report", str(report))

    assert "2 mails: 0 ingested, 2 duplicates, 0 quarantined" in again.output
    assert session.scalar(sa.select(sa.func.count(Message.id))) == 4


def test_import_batches_keep_order(app, session, support, tmp_path):
    archive = tmp_path / "big.mbox"
    archive.write_bytes(mbox_of(*(mail(n) for n in range(7))))
    report = tmp_path / "r.jsonl"

    result = run(app, "email", "import", str(archive), "--batch-size", "3", "--report", str(report))

    assert result.exit_code == 0, result.output
    ids = [json.loads(line)["message_id"] for line in report.read_text().splitlines()]
    assert ids == [f"buyer-{n}@example.test" for n in range(7)]


def test_import_needs_a_clear_account(app, make_account, tmp_path):
    (tmp_path / "m.eml").write_bytes(mail(1))
    none = run(app, "email", "import", str(tmp_path / "m.eml"))
    assert none.exit_code == 2 and "no email account yet" in none.output

    make_account(name="mail-de", kind="email", platform="amazon")
    make_account(name="mail-us", kind="email", platform="amazon")
    several = run(app, "email", "import", str(tmp_path / "m.eml"))
    assert several.exit_code == 2 and "choose one with --account (mail-de, mail-us)" in several.output

    chosen = run(app, "email", "import", str(tmp_path / "m.eml"), "--account", "mail-us")
    assert chosen.exit_code == 0 and "1 ingested" in chosen.output


def test_channels_add_email_stores_settings_and_only_secret_names(app, session, monkeypatch):
    monkeypatch.delenv("AMAZON_DE_MAIL_PASSWORD", raising=False)
    result = run(
        app,
        "channels",
        "add",
        "email",
        "--name",
        "amazon-de-mail",
        "--imap-host",
        "imap.example.test",
        "--user",
        "orders@lampworks.example",
        "--password-env",
        "AMAZON_DE_MAIL_PASSWORD",
        "--smtp-host",
        "smtp.example.test",
        "--sent-folder",
        "Sent",
        "--mark-seen",
        "--idle",
        "--platform",
        "amazon",
        "--site",
        "DE",
    )

    assert result.exit_code == 0, result.output
    assert "export AMAZON_DE_MAIL_PASSWORD=" in result.output
    assert "helpdesk channels test amazon-de-mail" in result.output
    account = session.scalar(sa.select(ChannelAccount).where(ChannelAccount.name == "amazon-de-mail"))
    assert (account.kind, account.platform, account.site) == ("email", "amazon", "DE")
    assert account.secret_refs == {"password": "AMAZON_DE_MAIL_PASSWORD"}
    assert account.settings == {
        "imap_host": "imap.example.test",
        "imap_security": "ssl",
        "user": "orders@lampworks.example",
        "folder": "INBOX",
        "mark_seen": True,
        "idle": True,
        "sent_folder": "Sent",
        "smtp_host": "smtp.example.test",
        "smtp_security": "starttls",
        "from_address": "orders@lampworks.example",
        "max_attachment_bytes": 25 * 1024 * 1024,  # the schema's defaults are stored too
        "smtp_max_message_bytes": 20 * 1024 * 1024,
        "timeout_s": 30,
    }
    duplicate = run(
        app, "channels", "add", "email", "--name", "amazon-de-mail", "--imap-host", "h", "--user", "u@x.test"
    )
    assert duplicate.exit_code == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "--password-env: give a password, an OAuth refresh token"),
        (["--password-env", "hunter2!"], "is not an environment variable name"),
        (["--password-env", "P", "--imap-port", "0x"], "Invalid value for '--imap-port'"),
    ],
)
def test_channels_add_email_refuses_what_cannot_work(app, args, message):
    result = run(app, "channels", "add", "email", "--name", "m", "--imap-host", "h", "--user", "u@x.test", *args)
    assert result.exit_code == 2 and message in result.output


def test_poll_once_reads_the_added_mailbox(app, session, mailbox, monkeypatch):
    mailbox.append(mail(1))
    monkeypatch.setenv("SUPPORT_MAIL_PASSWORD", mailbox.password)
    added = run(
        app,
        "channels",
        "add",
        "email",
        "--name",
        "support",
        "--imap-host",
        mailbox.host,
        "--imap-port",
        str(mailbox.port),
        "--imap-security",
        "none",
        "--user",
        mailbox.user,
        "--password-env",
        "SUPPORT_MAIL_PASSWORD",
    )
    assert added.exit_code == 0, added.output

    polled = run(app, "poll", "--once", "--account", "support")

    assert polled.exit_code == 0, polled.output
    assert "support: 1 pages, 1 ingested" in polled.output


def test_quarantined_mail_is_replayed_with_the_email_parser(app, session):
    quarantine.add(
        session, quarantine.RawInput(mail(1), "email", "support"), source="test", reason="no account yet", field=None
    )
    session.commit()
    session.add(ChannelAccount(name="support", kind="email", display_name="Support"))
    session.commit()

    result = run(app, "quarantine", "retry", "--all")

    assert "1 replayed, 0 still failing" in result.output
    assert session.scalar(sa.select(Message.external_id)) == "buyer-1@example.test"


def test_channels_add_email_with_oauth_refresh_stores_provider_client_and_secret_names(app, session):
    result = run(
        app,
        "channels",
        "add",
        "email",
        "--name",
        "gmail",
        "--imap-host",
        "imap.gmail.com",
        "--user",
        "support@lampworks.example",
        "--oauth2-provider",
        "google",
        "--oauth2-client-id",
        "1234-abc.apps.googleusercontent.com",
        "--oauth2-refresh-token-env",
        "GMAIL_REFRESH_TOKEN",
        "--oauth2-client-secret-env",
        "GMAIL_CLIENT_SECRET",
    )

    assert result.exit_code == 0, result.output
    account = session.scalar(sa.select(ChannelAccount).where(ChannelAccount.name == "gmail"))
    assert account.secret_refs == {
        "oauth2_refresh_token": "GMAIL_REFRESH_TOKEN",
        "oauth2_client_secret": "GMAIL_CLIENT_SECRET",
    }
    assert (account.settings["oauth2_provider"], account.settings["oauth2_client_id"]) == (
        "google",
        "1234-abc.apps.googleusercontent.com",
    )
    without_client = run(
        app, "channels", "add", "email", "--name", "x", "--imap-host", "h", "--user", "u@x.test",
        "--oauth2-refresh-token-env", "R",
    )  # fmt: skip
    assert without_client.exit_code == 2 and "--oauth2-client-id" in without_client.output


def test_importing_the_same_broken_mail_again_quarantines_it_once(app, session, support, tmp_path):
    archive = tmp_path / "archive.mbox"
    archive.write_bytes(mbox_of(mail(3), BROKEN))
    for _ in range(3):
        result = run(app, "email", "import", str(archive))
        assert result.exit_code == 0, result.output
    rows = session.scalars(sa.select(QuarantinedInput)).all()
    assert len(rows) == 1 and rows[0].seen_count == 3
    listed = run(app, "quarantine", "list")
    assert "(seen 3×)" in listed.output
