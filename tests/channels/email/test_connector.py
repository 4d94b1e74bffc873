"""The real EmailConnector (IMAPClient and smtplib, unchanged) against the loopback fake mail server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from channels.base import (
    AuthError,
    DiagnosisCode,
    FetchResult,
    OutboundReply,
    Party,
    TransientChannelError,
)
from channels.email.connector import EmailConnector
from channels.email.fake import EmailFake

Connect = Callable[..., EmailConnector]


def drain(connector: EmailConnector, cursor: str | None = None, limit: int = 500) -> tuple[list[FetchResult], str]:
    """Every page until ``more`` is false, and the last cursor."""
    pages = []
    for _ in range(100):
        page = connector.fetch(cursor, limit)
        pages.append(page)
        cursor = page.cursor
        if not page.more:
            assert cursor is not None
            return pages, cursor
    raise AssertionError("fetch never said it was done")


def ids(pages: list[FetchResult]) -> list[str]:
    return [m.external_id for page in pages for m in page.messages]


def test_a_fetch_reads_the_seeded_mail_oldest_first(fake: EmailFake, connect: Connect) -> None:
    fake.seed(messages=12)
    page = connect().fetch(None)
    assert len(page.messages) == 12 and not page.rejected and not page.more
    assert len(set(ids([page]))) == 12
    assert [m.sent_at for m in page.messages] == sorted(m.sent_at for m in page.messages)
    assert all(m.sender.email and m.body_text for m in page.messages)


def test_pages_follow_the_cursor_and_a_later_fetch_reads_only_new_mail(fake: EmailFake, connect: Connect) -> None:
    fake.seed(messages=12)
    connector = connect()
    pages, cursor = drain(connector, limit=5)
    assert [len(p.messages) for p in pages] == [5, 5, 2]
    assert [p.more for p in pages] == [True, True, False]
    assert connector.fetch(cursor).messages == []
    fake.seed(messages=3)
    later = connector.fetch(cursor)
    assert len(later.messages) == 3
    assert not set(ids([later])) & set(ids(pages))


def test_a_new_uidvalidity_reads_the_folder_again(fake: EmailFake, connect: Connect) -> None:
    fake.seed(messages=4)
    connector = connect()
    first, cursor = drain(connector)
    fake.reset_uidvalidity("INBOX")
    again = connector.fetch(cursor)
    assert ids([again]) == ids(first), "the old UIDs mean nothing now: everything is read again (dedupe drops it)"
    assert again.cursor != cursor


def test_committed_marks_mail_read_and_moves_it(fake: EmailFake, connect: Connect) -> None:
    fake.seed(messages=3)
    connector = connect(mark_seen=True, move_to="Processed")
    page = connector.fetch(None)
    assert all("\\Seen" not in flags for flags in fake.flags().values()), "reading must not mark mail read"
    connector.committed(page)
    assert fake.flags("INBOX") == {}
    moved = fake.flags("Processed")
    assert len(moved) == 3 and all("\\Seen" in flags for flags in moved.values())


def test_committed_only_marks_read_when_nothing_is_moved(fake: EmailFake, connect: Connect) -> None:
    fake.seed(messages=2)
    connector = connect(mark_seen=True)
    connector.committed(connector.fetch(None))
    assert list(fake.flags().values()) == [{"\\Seen"}, {"\\Seen"}]


def test_the_idle_watcher_rings_within_a_second_of_delivery(fake: EmailFake, connect: Connect) -> None:
    rings: list[float] = []
    rung = threading.Event()

    def ring() -> None:
        rings.append(time.monotonic())
        rung.set()

    watcher = connect().watcher(ring)
    assert watcher is not None
    watcher.start()
    try:
        assert rung.wait(5), "a watcher rings once when it starts listening"
        rung.clear()
        time.sleep(max(0.0, rings[0] + 1.05 - time.monotonic()))  # past the watcher's one-ring-per-second guard
        fake.seed(messages=1)
        delivered = time.monotonic()
        assert rung.wait(2)
        assert rings[-1] - delivered < 1.0
    finally:
        watcher.stop()
    assert "IDLE" in fake.imap.commands


def test_a_dropped_connection_is_transient_and_the_next_fetch_recovers(fake: EmailFake, connect: Connect) -> None:
    fake.seed(messages=3)
    connector = connect()
    fake.server_error_next(command="FETCH")
    with pytest.raises(TransientChannelError, match="connection lost"):
        connector.fetch(None)
    assert len(connector.fetch(None).messages) == 3


def test_refused_credentials_are_an_auth_error(fake: EmailFake, connect: Connect) -> None:
    fake.seed(messages=1)
    fake.revoke_credentials()
    with pytest.raises(AuthError, match="AUTHENTICATIONFAILED"):
        connect().fetch(None)


def test_an_answer_slower_than_the_timeout_is_transient(fake: EmailFake, connect: Connect) -> None:
    fake.seed(messages=1)
    connector = connect(timeout_s=1)
    fake.slow_next(1.6, command="SEARCH")
    started = time.monotonic()
    with pytest.raises(TransientChannelError, match="timed out"):
        connector.fetch(None)
    assert time.monotonic() - started < 1.5
    assert len(connector.fetch(None).messages) == 1


def test_a_malformed_mail_is_rejected_while_the_page_goes_on(fake: EmailFake, connect: Connect) -> None:
    fake.seed(messages=2)
    fake.add_malformed_record()
    fake.seed(messages=2)
    connector = connect()
    page = connector.fetch(None)
    assert len(page.messages) == 4
    assert len(page.rejected) == 1
    assert page.rejected[0].raw_format == "email" and "no sender" in page.rejected[0].reason
    assert connector.fetch(page.cursor).rejected == [], "the cursor moved past the rejected mail"


def test_a_mail_repeated_under_a_new_uid_keeps_its_message_id(fake: EmailFake, connect: Connect) -> None:
    fake.repeat_across_page_boundary()
    fake.seed(messages=8)
    pages, _ = drain(connect(), limit=5)
    read = ids(pages)
    assert len(read) == 10 and len(set(read)) == 8
    assert read[3] in ids(pages[:1]) and read[3] in ids(pages[1:]), "the copy lands on the next page"


def test_a_reply_arrives_over_smtp_threaded_to_the_buyer_mail(fake: EmailFake, connect: Connect) -> None:
    fake.seed(messages=1)
    connector = connect()
    buyer = connector.fetch(None).messages[0]
    reply = OutboundReply(
        message_id=41,
        ticket_id=7,
        account="m",
        to=buyer.sender,
        body_text="Thank you, the parcel left our warehouse today.",
        subject=buyer.subject,
        in_reply_to=buyer.external_id,
        references=buyer.references,
    )
    sent = connector.send_reply(reply)
    (wire,) = fake.replies
    assert wire["in_reply_to"] == buyer.external_id
    assert wire["references"][-1] == buyer.external_id
    assert wire["message_id"] == sent.external_id
    assert wire["to_address"] == buyer.sender.email and wire["from"].endswith(f"<{fake.user}>")
    assert "[#7]" in wire["subject"] and "left our warehouse" in wire["text"]
    assert wire["user"] == fake.user, "the reply was sent logged in"


def test_check_connection_says_ok(connect: Connect) -> None:
    diagnosis = connect().check_connection()
    assert diagnosis.code is DiagnosisCode.OK, diagnosis
    assert [c.name for c in diagnosis.checks] == ["messages", "replies"]


def test_check_connection_names_refused_credentials_for_imap_and_smtp(fake: EmailFake, connect: Connect) -> None:
    fake.revoke_credentials()
    diagnosis = connect().check_connection()
    assert diagnosis.code is DiagnosisCode.CREDENTIALS_REFUSED
    assert {c.code for c in diagnosis.checks} == {DiagnosisCode.CREDENTIALS_REFUSED}


def test_check_connection_names_a_stopped_server_unreachable(fake: EmailFake, connect: Connect) -> None:
    connector = connect(timeout_s=2)
    fake.stop()
    diagnosis = connector.check_connection()
    assert diagnosis.code is DiagnosisCode.UNREACHABLE
    assert {c.code for c in diagnosis.checks} == {DiagnosisCode.UNREACHABLE}


def test_check_connection_names_a_missing_folder(connect: Connect) -> None:
    diagnosis = connect(folder="Buyers").check_connection()
    assert diagnosis.code is DiagnosisCode.PLATFORM_ERROR
    assert "does not exist" in diagnosis.detail


# --- OAuth (XOAUTH2 with a refresh token) -------------------------------------------------------------


@pytest.fixture
def oauth_fake() -> object:
    with EmailFake(oauth=True) as server:
        yield server
        assert server.errors == []


def test_an_oauth_account_reads_and_sends_with_refreshed_tokens(oauth_fake: EmailFake) -> None:
    from tests.channels.email.conftest import account

    oauth_fake.seed(messages=2)
    connector = EmailConnector(account(oauth_fake))
    try:
        buyer = connector.fetch(None).messages[0]
        assert oauth_fake.token_refreshes == 1
        connector.send_reply(OutboundReply(1, 1, "m", to=Party(email=buyer.sender.email), body_text="On its way."))
        assert oauth_fake.replies[0]["user"] == oauth_fake.user
        connector.close()
        oauth_fake.expire_tokens()
        oauth_fake.seed(messages=1)
        assert len(connector.fetch(None).messages) == 3
        assert oauth_fake.token_refreshes == 2, "a refused token is refreshed once, and the login goes on"
    finally:
        connector.close()


def test_a_revoked_oauth_grant_is_an_auth_error(oauth_fake: EmailFake) -> None:
    from tests.channels.email.conftest import account

    connector = EmailConnector(account(oauth_fake))
    oauth_fake.revoke_credentials()
    try:
        with pytest.raises(AuthError, match="refused the refresh token"):
            connector.fetch(None)
    finally:
        connector.close()


def test_a_password_fake_has_no_tokens_to_expire(fake: EmailFake) -> None:
    with pytest.raises(NotImplementedError):
        fake.expire_tokens()
