"""Fixtures of the security tests: the marked desk, and an API rate limit out of the fuzzer's way."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.security.desk import Desk, seed_desk
from tests.web import compiled_translations, fresh_globals_per_request, make_ticket

__all__ = ["compiled_translations", "fresh_globals_per_request", "make_ticket"]  # fixtures for the tests here


@pytest.fixture
def desk(session: Any, make_account: Any, make_user: Any, make_ticket: Any) -> Desk:
    return seed_desk(session, make_account, make_user, make_ticket)


@pytest.fixture
def unlimited_api(app: Any) -> None:
    """Hundreds of requests from one token in a minute are the point here, not abuse."""
    current = app.config["HELPDESK_SETTINGS"]
    app.config["HELPDESK_SETTINGS"] = dataclasses.replace(current, api_rate_limit="1000000/minute")
