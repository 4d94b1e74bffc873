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


@pytest.fixture(autouse=True)
def close_providers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every provider a test builds is closed after it, as the services close theirs (kept connections)."""
    from helpdesk.translation.base import Provider

    built: list[Provider] = []
    original = Provider.__init__

    def tracked(self: Provider, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        built.append(self)

    monkeypatch.setattr(Provider, "__init__", tracked)
    yield
    for provider in built:
        provider.close()
