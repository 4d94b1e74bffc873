"""MimePart answers as the stdlib ``Message`` it wraps answers."""

from __future__ import annotations

import email
import random
from email import policy

import pytest

from channels.email.tree import MimePart, mime_tree

CONTENT_TYPES = [
    'text/plain; charset="utf-8"',
    "text/plain; charset=utf-8; format=flowed",
    "TEXT/HTML; CHARSET=ISO-8859-1",
    "text/plain;charset= 'x' ; charset=second",
    'multipart/mixed; boundary="a;b"; charset=inner',
    "multipart/related; start=<root@x>; boundary=<b>",
    'multipart/report; report-type="delivery-status"; boundary=" b "',
    "charset=utf-8",
    "text/plain; charset",
    "text/plain; charset=",
    'text/plain; name="a \\"quoted\\" name"; charset=x',
    "text/plain; charset*=utf-8''%41; boundary*0=a; boundary*1=b",
    "application/octet-stream",
    "garbage",
    "",
    "text/plain; charset=\xe9",
]


@pytest.mark.parametrize("value", CONTENT_TYPES)
def test_content_type_and_parameters_read_as_the_stdlib_reads_them(value):
    message = email.message_from_bytes(f"Content-Type: {value}\n\nbody\n".encode("latin-1"), policy=policy.compat32)
    part = MimePart(message)

    assert part.content_type == message.get_content_type()
    for name in ("charset", "boundary", "start", "report-type", "name"):
        assert part.param(name) == message.get_param(name), name
    assert part.boundary() == message.get_boundary()


def test_random_parameter_lists_read_as_the_stdlib_reads_them():
    rng = random.Random(5)
    pieces = ["a", ";", '"', " ", "=", "charset", "CHARSET", "boundary", "<", ">", "x", "text/plain", "'"]
    for _ in range(3000):
        value = "".join(rng.choice(pieces) for _ in range(rng.randrange(12)))
        message = email.message_from_string(f"Content-Type: {value}\n\nbody\n", policy=policy.compat32)
        part = MimePart(message)
        assert part.param("charset") == message.get_param("charset"), value
        assert part.boundary() == message.get_boundary(), value


def test_fields_are_the_first_of_each_name_and_8bit_values_print_as_the_stdlib_prints_them():
    raw = b"Content-ID: <one>\ncontent-id: <two>\nX-Name: Caf\xe9\n\nbody\n"
    message = email.message_from_bytes(raw, policy=policy.compat32)
    part = MimePart(message)

    assert part.get("content-id") == "<one>"
    assert part.get("x-name") == str(message.get("x-name"))
    assert part.raw("x-name") == "Caf\udce9"
    assert part.get("missing") is None


def test_the_walk_visits_parts_in_the_stdlib_order():
    raw = (
        b'Content-Type: multipart/mixed; boundary="o"\n\n--o\nContent-Type: text/plain\n\none\n'
        b'--o\nContent-Type: multipart/alternative; boundary="i"\n\n'
        b"--i\n\ntwo\n--i\nContent-Type: text/html\n\n3\n--i--\n"
        b"--o\nContent-Type: message/rfc822\n\nSubject: inner\n\nfour\n--o--\n"
    )
    message = email.message_from_bytes(raw, policy=policy.compat32)

    assert [part.message for part in mime_tree(message).walk()] == list(message.walk())
    assert [part.content_type for part in mime_tree(message).walk()] == [
        part.get_content_type() for part in message.walk()
    ]
