"""Connector registry: channel kind → connector class.

Connector packages register themselves on import; ``load_builtin()`` imports
the packages shipped with the helpdesk so the registry is complete before the
first poll.
"""

from __future__ import annotations

import importlib

from channels.base import Connector

_REGISTRY: dict[str, type[Connector]] = {}

BUILTIN_PACKAGES: tuple[str, ...] = ("channels.email.connector", "channels.demo")


def register(cls: type[Connector]) -> type[Connector]:
    """Class decorator: make ``cls`` the connector for ``cls.kind``."""
    existing = _REGISTRY.get(cls.kind)
    if existing is not None and existing is not cls:
        raise ValueError(f"channel kind {cls.kind!r} is already registered by {existing.__qualname__}")
    _REGISTRY[cls.kind] = cls
    return cls


def get(kind: str) -> type[Connector]:
    """The connector class for ``kind``; KeyError names the known kinds."""
    load_builtin()
    try:
        return _REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise KeyError(f"no connector for channel kind {kind!r} (known: {known})") from None


def kinds() -> list[str]:
    """Every registered kind, sorted."""
    load_builtin()
    return sorted(_REGISTRY)


def load_builtin() -> None:
    """Import the connector packages that ship with the helpdesk."""
    for name in BUILTIN_PACKAGES:
        importlib.import_module(name)
