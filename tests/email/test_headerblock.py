"""Header-block repair: damaged lines no longer hide the fields below them."""

from __future__ import annotations

import pytest

from channels.email.headerblock import repair_header_block


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"Subject: s\nBad line: x\nTo: t\n\nbody", b"Subject: s\nTo: t\n\nbody"),
        (b"Subject: s\nX-Script/f\t !: TEST\n VALUE\nTo: t\n\nbody", b"Subject: s\nTo: t\n\nbody"),
        (b"Subject: s\r\nTo   : t\r\n\r\nbody", b"Subject: s\r\nTo: t\r\n\r\nbody"),
        # a line of white space ends the header block, as it does for the parser
        (b"Subject: s\n \nBad line: x\nTo: t\n\nbody", b"Subject: s\n \nBad line: x\nTo: t\n\nbody"),
        (b"From x@y Mon\nSubject: s\n\nbody", b"From x@y Mon\nSubject: s\n\nbody"),
    ],
)
def test_header_block_repairs(raw, expected):
    assert repair_header_block(raw) == expected
