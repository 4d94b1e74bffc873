"""A connector's configuration schema: the fields an account of its kind needs.

One declaration serves every place an account is set up: the schema-driven
``channels add KIND`` command turns each field into an option, the admin
page renders a form from it, and :meth:`ConfigSchema.parse` checks what
either of them collected (text from a form or a command line, or typed
values from JSON) and names the field that is wrong.

Secret fields are never settings.  They are collected separately, stored
encrypted (or as the name of an environment variable), never echoed back,
and reach the connector already resolved in ``AccountConfig.secrets``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from channels import netguard


class FieldType(enum.StrEnum):
    TEXT = "text"
    INT = "int"
    BOOL = "bool"
    CHOICE = "choice"
    URL = "url"
    SECRET = "secret"  # noqa: S105 - the name of a field type


class ConfigError(ValueError):
    """A setting cannot work; ``field`` names it, the message says why and what would."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Field:
    """One setting of an account.

    ``help`` is the sentence a seller reads next to the input (where to find
    the value in the platform's seller centre).  ``advanced`` fields are
    folded away in the form.  A ``SECRET`` field's value is a credential.
    """

    name: str
    label: str
    type: FieldType = FieldType.TEXT
    help: str = ""
    required: bool = False
    default: object = None
    choices: tuple[str, ...] = ()
    advanced: bool = False

    def __post_init__(self) -> None:
        if not _FIELD_NAME.match(self.name):
            raise ValueError(f"field name {self.name!r} must be lower_snake_case")
        if self.type is FieldType.CHOICE and not self.choices:
            raise ValueError(f"choice field {self.name!r} has no choices")

    @property
    def secret(self) -> bool:
        return self.type is FieldType.SECRET

    @property
    def option(self) -> str:
        """The command-line option: ``imap_host`` → ``--imap-host``."""
        return "--" + self.name.replace("_", "-")

    def parse(self, raw: object) -> object:
        """``raw`` (text from a form or command line, or a JSON value) as this field's type."""
        if raw is None or (isinstance(raw, str) and raw.strip() == "" and self.type is not FieldType.SECRET):
            return None
        if self.type is FieldType.BOOL:
            return _bool(self.name, raw)
        if self.type is FieldType.INT:
            return _int(self.name, raw)
        if not isinstance(raw, str):
            raise ConfigError(self.name, f"must be text, not {type(raw).__name__}")
        value = raw if self.type is FieldType.SECRET else raw.strip()
        if self.type is FieldType.CHOICE and value not in self.choices:
            raise ConfigError(self.name, f"must be one of {', '.join(self.choices)}, not {value!r}")
        if self.type is FieldType.URL:
            value = _url(self.name, value)
        return value


def _bool(name: str, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(name, f"must be true or false, not {raw!r}")


def _int(name: str, raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise ConfigError(name, f"must be a whole number, not {type(raw).__name__}")
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(name, f"must be a whole number, not {raw!r}") from None


def _url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ConfigError(name, f"must be an https:// address, not {value!r}")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ConfigError(name, f"must use https:// (plain http is only allowed on this machine), not {value!r}")
    try:
        netguard.check_url(value)
    except netguard.AddressRefused as exc:
        raise ConfigError(name, str(exc)) from None
    return value.rstrip("/")


@dataclass(frozen=True, slots=True)
class ConfigSchema:
    """The ordered fields of one connector kind."""

    fields: tuple[Field, ...] = ()

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate field names in schema: {names}")

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def get(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def settings_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.secret)

    @property
    def secret_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.secret)

    def parse(self, values: Mapping[str, object], *, partial: bool = False) -> dict[str, object]:
        """Typed, defaulted settings from ``values``; ConfigError names the first bad field.

        Unknown keys are refused (a typo must not be silently ignored).
        Secrets are not settings and are left out; ``partial`` skips the
        required check, for an edit that changes only some fields.
        """
        unknown = sorted(set(values) - {f.name for f in self.fields})
        if unknown:
            raise ConfigError(unknown[0], "is not a setting of this kind of account")
        out: dict[str, object] = {}
        for f in self.settings_fields:
            if f.name in values:
                value = f.parse(values[f.name])
            elif partial:
                continue
            else:
                value = None
            if value is None:
                value = f.default
            if value is None and f.required and not partial:
                raise ConfigError(f.name, "is required")
            if value is not None:
                out[f.name] = value
        return out

    def missing_secrets(self, present: Iterable[str]) -> list[str]:
        """Required secrets that are not among ``present`` (their names)."""
        have = set(present)
        return [f.name for f in self.secret_fields if f.required and f.name not in have]


def base_url_field(default: str, *, help: str = "") -> Field:
    """The ``base_url`` every HTTP connector has: sandbox, regional host or a local fake."""
    return Field(
        "base_url",
        "API address",
        FieldType.URL,
        help=help or "The platform's API host. Change it for the sandbox, another region or a local test server.",
        default=default,
        advanced=True,
    )
