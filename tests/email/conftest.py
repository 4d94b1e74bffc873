"""Shared helpers for the email channel tests: fixture mails and a mail factory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from channels.base import InboundMessage
from channels.email import parse_email

MAIL_DIR = Path(__file__).resolve().parents[1] / "data" / "mail"


@pytest.fixture
def fixture_mail() -> Callable[..., InboundMessage]:
    """Parse a named file from ``tests/data/mail``; keyword arguments go to ``parse_email``."""

    def parse(name: str, **options: Any) -> InboundMessage:
        return parse_email((MAIL_DIR / name).read_bytes(), account="support", **options)

    return parse


@pytest.fixture
def make_mail() -> Callable[..., bytes]:
    """Build a small raw mail: the header lines given, a blank line, then the body."""

    def build(*headers: str, body: str = "Hello, where is my parcel?\n", linesep: str = "\r\n") -> bytes:
        text = linesep.join(headers) + linesep + linesep + body.replace("\n", linesep)
        return text.encode("utf-8")

    return build
