"""Loopback fakes of the three translation services, started per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpdesk.translation.fake import FakeChatCompletions, FakeDeepL, FakeLibreTranslate


@pytest.fixture
def libre() -> Iterator[FakeLibreTranslate]:
    with FakeLibreTranslate() as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def libre_keyed() -> Iterator[FakeLibreTranslate]:
    with FakeLibreTranslate(api_keys=("lt-key-1",), chinese_code="zh") as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def deepl() -> Iterator[FakeDeepL]:
    with FakeDeepL(key="0c3f-test:fx") as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def chat() -> Iterator[FakeChatCompletions]:
    with FakeChatCompletions(model="qwen2.5:7b") as fake:
        yield fake  # type: ignore[misc]
