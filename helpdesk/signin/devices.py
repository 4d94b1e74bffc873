"""A short name for the browser a session was started in ("Firefox · Windows").

Only this summary is kept with a session record: enough for a user to tell
their laptop from their phone on the security page, without storing the
full User-Agent string (which helps fingerprinting and tells them nothing).
Product names are the same in every language, so the summary needs no
translation: the two parts are joined by a middle dot.
"""

from __future__ import annotations

# Checked in order: Edge and Opera also say "Chrome", Chrome also says "Safari".
BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("CriOS/", "Chrome"),
    ("Safari/", "Safari"),
)
# Android also says "Linux", iPhones also say "Mac OS X".
SYSTEMS = (
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("CrOS", "ChromeOS"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def _first(user_agent: str, names: tuple[tuple[str, str], ...]) -> str | None:
    return next((name for marker, name in names if marker in user_agent), None)


def describe_device(user_agent: str | None) -> str:
    """``"Firefox · Windows"``, ``"Chrome"``, ``"Linux"``, or the start of a string that names neither."""
    user_agent = (user_agent or "").strip()
    known = [name for name in (_first(user_agent, BROWSERS), _first(user_agent, SYSTEMS)) if name]
    return " · ".join(known) if known else user_agent[:60]
