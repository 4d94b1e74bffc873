"""The MIME parser builds exactly the tree ``email.message_from_bytes`` builds."""

from __future__ import annotations

import email
import os
import random
import re
from email import policy
from email.message import Message
from pathlib import Path

import pytest

from channels.email.msgparse import _boundary_compile, message_from_bytes

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "email"
NOT_MAIL = {"README.md", ".gitattributes"}


def shape(message: Message) -> tuple:
    """Everything the parser stores on a message and its parts."""
    payload = message._payload
    return (
        message._headers,
        message._unixfrom,
        message.preamble,
        message.epilogue,
        [(type(defect).__name__, str(defect)) for defect in message.defects],
        message.get_default_type(),
        message.get_charset(),
        [shape(part) for part in payload] if isinstance(payload, list) else payload,
    )


def stdlib(raw: bytes) -> tuple:
    return shape(email.message_from_bytes(raw, policy=policy.compat32))


def mixed(boundary: str, *parts: str, linesep: str = "\n", close: str = "--") -> bytes:
    body = "".join(f"--{boundary}{linesep}{part}{linesep}" for part in parts)
    text = f'Content-Type: multipart/mixed; boundary="{boundary}"{linesep}{linesep}preamble{linesep}'
    return (text + body + f"--{boundary}{close}{linesep}epilogue{linesep}").encode()


@pytest.mark.parametrize(
    "raw",
    [
        mixed("b", "Content-Type: text/plain\n\none", "Content-Type: text/plain\n\ntwo"),
        mixed("a.b(c)+d?*[x]{1}|^$", "\ntext with a boundary full of regex syntax"),
        mixed("b", "\none", linesep="\r\n"),
        mixed("b", "\none", linesep="\r"),
        mixed("b", "\nno closing boundary", close=""),
        mixed("b", "\nclosing boundary followed by spaces", close="--  \t"),
        # a line that starts like the boundary but goes on is body text, not a boundary
        mixed("b", "\n--bx is not a boundary\n--b- neither\n--b--x nor this"),
        # the inner boundary extends the outer one
        mixed("outer", 'Content-Type: multipart/alternative; boundary="outer2"\n\n--outer2\n\ninner\n--outer2--'),
        mixed("b", "Content-Type: message/rfc822\n\nSubject: inner\n\nattached body"),
        mixed("b", "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: digest entry\n\nbody\n--d--"),
        mixed("back\\slash", "\nescaped in the field, so the boundary has no backslash"),
        b"Content-Type: multipart/mixed\n\nmultipart without a boundary\n",
        b'Content-Type: multipart/mixed; boundary=""\n\n--\n\nempty boundary\n----\n',
        b"From: a@example.com\nSubject: plain\n\nnot multipart at all\n",
    ],
)
def test_crafted_mime_parses_to_the_stdlib_tree(raw):
    assert shape(message_from_bytes(raw)) == stdlib(raw)


@pytest.mark.parametrize("separator", ["--b", "--a.b(c)+d?*[x]", "--back\\slash", "-- spaced\tboundary", "--"])
@pytest.mark.parametrize(
    "tail", ["", "\n", "\r\n", "\r", "--", "--\n", "-- \t\r\n", "  \n", "x\n", "--x", "\n\n", "\r\n\n"]
)
def test_boundary_lines_match_as_the_compiled_pattern_matches(separator, tail):
    pattern = "(?P<sep>" + re.escape(separator) + r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
    fast = _boundary_compile(pattern)
    compiled = re.compile(pattern)
    assert not isinstance(fast, re.Pattern)
    for line in (separator + tail, "x" + separator + tail, separator[:-1] + tail):
        expected = compiled.match(line)
        found = fast.match(line)
        assert (found is None) == (expected is None), line
        if expected is not None:
            assert found.group("end", "ws", "linesep") == expected.group("end", "ws", "linesep")


def test_other_patterns_are_compiled_as_usual():
    assert _boundary_compile(r"\r\n|\r|\n") == re.compile(r"\r\n|\r|\n")


def test_long_and_random_multipart_mail_parses_to_the_stdlib_tree():
    rng = random.Random(7)
    pieces = [
        "--b",
        "--b--",
        "--b ",
        "--bx",
        "\r\n",
        "\n",
        "\r",
        "Content-Type: text/plain\n",
        "text\n",
        "\xff",
        "\n\n",
    ]
    for _ in range(300):
        body = "".join(rng.choice(pieces) for _ in range(rng.randrange(40)))
        raw = ("Content-Type: multipart/mixed; boundary=b\n\n" + body).encode("utf-8", "surrogateescape")
        assert shape(message_from_bytes(raw)) == stdlib(raw)
    big = mixed("b", *(f"Content-Type: text/plain\n\n{'x' * 9000} part {n}" for n in range(5)))
    assert shape(message_from_bytes(big)) == stdlib(big)


def test_every_corpus_mail_parses_to_the_stdlib_tree():
    if not CORPUS.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the shared mail corpus is missing at {CORPUS}")
        pytest.skip("the shared mail corpus is not checked out beside the repository")
    paths = [
        path
        for path in sorted(CORPUS.rglob("*"))
        if path.is_file() and path.name not in NOT_MAIL and not path.name.startswith("LICENSE")
    ]
    assert len(paths) > 1000
    for path in paths:
        raw = path.read_bytes()
        assert shape(message_from_bytes(raw)) == stdlib(raw), path
