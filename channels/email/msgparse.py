"""``email.message_from_bytes`` with the ``compat32`` policy, without a regex compile per MIME boundary.

The stdlib parser compiles a regular expression for the boundary of every
multipart it meets.  Boundaries are random, so ``re``'s cache never helps,
and on mail with attachments those compiles are a large share of the whole
parse.  Here the stdlib's own parser code runs unchanged, except that the
``re`` it sees hands back a plain prefix test plus one shared, precompiled
pattern for the rest of the boundary line: the same matches, so the same
message tree.  Should a Python release build the pattern differently, it
is compiled as before.
"""

from __future__ import annotations

import re
import types
from email import feedparser
from email.message import Message
from email.policy import compat32
from operator import itemgetter

__all__ = ["message_from_bytes"]

# How the stdlib builds a boundary pattern: prefix + re.escape("--" + boundary) + suffix.
_BOUNDARY_PREFIX = "(?P<sep>"
_BOUNDARY_SUFFIX = r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
# What follows the separator, matched where it ends; the groups the parser reads are the same.
_BOUNDARY_TAIL = re.compile(r"(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$")
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)
_ESCAPED_CHARACTER = itemgetter(1)  # a C-level replacement: a "\1" template is expanded in Python
_CHUNK = 8192  # what email.parser.Parser feeds at a time


class _BoundaryPattern:
    """``re.compile(prefix + re.escape(separator) + suffix)``, answering ``match`` alike."""

    __slots__ = ("_length", "_separator")

    def __init__(self, separator: str) -> None:
        self._separator = separator
        self._length = len(separator)

    def match(self, line: str) -> re.Match[str] | None:
        if not line.startswith(self._separator):
            return None
        return _BOUNDARY_TAIL.match(line, self._length)


def _boundary_compile(pattern: str, flags: int = 0) -> re.Pattern[str] | _BoundaryPattern:
    """``re.compile``, except that boundary patterns are answered without compiling."""
    if not flags and pattern.startswith(_BOUNDARY_PREFIX) and pattern.endswith(_BOUNDARY_SUFFIX):
        escaped = pattern[len(_BOUNDARY_PREFIX) : -len(_BOUNDARY_SUFFIX)]
        separator = _ESCAPED.sub(_ESCAPED_CHARACTER, escaped)
        if re.escape(separator) == escaped:
            return _BoundaryPattern(separator)
    return re.compile(pattern, flags)


# The ``re`` the parser's body sees: the real module with that one function replaced.
_BOUNDARY_RE = types.ModuleType("re")
_BOUNDARY_RE.__dict__.update(vars(re), compile=_boundary_compile)


def _with_boundary_re(function: types.FunctionType) -> types.FunctionType:
    """``function`` with the same code and globals, except for ``re`` (unchanged if it closes over anything)."""
    if function.__closure__ is not None or function.__kwdefaults__:
        return function  # a shape this copy does not reproduce: keep the stdlib's own
    namespace = dict(function.__globals__, re=_BOUNDARY_RE)
    copy = types.FunctionType(function.__code__, namespace, function.__name__, function.__defaults__)
    copy.__qualname__ = function.__qualname__
    return copy


class _FeedParser(feedparser.FeedParser):
    """The stdlib feed parser whose parsing generator sees :data:`_BOUNDARY_RE` as ``re``."""

    _parsegen = _with_boundary_re(feedparser.FeedParser._parsegen)


def message_from_bytes(data: bytes) -> Message:
    """The message ``email.message_from_bytes(data, policy=compat32)`` returns, built the same way."""
    text = data.decode("ascii", "surrogateescape")
    parser = _FeedParser(policy=compat32)
    for start in range(0, len(text), _CHUNK):
        parser.feed(text[start : start + _CHUNK])
    return parser.close()
