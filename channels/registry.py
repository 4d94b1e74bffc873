"""Connector registry: channel kind → connector class, and what the classes declare.

Connector packages register themselves on import; ``load_builtin()`` imports
the packages shipped with the helpdesk so the registry is complete before the
first poll.  Adding a platform is one line in :data:`BUILTIN_PACKAGES`.

The helpdesk asks the registry, never a kind by name: which kinds exist,
which class serves a kind, and which parser turns a quarantined raw format
back into a record, and which rules a platform sets for replies.
"""

from __future__ import annotations

import importlib

from channels.base import Connector, RawParser
from macros.policy import ReplyPolicy

_REGISTRY: dict[str, type[Connector]] = {}
_RAW_PARSERS: dict[str, RawParser] = {}
_POLICIES: dict[str, ReplyPolicy] = {}

BUILTIN_PACKAGES: tuple[str, ...] = (
    "channels.email.connector",
    "channels.amazon.connector",
    "channels.ebay.connector",
    "channels.shopify.connector",
    "channels.webhook.connector",
)


def register(cls: type[Connector]) -> type[Connector]:
    """Class decorator: make ``cls`` the connector for ``cls.kind``, with its raw formats."""
    existing = _REGISTRY.get(cls.kind)
    if existing is not None and existing is not cls:
        raise ValueError(f"channel kind {cls.kind!r} is already registered by {existing.__qualname__}")
    for name, parser in cls.raw_formats.items():
        known = _RAW_PARSERS.get(name)
        if known is not None and known is not parser:
            raise ValueError(f"raw format {name!r} of {cls.kind!r} is already registered")
        _RAW_PARSERS[name] = parser
    for platform, policy in cls.reply_policies.items():
        known_policy = _POLICIES.get(platform)
        if known_policy is not None and known_policy != policy:
            raise ValueError(f"platform {platform!r} already has a reply policy")
        _POLICIES[platform] = policy
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


def raw_parser(raw_format: str) -> RawParser | None:
    """The parser a connector declared for ``raw_format``, or None."""
    load_builtin()
    return _RAW_PARSERS.get(raw_format)


def reply_policy(platform: str | None) -> ReplyPolicy | None:
    """The rules replies on ``platform`` must keep, as its connector package declared them."""
    load_builtin()
    return _POLICIES.get(platform) if platform else None


def load_builtin() -> None:
    """Import the connector packages that ship with the helpdesk."""
    for name in BUILTIN_PACKAGES:
        importlib.import_module(name)
