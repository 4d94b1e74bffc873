"""A macro: a reply in many languages, the marketplaces it suits and what using it does.

One shape for all macros: those shipped as files in ``macros/library/`` and
those leads write in the helpdesk (kept in the database in the same shape;
a shipped macro is changed by overriding it, never edited in place).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

STATUSES = ("new", "open", "pending", "solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")


class MacroError(ValueError):
    """A macro is malformed; ``where`` names the file or macro and the field."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


@dataclass(frozen=True, slots=True)
class MacroActions:
    """What using the macro does to the ticket besides inserting the text."""

    status: str | None = None
    priority: str | None = None
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    assign_to_me: bool = False

    @property
    def any(self) -> bool:
        return bool(self.status or self.priority or self.add_tags or self.remove_tags or self.assign_to_me)


@dataclass(frozen=True, slots=True)
class Macro:
    """A reply template: ``bodies`` maps a locale (``de``, ``pt_BR``, ``zh_Hans``) to a Jinja body."""

    key: str
    titles: Mapping[str, str]
    bodies: Mapping[str, str]
    descriptions: Mapping[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()  # empty: every marketplace
    actions: MacroActions = MacroActions()
    source: str = "shipped"  # shipped, custom, or override (a lead's version of a shipped one)
    retired: bool = False

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(self.bodies)

    def title(self, locale: str, fallback: str = "en") -> str:
        return _pick(self.titles, locale, fallback) or self.key

    def description(self, locale: str, fallback: str = "en") -> str:
        return _pick(self.descriptions, locale, fallback) or ""

    def suits(self, platform: str | None) -> bool:
        return not self.platforms or platform in self.platforms


def _pick(values: Mapping[str, str], locale: str, fallback: str) -> str | None:
    language = locale.split("_", maxsplit=1)[0]
    for candidate in (locale, language, fallback):
        if candidate in values:
            return values[candidate]
    return next(iter(values.values()), None)


def actions_from(data: Mapping[str, object], where: str) -> MacroActions:
    """Actions from their file or form shape; MacroError names what is wrong."""
    status = data.get("status")
    if status is not None and status not in STATUSES:
        raise MacroError(where, f"actions.status must be one of {', '.join(STATUSES)}, not {status!r}")
    priority = data.get("priority")
    if priority is not None and priority not in PRIORITIES:
        raise MacroError(where, f"actions.priority must be one of {', '.join(PRIORITIES)}, not {priority!r}")
    tags = {}
    for key in ("add_tags", "remove_tags"):
        value = data.get(key, [])
        if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
            raise MacroError(where, f"actions.{key} must be a list of tags")
        tags[key] = tuple(value)
    unknown = set(data) - {"status", "priority", "add_tags", "remove_tags", "assign_to_me"}
    if unknown:
        raise MacroError(where, f"actions.{sorted(unknown)[0]} is not an action")
    return MacroActions(
        status=str(status) if status else None,
        priority=str(priority) if priority else None,
        add_tags=tags["add_tags"],
        remove_tags=tags["remove_tags"],
        assign_to_me=bool(data.get("assign_to_me", False)),
    )
