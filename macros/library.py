"""The shipped macro library: one TOML file per macro in ``macros/library/``.

TOML because it is in the standard library (``tomllib``) and because its
multi-line strings keep a reply's line breaks exactly as written::

    key = "where-is-my-order"
    tags = ["shipping", "tracking"]
    platforms = []                    # empty: every marketplace

    [title]
    en = "Where is my order?"
    de = "Wo ist meine Bestellung?"

    [description]
    en = "The order is on its way: tracking number and expected delivery."

    [actions]                         # all optional
    status = "pending"
    add_tags = ["tracking-sent"]

    [body]
    en = '''
    Hello {{ customer.first_name }},
    …
    '''

A malformed file is refused with its name and the field; the library is
read once per process.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from macros.model import Macro, MacroError, actions_from

LIBRARY = Path(__file__).resolve().parent / "library"
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
_LOCALE = re.compile(r"^[a-z]{2,3}(?:_[A-Z][a-z]{3})?(?:_[A-Z]{2})?$")


def _texts(data: Mapping[str, object], field: str, where: str, *, required: bool) -> dict[str, str]:
    value = data.get(field, {})
    if not isinstance(value, dict):
        raise MacroError(where, f"[{field}] must be a table of locale = text")
    out = {}
    for locale, text in value.items():
        if not _LOCALE.match(locale):
            raise MacroError(where, f"{field}.{locale} is not a locale (e.g. de, pt_BR, zh_Hans)")
        if not isinstance(text, str) or not text.strip():
            raise MacroError(where, f"{field}.{locale} must be text")
        out[locale] = text.strip("\n") if field == "body" else text.strip()
    if required and not out:
        raise MacroError(where, f"[{field}] needs at least one locale")
    return out


def macro_from(data: Mapping[str, object], where: str, *, source: str = "shipped") -> Macro:
    """A Macro from its file (or stored) shape; MacroError names what is wrong."""
    key = data.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        raise MacroError(where, "key must be lower-case letters, digits and dashes")
    for field in ("tags", "platforms"):
        value = data.get(field, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise MacroError(where, f"{field} must be a list of strings")
    unknown = set(data) - {"key", "tags", "platforms", "title", "description", "actions", "body", "retired"}
    if unknown:
        raise MacroError(where, f"{sorted(unknown)[0]} is not a field of a macro")
    actions = data.get("actions", {})
    if not isinstance(actions, dict):
        raise MacroError(where, "[actions] must be a table")
    bodies = _texts(data, "body", where, required=True)
    titles = _texts(data, "title", where, required=True)
    return Macro(
        key=key,
        titles=titles,
        bodies=bodies,
        descriptions=_texts(data, "description", where, required=False),
        tags=tuple(data.get("tags", [])),  # type: ignore[arg-type]
        platforms=tuple(data.get("platforms", [])),  # type: ignore[arg-type]
        actions=actions_from(actions, where),
        source=source,
        retired=bool(data.get("retired", False)),
    )


def load_file(path: Path) -> Macro:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise MacroError(path.name, f"not valid TOML: {exc}") from None
    macro = macro_from(data, path.name)
    if path.stem != macro.key:
        raise MacroError(path.name, f"the file must be named after its key ({macro.key}.toml)")
    return macro


@functools.cache
def shipped() -> dict[str, Macro]:
    """Every shipped macro by key (read once per process)."""
    return {m.key: m for m in (load_file(p) for p in sorted(LIBRARY.glob("*.toml")))}
