"""A parsed mail's MIME parts, each with its header fields looked up once.

``Message.get`` scans every header field of a part and lowercases each name
on every call, and ``get_content_type`` parses the field again each time.
The body walk, attachment naming and bounce detection together ask each
part a dozen such questions, so the tree is read once into :class:`MimePart`
objects that answer from a dict, exactly as the ``compat32`` message would.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import Message
from email.utils import collapse_rfc2231_value, unquote

__all__ = ["MimePart", "mime_tree"]


class MimePart:
    """One part of a mail: the message object, its first header values and its sub-parts.

    ``content_type`` is what ``Message.get_content_type()`` returns;
    ``children`` are the parts of a multipart or the message inside a
    ``message/*`` part, in order.
    """

    __slots__ = ("_fields", "children", "content_type", "message")

    def __init__(self, message: Message, fields: dict[str, str] | None = None) -> None:
        self.message = message
        self._fields = fields
        # Most parts are only asked their type (those inside attached messages), so
        # the fields are collected when first needed.
        value = fields.get("content-type") if fields is not None else _first_content_type(message)
        self.content_type = _content_type(message, value)
        self.children: list[MimePart] = []

    @property
    def fields(self) -> dict[str, str]:
        """The first value of each header field, by lowercased name, as parsed."""
        if self._fields is None:
            # Reversed, so that the first of repeated fields is the one kept.
            self._fields = {name.lower(): value for name, value in reversed(list(self.message.raw_items()))}
        return self._fields

    def get(self, name: str) -> str | None:
        """The first ``name`` field as text, as ``str(Message.get(name))`` gives it; None when absent."""
        value = self.fields.get(name)
        if value is None or (isinstance(value, str) and value.isascii()):
            return value
        return str(self.message.get(name))  # 8-bit bytes become U+FFFD, as a compat32 Header prints them

    def raw(self, name: str) -> str | None:
        """The first ``name`` field exactly as it was parsed (8-bit bytes as surrogates)."""
        value = self.fields.get(name)
        return value if value is None or isinstance(value, str) else str(value)

    def param(self, name: str) -> str | tuple[str, str, str] | None:
        """``Message.get_param(name)`` of the Content-Type field (``name`` lowercase).

        Values without backslashes, RFC 2231 sections or 8-bit bytes, which
        is nearly all of them, are read here the way the stdlib reads them;
        the rest go to the stdlib.
        """
        value = self.fields.get("content-type")
        if value is None:
            return None
        if isinstance(value, str) and value.isascii() and "\\" not in value and "*" not in value:
            return _simple_param(value, name)
        return self.message.get_param(name)

    def boundary(self) -> str | None:
        """``Message.get_boundary()``, read as :meth:`param` reads parameters."""
        value = self.param("boundary")
        return None if value is None else collapse_rfc2231_value(value).rstrip()

    def walk(self) -> Iterator[MimePart]:
        """This part and every part below it, depth first, as ``Message.walk`` visits them."""
        stack = [self]
        while stack:
            part = stack.pop()
            yield part
            stack.extend(reversed(part.children))


def mime_tree(msg: Message, fields: dict[str, str] | None = None) -> MimePart:
    """Read ``msg`` and all its sub-parts into :class:`MimePart` objects.

    ``fields`` may give the first value of each of ``msg``'s own header
    fields by lowercased name, when the caller has read them already.
    """
    root = MimePart(msg, fields)
    stack = [root]
    while stack:
        part = stack.pop()
        payload = part.message.get_payload() if part.message.is_multipart() else None
        if payload:
            part.children = [MimePart(child) for child in payload if isinstance(child, Message)]
            stack.extend(part.children)
    return root


def _first_content_type(message: Message) -> str | None:
    for name, value in message.raw_items():
        if len(name) == 12 and name.lower() == "content-type":  # the length test spares most lower() calls
            return value
    return None


def _content_type(message: Message, value: object) -> str:
    if value is None:
        return message.get_default_type()
    if not isinstance(value, str) or not value.isascii():
        return message.get_content_type()  # a Header or 8-bit bytes: let the stdlib print it
    ctype = value.partition(";")[0].strip().lower()
    return ctype if ctype.count("/") == 1 else "text/plain"


def _simple_param(value: str, name: str) -> str | None:
    """``get_param`` for a field without backslashes, ``*`` or 8-bit bytes, step for step.

    The stdlib splits at semicolons outside quotes, matches names without
    case, and for such values returns the first match's value unquoted once.
    """
    rest = value
    while True:
        end = rest.find(";")
        while end > 0 and rest.count('"', 0, end) % 2:
            end = rest.find(";", end + 1)
        key, sep, found = (rest if end < 0 else rest[:end]).partition("=")
        if key.strip().lower() == name:
            return unquote(found.strip()) if sep else ""
        if end < 0:
            return None
        rest = rest[end + 1 :]
