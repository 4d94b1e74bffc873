"""Fixtures for API tests: bearer headers for a user's token, and the fixtures of the web tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from helpdesk.api.tokens import create_token
from tests.web import compiled_translations, fresh_globals_per_request, make_ticket, world  # noqa: F401


@pytest.fixture
def bearer(session: Any) -> Callable[..., dict[str, str]]:
    """``bearer(user, scope="write")`` → the ``Authorization`` header of a new token of that user."""

    def make(user: Any, scope: str = "write") -> dict[str, str]:
        _row, raw = create_token(session, user, f"test {scope}", scope)
        session.commit()
        return {"Authorization": f"Bearer {raw}"}

    return make
