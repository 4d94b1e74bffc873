"""The provider interface: what every translation service offers, and how each can fail.

Providers are plain classes with no Flask and no database: the service layer
(:mod:`helpdesk.translation.services`) gives them their settings and turns
their answers into cached rows, counters and messages for agents.  A new
provider is one module under ``providers/`` implementing :class:`Provider`
and one line in :mod:`helpdesk.translation.registry`.

Errors are typed so a caller can act on them without parsing text: a
rate limit carries the wait the service asked for, a spent quota is not
retried this month, a refused key sends the admin to the settings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from channels.base import TransientChannelError
from channels.http import HttpClient, Response

#: How long a provider may take to answer one request (a local model on a CPU is slow; a page is not kept waiting
#: on the synchronous path longer than this).
DEFAULT_TIMEOUT_S = 30.0


class TranslationError(Exception):
    """A translation could not be made; ``str()`` is a sentence an agent or admin can act on."""

    kind: ClassVar[str] = "error"  # stored with a failed translation; services.explain_kind words it
    retryable: ClassVar[bool] = False


class ProviderUnreachable(TranslationError):
    """No answer: the service is down, the address is wrong, or it timed out."""

    kind = "unreachable"
    retryable = True


class AuthRefused(TranslationError):
    """The service refused the key (missing, wrong, or revoked)."""

    kind = "auth"


class RateLimited(TranslationError):
    """Too many requests for now; ``retry_after_s`` is the service's own wait when it gave one."""

    kind = "rate_limited"
    retryable = True

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class QuotaExceeded(TranslationError):
    """The plan's characters (or the desk's own monthly cap) are spent until the next period."""

    kind = "quota"


class BadRequest(TranslationError):
    """The service refused the request itself (an unsupported language pair, a text too long)."""

    kind = "bad_request"


class NotConfigured(TranslationError):
    """No provider is configured: nothing pretends to translate."""

    kind = "not_configured"


@dataclass(frozen=True, slots=True)
class Translated:
    """One text's translation, with what the provider said the source was."""

    text: str
    source: str | None  # detected or given source language, lower-case ISO 639-1 ("de", "zh")
    provider: str
    #: Protected spans the provider dropped or altered (restored text may then lack them; the UI warns).
    missing: tuple[str, ...] = ()
    #: Characters sent for this text (what providers bill and the monthly counter adds up).
    characters: int = 0


@dataclass(frozen=True, slots=True)
class Detection:
    language: str
    confidence: float  # 0..1


@dataclass(frozen=True, slots=True)
class Language:
    code: str
    name: str
    targets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """What an admin configured: address, key (already unsealed), model, and provider-kept state."""

    base_url: str = ""
    api_key: str = ""
    model: str = ""
    timeout_s: float = DEFAULT_TIMEOUT_S
    #: Durable state the provider may keep between calls (DeepL glossary ids); the service persists it.
    state: MutableMapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Glossary:
    """A store's protected names for one request; ``name`` identifies it (store) for providers that upload it."""

    name: str
    terms: tuple[str, ...]


class Provider(ABC):
    """A translation service behind one small interface."""

    kind: ClassVar[str]
    label: ClassVar[str]
    #: Whether the service takes XML with tags it must leave alone (DeepL), instead of numbered sentinels.
    handles_tags: ClassVar[bool] = False
    needs_key: ClassVar[bool] = False
    needs_model: ClassVar[bool] = False
    default_url: ClassVar[str] = ""
    #: The longest text sent in one piece (longer ones are cut at paragraph and sentence breaks).
    max_chars: ClassVar[int] = 5000

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.http = HttpClient(self.base_url(), timeout_s=settings.timeout_s, platform=self.label)

    def base_url(self) -> str:
        return (self.settings.base_url or self.default_url).rstrip("/")

    def close(self) -> None:
        self.http.close()

    @abstractmethod
    def translate(
        self, texts: Sequence[str], source: str | None, target: str, *, glossary: Glossary | None = None
    ) -> list[Translated]:
        """``texts`` in ``target``; ``source`` None lets the service detect it.

        Texts arrive already masked (protected spans replaced by tokens this
        provider leaves alone); a provider that can apply ``glossary`` itself
        (DeepL) does, and reports so through :meth:`applies_glossary`.
        """

    @abstractmethod
    def detect(self, text: str) -> Detection | None: ...

    @abstractmethod
    def languages(self) -> list[Language]: ...

    def applies_glossary(self, source: str | None, target: str) -> bool:
        """True when this provider enforces a glossary itself for this pair (then its terms are not masked)."""
        return False

    # --- shared wire handling ------------------------------------------------------------------------

    def call(self, method: str, path: str, *, what: str, **kwargs: Any) -> Response:
        """One request; a failure of the wire becomes :class:`ProviderUnreachable`, statuses are read here."""
        try:
            response = self.http.request(method, path, what=what, **kwargs)
        except TransientChannelError as exc:
            raise ProviderUnreachable(
                f"{self.label} at {self.base_url()} did not answer ({exc}). Check that it is running and the "
                "address is right."
            ) from exc
        if not response.is_success:
            self.raise_for(response)
        return response

    def error_text(self, response: Response) -> str:
        """The service's own words from an error body (each provider knows its envelope)."""
        try:
            body = response.json()
        except ValueError:
            return response.text[:200]
        if isinstance(body, Mapping):
            error = body.get("error") or body.get("message") or body.get("detail")
            if isinstance(error, Mapping):
                error = error.get("message")
            if error:
                return str(error)[:300]
        return response.text[:200]

    def raise_for(self, response: Response) -> None:
        status, said = response.status_code, self.error_text(response)
        if status in (401, 403):
            raise AuthRefused(f"{self.label} refused the API key ({status}: {said}). Enter a valid key.")
        if status == 429:
            raise RateLimited(f"{self.label} is rate-limiting requests ({said}).", retry_after(response))
        if status == 456:
            raise QuotaExceeded(f"{self.label}'s character quota is used up for this period ({said}).")
        if 400 <= status < 500:
            raise BadRequest(f"{self.label} refused the request ({status}: {said}).")
        raise ProviderUnreachable(f"{self.label} failed ({status}: {said}); try again in a minute.")


def retry_after(response: Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
