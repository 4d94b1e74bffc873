"""Polling a real Dovecot mailbox: tickets exactly once, whatever the server or the wire does."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from channels.base import AccountConfig, Direction
from channels.email.connector import EmailConnector
from helpdesk.channelaccounts.models import ChannelAccount, Health
from helpdesk.ingest.models import QuarantinedInput
from helpdesk.polling.services import poll_account
from helpdesk.tickets.models import Message, Ticket
from tests.email_channel.conftest import BROKEN, PASSWORD, mail


def messages(session: Any) -> list[Message]:
    return list(session.scalars(sa.select(Message).order_by(Message.id)))


def count(session: Any, model: Any) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def cursor_of(session: Any, account: ChannelAccount) -> dict[str, Any]:
    session.refresh(account)
    return json.loads(account.cursor)


def test_poll_turns_mail_into_tickets_without_marking_it_read(session, mailbox, email_account):
    for n in range(3):
        mailbox.append(mail(n))
    account = email_account()

    report = poll_account(session, account.id)

    assert (report.error, report.ingested, report.pages) == (None, 3, 1)
    stored = messages(session)
    assert [m.external_id for m in stored] == [f"buyer-{n}@example.test" for n in range(3)]
    assert count(session, Ticket) == 3
    cursor = cursor_of(session, account)
    assert cursor["v"] == 1 and cursor["inbox"]["uid"] == 3 and cursor["inbox"]["uidvalidity"] > 0
    assert account.health == Health.OK
    assert all(b"\\Seen" not in flags for flags in mailbox.flags().values())  # BODY.PEEK


def test_three_polls_of_the_same_mailbox_make_no_duplicates(session, mailbox, email_account):
    for n in range(4):
        mailbox.append(mail(n))
    account = email_account()

    reports = [poll_account(session, account.id) for _ in range(3)]
    mailbox.append(mail(4))
    last = poll_account(session, account.id)

    assert [r.ingested for r in reports] == [4, 0, 0]
    assert last.ingested == 1 and last.duplicates == 0
    assert count(session, Message) == 5


def test_pages_follow_each_other_until_the_mailbox_is_read(session, mailbox, email_account):
    for n in range(5):
        mailbox.append(mail(n))
    account = email_account()

    report = poll_account(session, account.id, page_size=2)

    assert (report.pages, report.ingested) == (3, 5)
    assert cursor_of(session, account)["inbox"]["uid"] == 5


def test_a_mail_that_fails_to_parse_is_quarantined_and_the_rest_goes_on(session, mailbox, email_account):
    mailbox.append(mail(1))
    mailbox.append(BROKEN)
    mailbox.append(mail(2))
    account = email_account()

    report = poll_account(session, account.id)
    again = poll_account(session, account.id)

    assert (report.ingested, report.quarantined) == (2, 1)
    (entry,) = session.scalars(sa.select(QuarantinedInput)).all()
    assert (entry.raw_format, entry.account, entry.raw) == ("email", "support", BROKEN)
    assert "not an e-mail message" in entry.reason
    assert cursor_of(session, account)["inbox"]["uid"] == 3  # the cursor moved past it
    assert (again.ingested, again.quarantined) == (0, 0)


def test_uidvalidity_change_resyncs_without_duplicates(session, mailbox, email_account):
    for n in range(3):
        mailbox.append(mail(n), folder="Support")
    account = email_account(folder="Support")
    assert poll_account(session, account.id).ingested == 3
    before = cursor_of(session, account)["inbox"]

    mailbox.recreate("Support")  # new UIDVALIDITY, UIDs start at 1 again
    for n in range(4):  # the same three mails, plus one new
        mailbox.append(mail(n), folder="Support")
    report = poll_account(session, account.id)

    after = cursor_of(session, account)["inbox"]
    assert after["uidvalidity"] != before["uidvalidity"]
    assert after["uid"] == 4
    assert (report.ingested, report.duplicates) == (1, 3)
    assert count(session, Message) == 4


def test_a_connection_dropped_mid_fetch_loses_nothing_and_duplicates_nothing(
    session, mailbox, email_account, cutting_proxy
):
    for n in range(6):
        mailbox.append(mail(n, body=f"Question {n}\n" + "Padding to make the fetch long. " * 40))
    direct = email_account()
    proxy = cutting_proxy(cut_after=6000)  # greeting and login fit; the fetch of six mails does not
    session.execute(sa.update(ChannelAccount).values(settings={**direct.settings, "imap_port": proxy.port}))
    session.commit()

    dropped = poll_account(session, direct.id)

    session.refresh(direct)
    assert proxy.cuts == 1
    assert dropped.error is not None and dropped.error.startswith("temporary failure: IMAP")
    assert direct.health == Health.DEGRADED and direct.cursor is None
    assert count(session, Message) == 0

    proxy.cut_after = None
    first = poll_account(session, direct.id)
    second = poll_account(session, direct.id)

    session.refresh(direct)
    assert (first.error, first.ingested, second.ingested) == (None, 6, 0)
    assert direct.health == Health.OK and direct.consecutive_failures == 0
    assert sorted(m.external_id for m in messages(session)) == [f"buyer-{n}@example.test" for n in range(6)]


def test_refused_credentials_become_failing_health(session, mailbox, email_account, monkeypatch):
    mailbox.append(mail(1))
    account = email_account()
    monkeypatch.setenv("TEST_MAILBOX_PASSWORD", "wrong")

    report = poll_account(session, account.id)

    session.refresh(account)
    assert report.error is not None and report.error.startswith("credentials refused: IMAP login refused")
    assert account.health == Health.FAILING and account.next_poll_at is not None
    assert count(session, Message) == 0


def test_an_unreachable_server_is_a_temporary_failure(session, mailbox, email_account, cutting_proxy):
    proxy = cutting_proxy(cut_after=None)
    port = proxy.port
    proxy.close()  # nothing listens there any more
    account = email_account(port=port)

    report = poll_account(session, account.id)

    session.refresh(account)
    assert report.error is not None and "IMAP connection lost during connect" in report.error
    assert account.health == Health.DEGRADED


def test_mail_is_marked_read_and_moved_only_after_the_page_commits(session, mailbox, email_account):
    for n in range(2):
        mailbox.append(mail(n))
    account = email_account(mark_seen=True, move_to="Processed")

    report = poll_account(session, account.id)

    assert report.ingested == 2
    assert mailbox.count("INBOX") == 0
    moved = mailbox.flags("Processed")
    assert len(moved) == 2 and all(b"\\Seen" in flags for flags in moved.values())


def test_marking_waits_for_the_commit_hook(mailbox):
    mailbox.append(mail(1))
    connector = EmailConnector(_config(mailbox, mark_seen=True))
    try:
        page = connector.fetch(None, 10)
        assert [b"\\Seen" in f for f in mailbox.flags().values()] == [False]
        connector.committed(page)
        assert [b"\\Seen" in f for f in mailbox.flags().values()] == [True]
    finally:
        connector.close()


def test_our_own_sending_address_in_the_inbox_is_not_buyer_mail(session, mailbox, email_account):
    mailbox.append(mail(1, sender="Lampworks <support@lampworks.example>", to="jonas@example.test"))
    mailbox.append(mail(2))
    account = email_account()

    report = poll_account(session, account.id)

    assert report.ingested == 1
    assert [m.external_id for m in messages(session)] == ["buyer-2@example.test"]
    assert cursor_of(session, account)["inbox"]["uid"] == 2


def test_replies_from_the_sent_folder_join_their_ticket_as_agent_messages(session, mailbox, email_account):
    mailbox.append(mail(1))
    outside_reply = mail(
        2,
        sender="Lampworks <support@lampworks.example>",
        to="Jonas Weber <jonas@example.test>",
        subject="Re: Question 1 about my order",
        body="Your parcel left today.\n",
        message_id="<reply-from-thunderbird@lampworks.example>",
        extra={"In-Reply-To": "<buyer-1@example.test>", "References": "<buyer-1@example.test>"},
    )
    mailbox.append(outside_reply, folder="Sent")
    helpdesk_copy = mail(
        3,
        sender="support@lampworks.example",
        to="jonas@example.test",
        message_id="<helpdesk.77.0123456789abcdef@lampworks.example>",
    )
    mailbox.append(helpdesk_copy, folder="Sent")
    account = email_account(sent_folder="Sent")

    report = poll_account(session, account.id)
    again = poll_account(session, account.id)

    assert (report.ingested, again.ingested) == (2, 0)
    buyer, agent = messages(session)
    assert agent.ticket_id == buyer.ticket_id
    assert agent.external_id == "reply-from-thunderbird@lampworks.example"
    assert (agent.direction, agent.delivery_state) == (Direction.OUT, "sent")
    cursor = cursor_of(session, account)
    assert cursor["sent"]["uid"] == 2 and cursor["inbox"]["uid"] == 1


def _config(mailbox: Any, **settings: Any) -> AccountConfig:
    values = {"imap_host": mailbox.host, "imap_port": mailbox.port, "imap_security": "none", "user": mailbox.user}
    values.update(settings)
    return AccountConfig(name="support", kind="email", settings=values, secrets={"password": PASSWORD})


def test_unusable_settings_become_failing_health_not_a_crash(session, email_account):
    account = email_account(imap_security="tls-please")

    report = poll_account(session, account.id)

    session.refresh(account)
    assert report.error == "setting 'imap_security' must be one of ssl, starttls, none, not 'tls-please'"
    assert account.health == Health.FAILING


def test_a_missing_folder_is_named(session, mailbox, email_account):
    account = email_account(sent_folder="Sent Items")

    report = poll_account(session, account.id)

    assert (
        report.error is not None and f"folder 'Sent Items' does not exist in mailbox '{mailbox.user}'" in report.error
    )
