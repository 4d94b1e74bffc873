"""The IMAP4rev1 half of the loopback fake mail server (:mod:`channels.email.fake`).

The e-mail connector reads mail through IMAPClient, and the demo, the shared
connector contract and the benchmarks must run it on machines without a
mail server.  This module speaks enough IMAP4rev1 (RFC 3501) with IDLE
(RFC 2177), UIDPLUS (RFC 4315), MOVE (RFC 6851) and LITERAL+ (RFC 7888) for
what IMAPClient and :mod:`imaplib` really send on the connector's paths:
``LOGIN``, ``AUTHENTICATE XOAUTH2``/``PLAIN``, ``LIST``/``LSUB`` (what
``folder_exists`` asks), ``CREATE``, ``SELECT``/``EXAMINE``, ``STATUS``,
``UID SEARCH``, ``UID FETCH`` with literals, ``UID STORE``, ``UID COPY``,
``UID MOVE``, ``UID EXPUNGE``, ``APPEND``, ``IDLE``/``DONE`` and the rest of
the basics.  Every connection runs in its own thread; mail delivered while a
client idles on its folder is announced at once with ``* n EXISTS``.

Faults are injected per command (:meth:`ImapServer.add_fault`): the
connection is dropped without an answer, or the answer is held back.  Who
may log in is the caller's decision (``check_login``, ``check_token``), so
the server knows nothing of passwords or tokens.

Deliberately missing: STARTTLS, SORT/THREAD, ENVELOPE and BODYSTRUCTURE.
Sequence numbers are computed live from the shared folder, so a session is
not told about mail another session expunged (a real server queues those
``EXPUNGE`` responses); the connector reads by UID and never notices.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import logging
import re
import socket
import socketserver
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime

log = logging.getLogger(__name__)

CAPABILITIES = "IMAP4rev1 IDLE UIDPLUS MOVE UNSELECT LITERAL+ AUTH=PLAIN AUTH=XOAUTH2"
SYSTEM_FLAGS = ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")
MAX_LINE = 64 * 1024
MAX_LITERAL = 64 * 1024 * 1024
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_LITERAL_AT_END = re.compile(rb"\{(\d+)(\+?)\}$")
_SECTION = re.compile(r"^(BODY(?:\.PEEK)?)\[([^\]]*)\](?:<(\d+)(?:\.(\d+))?>)?$")

CheckLogin = Callable[[str, str], bool]


# --- mail and folders ------------------------------------------------------------------------------


@dataclass(eq=False)
class StoredMail:
    """One message in a folder: its UID, bytes, flags and INTERNALDATE."""

    uid: int
    raw: bytes
    flags: set[str]
    internaldate: datetime
    recent: bool = True

    def header(self) -> bytes:
        """The header block, with the blank line that ends it."""
        end = self.raw.find(b"\r\n\r\n")
        if end >= 0:
            return self.raw[: end + 4]
        end = self.raw.find(b"\n\n")
        return self.raw[: end + 2] if end >= 0 else self.raw

    def text(self) -> bytes:
        return self.raw[len(self.header()) :]


class Folder:
    """A mailbox folder: mail ordered by UID (sequence number = position + 1)."""

    def __init__(self, name: str, uidvalidity: int) -> None:
        self.name = name
        self.uidvalidity = uidvalidity
        self.uidnext = 1
        self.mails: list[StoredMail] = []

    def __len__(self) -> int:
        return len(self.mails)

    def add(self, raw: bytes, flags: Iterable[str] = (), when: datetime | None = None) -> StoredMail:
        mail = StoredMail(self.uidnext, raw, set(flags), when or datetime.now(UTC))
        self.uidnext += 1
        self.mails.append(mail)
        return mail

    def seq(self, mail: StoredMail) -> int:
        return bisect.bisect_left(self.mails, mail.uid, key=lambda m: m.uid) + 1

    def by_uids(self, ranges: Sequence[tuple[int, int]]) -> list[StoredMail]:
        """Mail whose UID falls in any of ``ranges``, in UID order (found by bisection)."""
        found: dict[int, StoredMail] = {}
        for low, high in ranges:
            start = bisect.bisect_left(self.mails, low, key=lambda m: m.uid)
            stop = bisect.bisect_right(self.mails, high, key=lambda m: m.uid)
            for mail in self.mails[start:stop]:
                found[mail.uid] = mail
        return [found[uid] for uid in sorted(found)]

    def by_seqs(self, ranges: Sequence[tuple[int, int]]) -> list[StoredMail]:
        picked: set[int] = set()
        for low, high in ranges:
            picked.update(range(max(low, 1), min(high, len(self.mails)) + 1))
        return [self.mails[n - 1] for n in sorted(picked)]

    def remove(self, doomed: Iterable[StoredMail]) -> list[int]:
        """Take ``doomed`` out; their sequence numbers, highest first (the order to announce them in)."""
        gone = {id(m) for m in doomed}
        seqs = [n for n, mail in enumerate(self.mails, 1) if id(mail) in gone]
        self.mails = [m for m in self.mails if id(m) not in gone]
        return sorted(seqs, reverse=True)

    def renumber(self, uidvalidity: int) -> None:
        """What a server does when it rebuilds its index: a new UIDVALIDITY and fresh UIDs from 1."""
        self.uidvalidity = uidvalidity
        for n, mail in enumerate(self.mails, 1):
            mail.uid = n
        self.uidnext = len(self.mails) + 1


class MailStore:
    """The folders of one mailbox, and who has which folder open.

    ``lock`` guards the folders; sessions hold it while a command runs, and
    announce new mail to idling clients only after releasing it.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.folders: dict[str, Folder] = {}
        self._validity = int(time.time())
        self.sessions: set[Session] = set()

    @staticmethod
    def key(name: str) -> str:
        return "INBOX" if name.upper() == "INBOX" else name

    def get(self, name: str) -> Folder | None:
        return self.folders.get(self.key(name))

    def _next_validity(self) -> int:
        self._validity += 1
        return self._validity

    def create(self, name: str) -> Folder:
        with self.lock:
            key = self.key(name)
            folder = self.folders.get(key)
            if folder is None:
                folder = self.folders[key] = Folder(key, self._next_validity())
            return folder

    def delete(self, name: str) -> bool:
        with self.lock:
            return self.folders.pop(self.key(name), None) is not None

    def deliver(
        self, raw: bytes, folder: str = "INBOX", flags: Iterable[str] = (), when: datetime | None = None
    ) -> StoredMail:
        """Add one mail (the folder is created if needed) and tell clients idling on it."""
        with self.lock:
            target = self.create(folder)
            mail = target.add(raw, flags, when)
        self.announce(target)
        return mail

    def reset_uidvalidity(self, name: str) -> int:
        """Give ``name`` a new UIDVALIDITY and renumber its mail; the new value."""
        with self.lock:
            folder = self.create(name)
            folder.renumber(self._next_validity())
            return folder.uidvalidity

    def announce(self, folder: Folder) -> None:
        """``* n EXISTS`` to every client idling on ``folder`` (outside the lock: sockets may be slow)."""
        with self.lock:
            count = len(folder)
            listening = [s for s in self.sessions if s.folder is folder]
        for session in listening:
            session.push_exists(count)


# --- wire syntax -----------------------------------------------------------------------------------


class _Literal(bytes):
    """A literal's bytes, kept apart from the text around it while a command is read."""


class BadCommand(ValueError):
    """The client sent something this server cannot parse; answered with BAD."""


Token = str | bytes | list["Token"]


def tokenize(parts: Sequence[bytes]) -> list[Token]:
    """A command's text and literals → atoms and quoted strings (str), literals (bytes), lists."""
    flat: list[object] = []
    for part in parts:
        if isinstance(part, _Literal):
            flat.append(bytes(part))
        else:
            flat.extend(_lex(part.decode("utf-8", "surrogateescape")))
    stack: list[list[Token]] = [[]]
    for item in flat:
        if item is _OPEN:
            stack.append([])
        elif item is _CLOSE:
            if len(stack) == 1:
                raise BadCommand("unbalanced ')'")
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(item)  # type: ignore[arg-type]
    if len(stack) != 1:
        raise BadCommand("unbalanced '('")
    return stack[0]


_OPEN, _CLOSE = object(), object()


def _lex(text: str) -> Iterable[object]:
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == " ":
            i += 1
        elif c == "(":
            yield _OPEN
            i += 1
        elif c == ")":
            yield _CLOSE
            i += 1
        elif c == '"':
            out, i = [], i + 1
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                out.append(text[i])
                i += 1
            if i >= n:
                raise BadCommand("unterminated quoted string")
            yield "".join(out)
            i += 1
        else:
            start, depth = i, 0
            while i < n and (depth or text[i] not in " ()"):
                if text[i] == "[":
                    depth += 1
                elif text[i] == "]":
                    depth = max(depth - 1, 0)
                i += 1
            yield text[start:i]


def parse_set(text: str, largest: int) -> list[tuple[int, int]]:
    """``1:4,7,9:*`` → ranges; ``*`` is ``largest``, and ``n:*`` with n beyond it still covers ``largest``."""
    ranges = []
    for piece in text.split(","):
        ends = piece.split(":")
        if len(ends) > 2 or not all(e == "*" or e.isdigit() for e in ends):
            raise BadCommand(f"bad sequence set {text!r}")
        low, high = (largest if e == "*" else int(e) for e in (ends[0], ends[-1]))
        ranges.append((min(low, high), max(low, high)))
    return ranges


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def internaldate(when: datetime) -> str:
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    offset = when.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{when.day:02d}-{_MONTHS[when.month - 1]}-{when.year} {when:%H:%M:%S} {sign}{hours:02d}{mins:02d}"


def parse_internaldate(text: str) -> datetime:
    try:
        return datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError as exc:
        raise BadCommand(f"bad date-time {text!r}") from exc


def _text(token: Token) -> str:
    if isinstance(token, list):
        raise BadCommand("a string was expected, not a list")
    return token.decode("utf-8", "surrogateescape") if isinstance(token, bytes) else token


def _flags(token: Token) -> list[str]:
    items = token if isinstance(token, list) else [token]
    return [_text(t) for t in items]


def _canonical_flag(flag: str) -> str:
    """System flags compare case-insensitively; store them in their canonical spelling."""
    for known in SYSTEM_FLAGS:
        if flag.lower() == known.lower():
            return known
    return flag


# --- the server ------------------------------------------------------------------------------------


@dataclass
class Fault:
    """A failure for the next ``times`` commands (named ``command``, or any): drop the connection, or wait."""

    kind: str  # "drop" | "slow"
    times: int = 1
    delay_s: float = 0.0
    command: str | None = None


class _TcpServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    request_queue_size = 128  # socketserver's 5 drops SYNs when a demo's pollers and watchers connect at once
    daemon_threads = False  # stop() joins every session thread; none outlives the fake
    block_on_close = True

    def __init__(self, address: tuple[str, int], imap: ImapServer) -> None:
        self.imap = imap
        super().__init__(address, _Handler)


class _Handler(socketserver.BaseRequestHandler):
    server: _TcpServer

    def handle(self) -> None:
        Session(self.server.imap, self.request).run()


class ImapServer:
    """A threaded IMAP server on ``host`` (a random port unless given) over one :class:`MailStore`."""

    def __init__(
        self,
        store: MailStore,
        user: str,
        check_login: CheckLogin,
        check_token: CheckLogin,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.store = store
        self.user = user
        self.check_login = check_login
        self.check_token = check_token
        self.host = host
        self._requested_port = port
        self.faults: list[Fault] = []
        self.errors: list[str] = []  # the fake's own failures, for tests to assert empty
        self.commands: deque[str] = deque(maxlen=10_000)  # recent command names (``UID FETCH``, ``IDLE``…)
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._tcp: _TcpServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.stopping.clear()
        self._tcp = _TcpServer((self.host, self._requested_port), self)
        tcp = self._tcp
        self._thread = threading.Thread(target=lambda: tcp.serve_forever(0.05), name="fake-imap", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Refuse new connections, cut the open ones and wait for every session thread."""
        tcp, self._tcp = self._tcp, None
        if tcp is None:
            return
        self.stopping.set()
        tcp.shutdown()
        with self.store.lock:
            sessions = list(self.store.sessions)
        for session in sessions:
            session.cut()
        tcp.server_close()
        if self._thread is not None:
            self._thread.join(5)

    @property
    def port(self) -> int:
        assert self._tcp is not None, "start the fake first"
        return int(self._tcp.server_address[1])

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def take_fault(self, command: str) -> Fault | None:
        with self._lock:
            self.commands.append(command)
            for fault in self.faults:
                if fault.command is None or fault.command.upper() in {command, command.rsplit(maxsplit=1)[-1]}:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None


# --- one connection --------------------------------------------------------------------------------


class _Drop(Exception):
    """End the connection now, without an answer."""


class Session:
    """One client connection: its state, selected folder and IDLE, and the command dispatch."""

    def __init__(self, server: ImapServer, sock: socket.socket) -> None:
        self.server = server
        self.store = server.store
        self.sock = sock
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # answers go out in pieces; no Nagle stalls
        self.rfile = sock.makefile("rb")
        self.state = "nonauth"
        self.folder: Folder | None = None
        self.readonly = False
        self.reported = 0  # the EXISTS count this client last heard
        self.idling = False
        self._write = threading.Lock()

    # --- plumbing ------------------------------------------------------------------------------

    def send(self, data: bytes | str) -> None:
        with self._write:
            self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def cut(self) -> None:
        """Shut the socket so a thread blocked reading it wakes (server stop, dropped connection)."""
        with suppress(OSError):  # already gone
            self.sock.shutdown(socket.SHUT_RDWR)

    def push_exists(self, count: int) -> None:
        """Announce new mail, but only to a client idling on this folder (others hear at NOOP)."""
        with self._write:
            if not self.idling or count == self.reported:
                return
            self.reported = count
            with suppress(OSError):  # the client left; its thread cleans up
                self.sock.sendall(f"* {count} EXISTS\r\n".encode())

    def run(self) -> None:
        with self.store.lock:  # stop() cuts what is registered; a later arrival sees ``stopping`` below
            self.store.sessions.add(self)
        try:
            self.send(f"* OK [CAPABILITY {CAPABILITIES}] Fake IMAP4rev1 server ready\r\n")
            while not self.server.stopping.is_set():
                parts = self.read_command()
                if parts is None or not self.handle(parts):
                    break
        except (OSError, _Drop):
            pass  # the client went away or a fault cut the connection
        finally:
            with self.store.lock:
                self.store.sessions.discard(self)
            self.cut()
            self.rfile.close()

    def read_line(self) -> bytes | None:
        line = self.rfile.readline(MAX_LINE)
        if not line:
            return None
        if not line.endswith(b"\n"):
            raise _Drop  # a line longer than any command: not an IMAP client
        return line.rstrip(b"\r\n")

    def read_command(self) -> list[bytes] | None:
        """One command: its text, with each literal read (after ``+`` for a synchronising one)."""
        parts: list[bytes] = []
        while True:
            line = self.read_line()
            if line is None:
                return None
            found = _LITERAL_AT_END.search(line)
            if found is None:
                parts.append(line)
                return parts
            size = int(found.group(1))
            if size > MAX_LITERAL:
                raise _Drop
            parts.append(line[: found.start()])
            if not found.group(2):
                self.send(b"+ Ready for literal data\r\n")
            data = self.rfile.read(size)
            if len(data) < size:
                return None
            parts.append(_Literal(data))

    def handle(self, parts: list[bytes]) -> bool:
        """Run one command; False when the connection should end."""
        try:
            tokens = tokenize(parts)
        except BadCommand as exc:
            self.send(f"* BAD {exc}\r\n")
            return True
        if len(tokens) < 2 or not isinstance(tokens[0], str) or not isinstance(tokens[1], str):
            self.send("* BAD expected a tag and a command\r\n")
            return True
        tag, name, args = tokens[0], tokens[1].upper(), tokens[2:]
        uid = name == "UID"
        if uid:
            if not args or not isinstance(args[0], str):
                self.send(f"{tag} BAD UID needs a command\r\n")
                return True
            name, args = args[0].upper(), args[1:]
        fault = self.server.take_fault(f"UID {name}" if uid else name)
        if fault is not None:
            if fault.kind == "drop":
                raise _Drop
            self.server.stopping.wait(fault.delay_s)
        handler = self._handler(name, uid)
        if handler is None:
            self.send(f"{tag} BAD unknown or misplaced command {name}\r\n")
            return True
        try:
            return handler(tag, args, uid) is not False
        except BadCommand as exc:
            self.send(f"{tag} BAD {exc}\r\n")
        except (OSError, _Drop):
            raise
        except Exception as exc:  # the fake's own bug: say so on the wire and keep it for the test
            log.exception("fake IMAP failed on %s", name)
            self.server.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            self.send(f"{tag} BAD [SERVERBUG] {type(exc).__name__}\r\n")
        return True

    def _handler(self, name: str, uid: bool) -> Callable[[str, list[Token], bool], bool | None] | None:
        anywhere = {"CAPABILITY", "NOOP", "LOGOUT"}
        nonauth = {"LOGIN", "AUTHENTICATE"}
        authed = {"SELECT", "EXAMINE", "CREATE", "DELETE", "LIST", "LSUB", "STATUS", "APPEND", "IDLE"}
        authed |= {"SUBSCRIBE", "UNSUBSCRIBE"}
        selected = {"CLOSE", "UNSELECT", "EXPUNGE", "SEARCH", "FETCH", "STORE", "COPY", "MOVE"}
        with_uid = {"SEARCH", "FETCH", "STORE", "COPY", "MOVE", "EXPUNGE"}
        if uid and name not in with_uid:
            return None
        allowed = (
            name in anywhere
            or (name in nonauth and self.state == "nonauth")
            or (name in authed and self.state != "nonauth")
            or (name in selected and self.state == "selected")
        )
        if not allowed:
            return None
        method: Callable[[str, list[Token], bool], bool | None] = getattr(self, "cmd_" + name.lower())
        return method

    def _tagged(self, tag: str, status: str, text: str) -> None:
        self.send(f"{tag} {status} {text}\r\n")

    def _folder(self) -> Folder:
        assert self.folder is not None
        return self.folder

    # --- any state -----------------------------------------------------------------------------

    def cmd_capability(self, tag: str, args: list[Token], uid: bool) -> None:
        self.send(f"* CAPABILITY {CAPABILITIES}\r\n")
        self._tagged(tag, "OK", "CAPABILITY completed")

    def cmd_noop(self, tag: str, args: list[Token], uid: bool) -> None:
        self._report_exists()
        self._tagged(tag, "OK", "NOOP completed")

    def cmd_logout(self, tag: str, args: list[Token], uid: bool) -> bool:
        self.send("* BYE Fake IMAP server logging out\r\n")
        self._tagged(tag, "OK", "LOGOUT completed")
        return False

    def _report_exists(self) -> None:
        if self.folder is None:
            return
        with self.store.lock:
            count = len(self.folder)
        if count != self.reported:
            self.reported = count
            self.send(f"* {count} EXISTS\r\n")

    # --- logging in ----------------------------------------------------------------------------

    def _logged_in(self, tag: str, ok: bool) -> None:
        if ok:
            self.state = "auth"
            self._tagged(tag, "OK", f"[CAPABILITY {CAPABILITIES}] Logged in")
        else:
            self._tagged(tag, "NO", "[AUTHENTICATIONFAILED] Authentication failed.")

    def cmd_login(self, tag: str, args: list[Token], uid: bool) -> None:
        if len(args) != 2:
            raise BadCommand("LOGIN needs a user and a password")
        self._logged_in(tag, self.server.check_login(_text(args[0]), _text(args[1])))

    def cmd_authenticate(self, tag: str, args: list[Token], uid: bool) -> None:
        if not args:
            raise BadCommand("AUTHENTICATE needs a mechanism")
        mechanism = _text(args[0]).upper()
        if mechanism not in {"PLAIN", "XOAUTH2"}:
            self._tagged(tag, "NO", f"[CANNOT] mechanism {mechanism} is not offered")
            return
        if len(args) > 1:  # SASL-IR style initial response
            answer: bytes | None = _text(args[1]).encode()
        else:
            self.send(b"+ \r\n")
            answer = self.read_line()
        if answer is None:
            raise _Drop
        if answer == b"*":
            self._tagged(tag, "BAD", "AUTHENTICATE cancelled")
            return
        try:
            decoded = base64.b64decode(answer, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise BadCommand("the SASL response is not base64") from None
        if mechanism == "PLAIN":
            pieces = decoded.split("\0")
            ok = len(pieces) == 3 and self.server.check_login(pieces[1], pieces[2])
        else:
            fields = dict(p.split("=", 1) for p in decoded.split("\x01") if "=" in p)
            token = fields.get("auth", "").removeprefix("Bearer ").strip()
            ok = self.server.check_token(fields.get("user", ""), token)
        self._logged_in(tag, ok)

    # --- folders -------------------------------------------------------------------------------

    def cmd_select(self, tag: str, args: list[Token], uid: bool, readonly: bool = False) -> None:
        if len(args) != 1:
            raise BadCommand("SELECT needs one folder")
        self.folder, self.state, self.idling = None, "auth", False
        with self.store.lock:
            folder = self.store.get(_text(args[0]))
            if folder is None:
                self._tagged(tag, "NO", "[NONEXISTENT] Mailbox doesn't exist")
                return
            count = len(folder)
            recent = sum(1 for m in folder.mails if m.recent)
            if not readonly:
                for mail in folder.mails:
                    mail.recent = False
            validity, uidnext = folder.uidvalidity, folder.uidnext
        flags = " ".join(SYSTEM_FLAGS)
        permanent = "" if readonly else f"{flags} \\*"
        self.send(
            f"* FLAGS ({flags})\r\n"
            f"* OK [PERMANENTFLAGS ({permanent})] Flags permitted.\r\n"
            f"* {count} EXISTS\r\n"
            f"* {recent} RECENT\r\n"
            f"* OK [UIDVALIDITY {validity}] UIDs valid\r\n"
            f"* OK [UIDNEXT {uidnext}] Predicted next UID\r\n"
        )
        self.folder, self.readonly, self.reported, self.state = folder, readonly, count, "selected"
        self._tagged(tag, "OK", f"[{'READ-ONLY' if readonly else 'READ-WRITE'}] Select completed")

    def cmd_examine(self, tag: str, args: list[Token], uid: bool) -> None:
        self.cmd_select(tag, args, uid, readonly=True)

    def cmd_create(self, tag: str, args: list[Token], uid: bool) -> None:
        name = _text(args[0]) if args else ""
        if not name:
            raise BadCommand("CREATE needs a folder name")
        with self.store.lock:
            if self.store.get(name) is not None:
                self._tagged(tag, "NO", "[ALREADYEXISTS] Mailbox already exists")
                return
            self.store.create(name.rstrip("/"))
        self._tagged(tag, "OK", "CREATE completed")

    def cmd_delete(self, tag: str, args: list[Token], uid: bool) -> None:
        name = _text(args[0]) if args else ""
        if MailStore.key(name) == "INBOX" or not self.store.delete(name):
            self._tagged(tag, "NO", "[NONEXISTENT] Mailbox can't be deleted")
            return
        self._tagged(tag, "OK", "DELETE completed")

    def cmd_subscribe(self, tag: str, args: list[Token], uid: bool) -> None:
        self._tagged(tag, "OK", "completed")

    cmd_unsubscribe = cmd_subscribe

    def cmd_list(self, tag: str, args: list[Token], uid: bool, verb: str = "LIST") -> None:
        if len(args) != 2:
            raise BadCommand(f"{verb} needs a reference and a pattern")
        reference, pattern = _text(args[0]), _text(args[1])
        if pattern == "":
            self.send(f'* {verb} (\\Noselect) "/" ""\r\n')
            self._tagged(tag, "OK", f"{verb} completed")
            return
        glob = "".join(".*" if c == "*" else "[^/]*" if c == "%" else re.escape(c) for c in reference + pattern)
        wanted, inbox = re.compile(glob + r"\Z"), re.compile(glob + r"\Z", re.IGNORECASE)
        with self.store.lock:
            names = sorted(self.store.folders)
        lines = []
        for name in names:
            if (inbox if name == "INBOX" else wanted).match(name):  # INBOX is case-insensitive
                attributes = "\\HasNoChildren" + (" \\Sent" if name.lower() == "sent" else "")
                lines.append(f'* {verb} ({attributes}) "/" {quoted(name)}\r\n')
        self.send("".join(lines))
        self._tagged(tag, "OK", f"{verb} completed")

    def cmd_lsub(self, tag: str, args: list[Token], uid: bool) -> None:
        self.cmd_list(tag, args, uid, verb="LSUB")

    def cmd_status(self, tag: str, args: list[Token], uid: bool) -> None:
        if len(args) != 2:
            raise BadCommand("STATUS needs a folder and a list of items")
        name = _text(args[0])
        with self.store.lock:
            folder = self.store.get(name)
            if folder is None:
                self._tagged(tag, "NO", "[NONEXISTENT] Mailbox doesn't exist")
                return
            values = {
                "MESSAGES": len(folder),
                "RECENT": sum(1 for m in folder.mails if m.recent),
                "UIDNEXT": folder.uidnext,
                "UIDVALIDITY": folder.uidvalidity,
                "UNSEEN": sum(1 for m in folder.mails if "\\Seen" not in m.flags),
            }
        items = [i.upper() for i in _flags(args[1])]
        unknown = [i for i in items if i not in values]
        if unknown:
            raise BadCommand(f"unknown STATUS item {unknown[0]}")
        answer = " ".join(f"{i} {values[i]}" for i in items)
        self.send(f"* STATUS {quoted(folder.name)} ({answer})\r\n")
        self._tagged(tag, "OK", "STATUS completed")

    def cmd_append(self, tag: str, args: list[Token], uid: bool) -> None:
        if len(args) < 2 or not isinstance(args[-1], bytes):
            raise BadCommand("APPEND needs a folder and a message literal")
        name, raw, middle = _text(args[0]), args[-1], args[1:-1]
        flags: list[str] = []
        when = None
        for item in middle:
            if isinstance(item, list):
                flags = [_canonical_flag(f) for f in _flags(item)]
            else:
                when = parse_internaldate(_text(item))
        with self.store.lock:
            folder = self.store.get(name)
            if folder is None:
                self._tagged(tag, "NO", "[TRYCREATE] Mailbox doesn't exist")
                return
        mail = self.store.deliver(raw, folder.name, flags, when)
        self._tagged(tag, "OK", f"[APPENDUID {folder.uidvalidity} {mail.uid}] APPEND completed")

    # --- IDLE ----------------------------------------------------------------------------------

    def cmd_idle(self, tag: str, args: list[Token], uid: bool) -> bool:
        with self._write:
            self.sock.sendall(b"+ idling\r\n")  # first, or IMAPClient takes an EXISTS for a refusal
            self.idling = True
        if self.folder is not None:
            with self.store.lock:
                count = len(self.folder)
            self.push_exists(count)  # what arrived since SELECT or the last NOOP
        line = self.read_line()
        with self._write:
            self.idling = False
        if line is None:
            return False
        if line.upper() != b"DONE":
            self._tagged(tag, "BAD", "expected DONE")
            return True
        self._tagged(tag, "OK", "IDLE terminated")
        return True

    # --- the selected folder -------------------------------------------------------------------

    def cmd_close(self, tag: str, args: list[Token], uid: bool, expunge: bool = True) -> None:
        folder = self._folder()
        if expunge and not self.readonly:
            with self.store.lock:
                folder.remove([m for m in folder.mails if "\\Deleted" in m.flags])
        self.folder, self.state = None, "auth"
        self._tagged(tag, "OK", "CLOSE completed")

    def cmd_unselect(self, tag: str, args: list[Token], uid: bool) -> None:
        self.cmd_close(tag, args, uid, expunge=False)

    def _messages(self, spec: Token, uid: bool) -> list[StoredMail]:
        folder = self._folder()
        text = _text(spec)
        if uid:
            largest = folder.mails[-1].uid if folder.mails else 0
            return folder.by_uids(parse_set(text, largest)) if largest else []
        return folder.by_seqs(parse_set(text, len(folder)))

    def _writable(self, tag: str) -> bool:
        if self.readonly:
            self._tagged(tag, "NO", "[READ-ONLY] Mailbox is read-only")
        return not self.readonly

    def cmd_expunge(self, tag: str, args: list[Token], uid: bool) -> None:
        if not self._writable(tag):
            return
        folder = self._folder()
        with self.store.lock:
            candidates = self._messages(args[0], uid=True) if uid and args else folder.mails
            seqs = folder.remove([m for m in candidates if "\\Deleted" in m.flags])
        self.reported -= len(seqs)
        self.send("".join(f"* {n} EXPUNGE\r\n" for n in seqs))
        self._tagged(tag, "OK", "EXPUNGE completed")

    def cmd_search(self, tag: str, args: list[Token], uid: bool) -> None:
        criteria = list(args)
        if criteria and isinstance(criteria[0], str) and criteria[0].upper() == "CHARSET":
            criteria = criteria[2:]
        folder = self._folder()
        with self.store.lock:
            if len(criteria) == 2 and _text(criteria[0]).upper() == "UID":  # what every poll asks: bisect
                found = self._messages(criteria[1], uid=True)
            else:
                test = _criteria(criteria, self, folder)
                found = [m for n, m in enumerate(folder.mails, 1) if test(m, n)]
            numbers = [m.uid for m in found] if uid else [folder.seq(m) for m in found]
        self.send("* SEARCH" + "".join(f" {n}" for n in numbers) + "\r\n")
        self._tagged(tag, "OK", "SEARCH completed")

    def cmd_fetch(self, tag: str, args: list[Token], uid: bool) -> None:
        if len(args) < 2:
            raise BadCommand("FETCH needs a message set and items")
        items = [i.upper() for i in _flags(args[1])]
        if "FAST" in items:
            items = ["FLAGS", "INTERNALDATE", "RFC822.SIZE"]
        folder = self._folder()
        out: list[bytes] = []
        with self.store.lock:
            for mail in self._messages(args[0], uid):
                out.append(self._fetch_one(folder, mail, items))
        self.send(b"".join(out))
        self._tagged(tag, "OK", "FETCH completed")

    def _fetch_one(self, folder: Folder, mail: StoredMail, items: list[str]) -> bytes:
        parts: list[bytes] = [f"UID {mail.uid}".encode()]
        seen_before = "\\Seen" in mail.flags
        for item in items:
            if item == "UID":
                continue
            if item == "FLAGS":
                parts.append(self._flag_list(mail).encode())
            elif item == "INTERNALDATE":
                parts.append(f'INTERNALDATE "{internaldate(mail.internaldate)}"'.encode())
            elif item == "RFC822.SIZE":
                parts.append(f"RFC822.SIZE {len(mail.raw)}".encode())
            elif item in {"RFC822", "RFC822.HEADER", "RFC822.TEXT"}:
                data = {"RFC822": mail.raw, "RFC822.HEADER": mail.header(), "RFC822.TEXT": mail.text()}[item]
                parts.append(f"{item} {{{len(data)}}}\r\n".encode() + data)
                if item != "RFC822.HEADER":
                    self._mark_seen(mail)
            else:
                found = _SECTION.match(item)
                if found is None:
                    raise BadCommand(f"unsupported FETCH item {item}")
                name, data = _section(mail, found)
                parts.append(f"{name} {{{len(data)}}}\r\n".encode() + data)
                if found.group(1) == "BODY":
                    self._mark_seen(mail)
        if not seen_before and "\\Seen" in mail.flags and "FLAGS" not in items:
            parts.append(self._flag_list(mail).encode())
        return f"* {folder.seq(mail)} FETCH (".encode() + b" ".join(parts) + b")\r\n"

    def _mark_seen(self, mail: StoredMail) -> None:
        if not self.readonly:
            mail.flags.add("\\Seen")

    @staticmethod
    def _flag_list(mail: StoredMail) -> str:
        flags = sorted(mail.flags) + (["\\Recent"] if mail.recent else [])
        return f"FLAGS ({' '.join(flags)})"

    def cmd_store(self, tag: str, args: list[Token], uid: bool) -> None:
        if len(args) != 3:
            raise BadCommand("STORE needs a message set, an item and flags")
        if not self._writable(tag):
            return
        action = _text(args[1]).upper()
        silent = action.endswith(".SILENT")
        action = action.removesuffix(".SILENT")
        if action not in {"FLAGS", "+FLAGS", "-FLAGS"}:
            raise BadCommand(f"unknown STORE item {action}")
        flags = {_canonical_flag(f) for f in _flags(args[2])} - {"\\Recent"}
        folder = self._folder()
        out = []
        with self.store.lock:
            for mail in self._messages(args[0], uid):
                if action == "FLAGS":
                    mail.flags = set(flags)
                elif action == "+FLAGS":
                    mail.flags |= flags
                else:
                    mail.flags -= flags
                if not silent:
                    out.append(f"* {folder.seq(mail)} FETCH (UID {mail.uid} {self._flag_list(mail)})\r\n")
        self.send("".join(out))
        self._tagged(tag, "OK", "STORE completed")

    def cmd_copy(self, tag: str, args: list[Token], uid: bool, move: bool = False) -> None:
        if len(args) != 2:
            raise BadCommand("COPY and MOVE need a message set and a folder")
        if move and not self._writable(tag):
            return
        source = self._folder()
        with self.store.lock:
            target = self.store.get(_text(args[1]))
            if target is None:
                self._tagged(tag, "NO", "[TRYCREATE] Mailbox doesn't exist")
                return
            mails = self._messages(args[0], uid)
            copies = [target.add(m.raw, m.flags, m.internaldate) for m in mails]
            seqs = source.remove(mails) if move else []
        self.store.announce(target)
        code = ""
        if mails:
            old = ",".join(str(m.uid) for m in mails)
            new = ",".join(str(m.uid) for m in copies)
            code = f"[COPYUID {target.uidvalidity} {old} {new}] "
        if move:
            self.reported -= len(seqs)
            self.send((f"* OK {code}Moved\r\n" if code else "") + "".join(f"* {n} EXPUNGE\r\n" for n in seqs))
            self._tagged(tag, "OK", "MOVE completed")
        else:
            self._tagged(tag, "OK", f"{code}COPY completed")

    def cmd_move(self, tag: str, args: list[Token], uid: bool) -> None:
        self.cmd_copy(tag, args, uid, move=True)


def _section(mail: StoredMail, found: re.Match[str]) -> tuple[str, bytes]:
    """A ``BODY[…]`` item's answer name (never ``.PEEK``) and data, partial ``<o.n>`` applied."""
    section = found.group(2).upper()
    if section == "":
        data = mail.raw
    elif section == "HEADER":
        data = mail.header()
    elif section == "TEXT":
        data = mail.text()
    elif section.startswith(("HEADER.FIELDS.NOT ", "HEADER.FIELDS ")):
        names = {n.lower() for n in section.partition("(")[2].rstrip(")").split()}
        data = _header_fields(mail.header(), names, keep=not section.startswith("HEADER.FIELDS.NOT"))
    else:
        raise BadCommand(f"unsupported body section {section}")
    name = f"BODY[{found.group(2)}]"
    if found.group(3) is not None:
        origin = int(found.group(3))
        length = int(found.group(4)) if found.group(4) is not None else len(data)
        data = data[origin : origin + length]
        name += f"<{origin}>"
    return name, data


def _header_fields(header: bytes, names: set[str], *, keep: bool) -> bytes:
    out: list[bytes] = []
    taking = False
    for line in header.splitlines(keepends=True):
        if not line.strip():
            break
        if line[:1] in {b" ", b"\t"}:
            if taking:
                out.append(line)
            continue
        name = line.split(b":", 1)[0].decode("latin-1").strip().lower()
        taking = (name in names) == keep
        if taking:
            out.append(line)
    return b"".join(out) + b"\r\n"


# --- SEARCH ----------------------------------------------------------------------------------------

Test = Callable[[StoredMail, int], bool]

_FLAG_KEYS = {
    "SEEN": ("\\Seen", True),
    "UNSEEN": ("\\Seen", False),
    "DELETED": ("\\Deleted", True),
    "UNDELETED": ("\\Deleted", False),
    "FLAGGED": ("\\Flagged", True),
    "UNFLAGGED": ("\\Flagged", False),
    "ANSWERED": ("\\Answered", True),
    "UNANSWERED": ("\\Answered", False),
    "DRAFT": ("\\Draft", True),
    "UNDRAFT": ("\\Draft", False),
}


def _criteria(tokens: list[Token], session: Session, folder: Folder) -> Test:
    """SEARCH keys ANDed together: ALL, flags, UID and sequence sets, NOT, OR, header and text matches."""
    stream = list(tokens)
    tests = []
    while stream:
        tests.append(_one_key(stream, session, folder))
    return lambda mail, seq: all(t(mail, seq) for t in tests)


def _one_key(stream: list[Token], session: Session, folder: Folder) -> Test:
    token = stream.pop(0)
    if isinstance(token, list):
        return _criteria(token, session, folder)
    key = _text(token).upper()

    def arg() -> str:
        if not stream:
            raise BadCommand(f"SEARCH {key} needs an argument")
        return _text(stream.pop(0))

    if key == "ALL":
        return lambda mail, seq: True
    if key in _FLAG_KEYS:
        flag, wanted = _FLAG_KEYS[key]
        return lambda mail, seq: (flag in mail.flags) == wanted
    if key in {"NEW", "RECENT", "OLD"}:
        return lambda mail, seq: mail.recent == (key != "OLD") and (key != "NEW" or "\\Seen" not in mail.flags)
    if key in {"KEYWORD", "UNKEYWORD"}:
        flag = arg()
        return lambda mail, seq: (flag in mail.flags) == (key == "KEYWORD")
    if key == "UID":
        wanted_uids = {m.uid for m in folder.by_uids(parse_set(arg(), folder.mails[-1].uid if folder.mails else 0))}
        return lambda mail, seq: mail.uid in wanted_uids
    if key == "NOT":
        inner = _one_key(stream, session, folder)
        return lambda mail, seq: not inner(mail, seq)
    if key == "OR":
        left, right = _one_key(stream, session, folder), _one_key(stream, session, folder)
        return lambda mail, seq: left(mail, seq) or right(mail, seq)
    if key in {"FROM", "TO", "CC", "BCC", "SUBJECT"}:
        return _header_test(key.lower(), arg())
    if key == "HEADER":
        name = arg()
        return _header_test(name.lower(), arg())
    if key in {"BODY", "TEXT"}:
        needle = arg().lower().encode()
        part = "text" if key == "BODY" else "raw"
        return lambda mail, seq: needle in (mail.text() if part == "text" else mail.raw).lower()
    if key in {"LARGER", "SMALLER"}:
        size = int(arg())
        return lambda mail, seq: len(mail.raw) > size if key == "LARGER" else len(mail.raw) < size
    if key[:1].isdigit() or key[:1] == "*":
        seqs = {folder.seq(m) for m in folder.by_seqs(parse_set(key, len(folder)))}
        return lambda mail, seq: seq in seqs
    raise BadCommand(f"unsupported SEARCH key {key}")


def _header_test(name: str, needle: str) -> Test:
    wanted = needle.lower().encode()

    def test(mail: StoredMail, seq: int) -> bool:
        found = _header_fields(mail.header(), {name}, keep=True)
        return any(wanted in line.partition(b":")[2].lower() for line in found.splitlines() if line.strip())

    return test
