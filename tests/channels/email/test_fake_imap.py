"""The fake IMAP server as IMAPClient sees it: the commands beyond the connector's everyday path."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from channels.email.fake import EmailFake
from channels.email.fake_imap import parse_set, tokenize

MAIL = b"From: Emily Carter <emily@example.com>\r\nSubject: Lamp\r\nMessage-ID: <m1@example.com>\r\n\r\nHello!\r\n"


@contextmanager
def imap(fake: EmailFake, *, login: bool = True) -> Iterator[IMAPClient]:
    client = IMAPClient(fake.host, port=fake.imap_port, ssl=False, timeout=5)
    try:
        if login:
            client.login(fake.user, fake.password)
        yield client
    finally:
        try:
            client.logout()
        except Exception:
            client.shutdown()


def test_the_greeting_and_capabilities_name_what_the_connector_relies_on(fake: EmailFake) -> None:
    with imap(fake, login=False) as client:
        assert b"CAPABILITY" in client.welcome
        for capability in ("IMAP4REV1", "IDLE", "UIDPLUS", "MOVE", "LITERAL+", "AUTH=PLAIN", "AUTH=XOAUTH2"):
            assert client.has_capability(capability), capability


def test_a_wrong_password_is_refused_with_a_response_code(fake: EmailFake) -> None:
    with imap(fake, login=False) as client, pytest.raises(LoginError, match="AUTHENTICATIONFAILED"):
        client.login(fake.user, "guess")


def test_plain_and_xoauth2_logins(fake: EmailFake) -> None:
    with imap(fake, login=False) as client:
        client.plain_login(fake.user, fake.password)
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
    token = fake.issue_token()
    with imap(fake, login=False) as client:
        client.oauth2_login(fake.user, token)
    with imap(fake, login=False) as client, pytest.raises(LoginError):
        client.oauth2_login(fake.user, "ya29.not-issued")


def test_select_reports_uidvalidity_uidnext_and_read_write(fake: EmailFake) -> None:
    fake.deliver(MAIL)
    with imap(fake) as client:
        selected = client.select_folder("INBOX")
        assert selected[b"EXISTS"] == 1 and selected[b"RECENT"] == 1 and selected[b"UIDNEXT"] == 2
        assert selected[b"READ-WRITE"] is True and b"\\Seen" in selected[b"FLAGS"]
        examined = client.select_folder("INBOX", readonly=True)
        assert examined[b"UIDVALIDITY"] == selected[b"UIDVALIDITY"] and b"READ-ONLY" in examined
        assert examined[b"RECENT"] == 0, "a read-write SELECT took the mail's \\Recent"
        assert client.folder_status("INBOX", ["MESSAGES", "UNSEEN", "UIDNEXT"]) == {
            b"MESSAGES": 1,
            b"UNSEEN": 1,
            b"UIDNEXT": 2,
        }


def test_folders_are_listed_created_and_missing_ones_refused(fake: EmailFake) -> None:
    with imap(fake) as client:
        assert client.folder_exists("INBOX") and client.folder_exists("inbox") and client.folder_exists("Sent")
        assert not client.folder_exists("Processed")
        client.create_folder("Processed")
        client.create_folder("Verarbeitet/Ärger")  # modified UTF-7 on the wire, both ways
        names = [name for _, _, name in client.list_folders()]
        assert {"INBOX", "Sent", "Processed", "Verarbeitet/Ärger"} <= set(names)
        assert [n for _, _, n in client.list_folders(pattern="%")] == ["INBOX", "Processed", "Sent"]
        assert (b"\\HasNoChildren", b"\\Sent") in [f for f, _, _ in client.list_folders(pattern="Sent")]
        with pytest.raises(IMAPClientError, match="ALREADYEXISTS"):
            client.create_folder("Processed")
        with pytest.raises(IMAPClientError, match="NONEXISTENT"):
            client.select_folder("Nowhere")


def test_append_keeps_flags_and_date_and_fetch_returns_every_item(fake: EmailFake) -> None:
    when = datetime(2026, 1, 5, 9, 30, 15, tzinfo=UTC)
    with imap(fake) as client:
        client.normalise_times = False
        answer = client.append("INBOX", MAIL, flags=[b"\\Flagged"], msg_time=when)
        assert b"APPENDUID" in answer
        client.select_folder("INBOX")
        data = client.fetch([1], ["BODY.PEEK[]", "INTERNALDATE", "FLAGS", "RFC822.SIZE"])[1]
        assert data[b"BODY[]"] == MAIL and data[b"RFC822.SIZE"] == len(MAIL)
        assert data[b"INTERNALDATE"] == when and data[b"FLAGS"] == (b"\\Flagged",)
        header = client.fetch([1], ["BODY.PEEK[HEADER.FIELDS (SUBJECT MESSAGE-ID)]"])[1]
        assert header[b"BODY[HEADER.FIELDS (SUBJECT MESSAGE-ID)]"] == (
            b"Subject: Lamp\r\nMessage-ID: <m1@example.com>\r\n\r\n"
        )
        assert client.get_flags([1]) == {1: (b"\\Flagged",)}, "BODY.PEEK[] must not set \\Seen"
        body = client.fetch([1], ["BODY[TEXT]"])[1]
        assert body[b"BODY[TEXT]"] == b"Hello!\r\n" and b"\\Seen" in body[b"FLAGS"]
        assert client.fetch([1], ["BODY.PEEK[]<0.4>"])[1][b"BODY[]<0>"] == b"From"


def test_search_finds_by_uid_range_flags_headers_and_sequence(fake: EmailFake) -> None:
    for n in range(1, 6):
        fake.deliver(MAIL.replace(b"Lamp", f"Lamp {n}".encode()), flags=["\\Seen"] if n % 2 else [])
    with imap(fake) as client:
        client.select_folder("INBOX", readonly=True)
        assert client.search(["UID", "3:*"]) == [3, 4, 5]
        assert client.search(["UID", "9:*"]) == [5], "n:* always matches the last mail (RFC 3501)"
        assert client.search("ALL") == [1, 2, 3, 4, 5]
        assert client.search(["UNSEEN"]) == [2, 4]
        assert client.search(["NOT", "SEEN", "SUBJECT", "Lamp 4"]) == [4]
        assert client.search(["OR", "SUBJECT", "Lamp 1", "SUBJECT", "Lamp 5"]) == [1, 5]
        assert client.search(["FROM", "emily"]) == [1, 2, 3, 4, 5]
        assert client.search(["TEXT", "hello", "UID", "1,2"]) == [1, 2]
        with pytest.raises(IMAPClientError):
            client.search(["SENTSINCE", "1-Jan-2026"])


def test_eight_bit_search_criteria_travel_as_non_synchronising_literals(fake: EmailFake) -> None:
    fake.deliver(MAIL.replace(b"Hello!", "Viele Grüße, Jürgen".encode()))
    fake.deliver(MAIL)
    with imap(fake) as client:
        client.select_folder("INBOX", readonly=True)
        assert client.search(["TEXT", "Grüße"], charset="UTF-8") == [1]  # sent as {7+} under LITERAL+


def test_store_copy_move_and_expunge_by_uid(fake: EmailFake) -> None:
    for _ in range(4):
        fake.deliver(MAIL)
    with imap(fake) as client:
        client.create_folder("Archive")
        client.select_folder("INBOX")
        assert client.add_flags([1, 2], [b"\\Seen"]) == {1: (b"\\Seen",), 2: (b"\\Seen",)}
        assert client.remove_flags([2], [b"\\Seen"]) == {2: ()}
        client.copy([1], "Archive")
        client.move([2], "Archive")
        client.add_flags([3, 4], [b"\\Deleted"], silent=True)
        client.uid_expunge([3])
        assert client.search("ALL") == [1, 4]
        client.expunge()
        assert client.search("ALL") == [1]
        with pytest.raises(IMAPClientError, match="TRYCREATE"):
            client.move([1], "Nowhere")
    assert fake.flags("Archive") == {1: {"\\Seen"}, 2: set()}
    assert fake.flags("INBOX") == {1: {"\\Seen"}}


def test_a_read_only_folder_refuses_changes(fake: EmailFake) -> None:
    fake.deliver(MAIL)
    with imap(fake) as client:
        client.select_folder("INBOX", readonly=True)
        with pytest.raises(IMAPClientError, match="READ-ONLY"):
            client.add_flags([1], [b"\\Seen"])
        client.fetch([1], ["BODY[]"])
    assert fake.flags() == {1: set()}, "a read-only fetch of BODY[] leaves \\Seen alone"


def test_close_expunges_deleted_mail_and_noop_reports_new_mail(fake: EmailFake) -> None:
    fake.deliver(MAIL)
    with imap(fake) as client:
        client.select_folder("INBOX")
        fake.deliver(MAIL)
        _, responses = client.noop()
        assert (2, b"EXISTS") in responses
        client.add_flags([1], [b"\\Deleted"], silent=True)
        client.close_folder()
    assert list(fake.flags()) == [2]


def test_idle_pushes_exists_when_mail_is_delivered(fake: EmailFake) -> None:
    with imap(fake) as client:
        client.select_folder("INBOX", readonly=True)
        client.idle()
        fake.deliver(MAIL)
        assert client.idle_check(timeout=2) == [(1, b"EXISTS")]
        fake.seed(messages=3)
        assert client.idle_check(timeout=2) == [(4, b"EXISTS")], "a batch is announced once"
        client.idle_done()
        assert client.search("ALL") == [1, 2, 3, 4]


def test_many_clients_read_at_once(fake: EmailFake) -> None:
    fake.seed(messages=30)
    counts: list[int] = []
    failures: list[BaseException] = []

    def read() -> None:
        try:
            with imap(fake) as client:
                client.select_folder("INBOX", readonly=True)
                counts.append(len(client.fetch(client.search(["UID", "1:*"]), ["BODY.PEEK[]"])))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=read) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert failures == [] and counts == [30] * 40


def test_a_synchronising_literal_waits_for_the_go_ahead(fake: EmailFake) -> None:
    with socket.create_connection((fake.host, fake.imap_port), timeout=5) as sock:
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"* OK")
        user = fake.user.encode()
        sock.sendall(b"a1 LOGIN {%d}\r\n" % len(user))
        assert reader.readline().startswith(b"+ ")
        sock.sendall(user + b" " + b'"' + fake.password.encode() + b'"\r\n')
        assert reader.readline().startswith(b"a1 OK")
        sock.sendall(b"a2 AUTHENTICATE XOAUTH2 " + base64.b64encode(b"user=x\x01auth=Bearer y\x01\x01") + b"\r\n")
        assert reader.readline().startswith(b"a2 BAD"), "AUTHENTICATE is for the not-yet-authenticated"
        sock.sendall(b"a3 FETCH 1 (FLAGS)\r\n")
        assert reader.readline().startswith(b"a3 BAD"), "FETCH needs a selected folder"
        sock.sendall(b"a4 LOGOUT\r\n")
        assert reader.readline().startswith(b"* BYE")
        reader.close()


def test_the_command_syntax() -> None:
    tokens = tokenize([b'a1 UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (FROM TO)] "quo\\"ted")'])
    assert tokens == ["a1", "UID", "FETCH", "1:*", ["UID", "BODY.PEEK[HEADER.FIELDS (FROM TO)]", 'quo"ted']]
    assert parse_set("1:3,7,9:*", largest=12) == [(1, 3), (7, 7), (9, 12)]
    assert parse_set("20:*", largest=12) == [(12, 20)]
