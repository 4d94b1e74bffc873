"""Header-block repair: damaged lines no longer hide the fields below them."""

from __future__ import annotations

import pytest

from channels.email.headerblock import repair_header_block


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # a field name with a space, under a field it cannot be text of: dropped
        (b"X-Clacks: s\nBad line: x\nTo: t\n\nbody", b"X-Clacks: s\nTo: t\n\nbody"),
        (b"X-Clacks: s\nX-Script/f\t !: TEST\n VALUE\nTo: t\n\nbody", b"X-Clacks: s\nTo: t\n\nbody"),
        (b"Subject: s\r\nTo   : t\r\n\r\nbody", b"Subject: s\r\nTo: t\r\n\r\nbody"),
        # a line of white space ends the header block, as it does for the parser
        (b"Subject: s\n \nBad line: x\nTo: t\n\nbody", b"Subject: s\n \nBad line: x\nTo: t\n\nbody"),
        (b"From x@y Mon\nSubject: s\n\nbody", b"From x@y Mon\nSubject: s\n\nbody"),
        # stray lines ahead of the header, or after the mbox line the parser reads as the envelope
        (b">From anna\nSubject: s\n\nbody", b"Subject: s\n\nbody"),
        (b"garbage\n>From anna\r\nSubject: s\n\nbody", b"Subject: s\n\nbody"),
        (b"From\nTo: t\n\nbody", b"To: t\n\nbody"),
        (b"From x@y Mon\n>From y\nSubject: s\n\nbody", b"From x@y Mon\nSubject: s\n\nbody"),
        # continuations that lost their white space; without a colon the line can only be one
        (b"Subject: where is\nmy parcel\nTo: t\n\nbody", b"Subject: where is\n my parcel\nTo: t\n\nbody"),
        (b"Subject: a\r\nb\r\nc\r\nTo: t\r\n\r\nbody", b"Subject: a\r\n b\r\n c\r\nTo: t\r\n\r\nbody"),
        # a colon in free text
        (
            b"Subject: order 7\nstill missing: help\nTo: t\n\nbody",
            b"Subject: order 7\n still missing: help\nTo: t\n\nbody",
        ),
        # a name no header has: the rest of an encoded word, not a field "=?utf-8?q?Re"
        (b"Subject: x\n=?utf-8?q?Re:_y?=\nTo: t\n\nbody", b"Subject: x\n =?utf-8?q?Re:_y?=\nTo: t\n\nbody"),
        # an open quoted string or bracket, also on the last line of the block
        (
            b'From: "Berg, Anna\nMaria (QA: x)" <a@b.example>\n\nbody',
            b'From: "Berg, Anna\n Maria (QA: x)" <a@b.example>\n\nbody',
        ),
        (b"References: <a@b>, <c.\nd@e>\n\nbody", b"References: <a@b>, <c.\n d@e>\n\nbody"),
    ],
)
def test_header_block_repairs(raw, expected):
    assert repair_header_block(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        # mail without the blank line after its header: the body starts at the first text line
        b"Subject: s\nHello,\nwhere is my parcel?\n",
        b"Subject: s\nHello,\nOrder: 1042\nThanks\n",  # "Order" is not a field real mail carries
        b"Content-Type: multipart/mixed; boundary=b\nPreamble\n--b\nContent-Type: text/plain\n\nhi\n--b--\n",
        b"Subject: s\nHello\nno\nfields\nhere\nTo: t\n\nbody",  # too long a run to be damage
        b"Just some text\nwithout any header\n",
    ],
)
def test_text_after_the_header_is_still_body(raw):
    assert repair_header_block(raw) == raw
