"""Repair the header block of mail damaged in transit, before the stdlib parser reads it.

The parser ends the header block at the first line that is neither a field
nor a continuation, and takes everything from there as body: one damaged
line hides every header below it.  The checks here are two regular
expression tests over the header block, so well-formed mail pays nothing
more; only a block that has such a line is taken apart and rebuilt.
"""

from __future__ import annotations

import re

__all__ = ["repair_header_block"]

# A field name as real mail writes it.  The parser takes any printable
# characters but the colon; a name that starts with something else (``"``,
# ``(``, ``<``, ``=?``) is the rest of a quoted name, comment or encoded word.
_NAME = rb"[A-Za-z0-9][!-9;-~]*"
# A line that neither continues a field nor starts one.  Searched for after
# each line break (a MULTILINE ``^`` would be tried at every byte).
_BAD_FIRST_LINE = re.compile(rb"(?![ \t]|" + _NAME + rb":|From )")
_BAD_NEXT_LINE = re.compile(rb"\n(?![ \t]|" + _NAME + rb":|From )")
# Lines the repair loop keeps as they are: a field, or a continuation with
# something on it (and a "From " line as the first, unless it is "From :").
_KEPT_FIRST_LINE = re.compile(rb"[ \t][^\n]*?[^ \t\n\r\x0b\x0c]|" + _NAME + rb":|From (?![ \t]*:)")
_CHANGED_NEXT_LINE = re.compile(rb"\n(?![ \t][^\n]*?[^ \t\n\r\x0b\x0c]|" + _NAME + rb":)")
_SPACED_NAME = re.compile(rb"^(" + _NAME + rb")[ \t]+:")
_VALID_HEADER = re.compile(rb"^" + _NAME + rb":")
# A field that shows the header block goes on after a damaged line: a name
# real mail carries (a body line such as "Order: 1042" or "http://…" is not).
_KNOWN_FIELD = re.compile(
    rb"(?:x-|content-|list-|resent-|arc-|thread-)[!-9;-~]*[ \t]*:"
    rb"|(?:from|sender|reply-to|to|cc|bcc|subject|date|message-id|in-reply-to|references|mime-version"
    rb"|received|received-spf|return-path|delivered-to|envelope-to|dkim-signature|domainkey-signature"
    rb"|authentication-results|importance|priority|precedence|auto-submitted|organization|user-agent"
    rb"|comments|keywords|disposition-notification-to|errors-to|feedback-id|accept-language|autocrypt"
    rb"|sensitivity|status)[ \t]*:",
    re.IGNORECASE,
)
_QUOTED_PAIR = re.compile(rb"\\.")
_QUOTED_STRING = re.compile(rb'"[^"]*"')
# What becomes of a damaged line.
_REJOIN, _DROP, _BODY = "rejoin", "drop", "body"
# Damaged lines in a row taken for lost white space; a longer run is text.
_STRAY_RUN = 3
# Free text: any line may continue them.
_TEXT_FIELDS = frozenset({b"subject", b"comments", b"keywords", b"thread-topic", b"content-description"})
# Structured fields whose open quote, angle bracket or comment shows that the value goes on.
_ADDRESS_FIELDS = frozenset(
    {
        b"from", b"sender", b"reply-to", b"to", b"cc", b"bcc", b"return-path", b"disposition-notification-to",
        b"resent-from", b"resent-sender", b"resent-to", b"resent-cc", b"message-id", b"in-reply-to", b"references",
    }
)  # fmt: skip


def repair_header_block(raw: bytes) -> bytes:
    """Fix header-block damage that would make the parser drop real headers.

    ``Name   : value`` (obsolete syntax) becomes ``Name: value``.  A line
    that is not a valid field is, when more fields follow it:

    * dropped, if no field came before it: a stray line ahead of the
      header (``>From …``, a word), which would otherwise make the whole
      mail body;
    * rejoined to the field above as a continuation, when it is one that
      lost its leading white space: it has no colon, or it continues free
      text (Subject) or an address whose quote or bracket is still open;
    * otherwise, if it has a colon (a field name with spaces, say) or
      continuation lines, dropped with them.

    An open quote or bracket in an address also rejoins the last line of the
    block.  Any other line still starts the body, as it does for mail that
    lacks the blank line after its header; so does a run of more than
    :data:`_STRAY_RUN` such lines, which is text rather than damage.
    """
    end = _header_end(raw)
    block = raw if end is None else raw[:end]
    if not _BAD_FIRST_LINE.match(block) and not _BAD_NEXT_LINE.search(block):
        return raw
    lines = block.split(b"\n")
    first = _first_line_to_repair(block)
    repaired: list[bytes] = lines[:first]  # the loop below would keep these as they are
    skipping = False
    for index, line in enumerate(lines[first:], first):
        if line[:1] in b" \t" and line.strip():
            if not skipping:
                repaired.append(line)
            continue
        skipping = False
        spaced = _SPACED_NAME.match(line)
        if spaced:
            repaired.append(spaced.group(1) + b":" + line[spaced.end() :])
        elif not line.strip(b"\r") or _VALID_HEADER.match(line) or (index == 0 and line.startswith(b"From ")):
            repaired.append(line)
        else:
            action = _damaged_line(line, lines, index, repaired)
            if action is _REJOIN:
                repaired.append(b" " + line)
            elif action is _DROP:
                skipping = True
            else:
                repaired.extend(lines[index:])
                break
    return b"\n".join(repaired) + (b"" if end is None else raw[end:])


def _damaged_line(line: bytes, lines: list[bytes], index: int, repaired: list[bytes]) -> str:
    """:data:`_REJOIN`, :data:`_DROP` or :data:`_BODY` for a line that is neither a field nor a continuation."""
    if not line.strip():
        return _BODY  # a line of white space ends the header block for the parser
    following = _fields_follow(lines, index)
    field = None if line.startswith(b"From ") else _last_field(repaired)
    if field is None:
        if following is True:
            return _DROP  # ahead of the first field, or a misplaced mbox "From " line
    else:
        name, value = field
        if following is not False and name in _ADDRESS_FIELDS and _unfinished(value):
            return _REJOIN
        if following is True and (b":" not in line or name in _TEXT_FIELDS):
            return _REJOIN
    if (b":" in line or _continued(lines, index)) and _header_like(_next_field(lines, index)):
        return _DROP
    return _BODY


def _fields_follow(lines: list[bytes], index: int) -> bool | None:
    """After the damaged line at ``index``: True if a field follows, None if the block ends, else False.

    Only a field with a name real mail uses counts.  Continuation lines are
    passed over, and so are further damaged lines as long as the run stays
    within :data:`_STRAY_RUN`.  A line of white space ends the block for the
    parser, and a MIME boundary line starts the body, so either means False.
    """
    run = 1
    for line in lines[index + 1 :]:
        if line[:1] in b" \t" and line.strip():
            continue
        if _KNOWN_FIELD.match(line):
            return True
        run += 1
        if not line.strip() or line.startswith(b"--") or run > _STRAY_RUN:
            return False  # a MIME boundary, too, shows that the body has begun
    return None


def _last_field(repaired: list[bytes]) -> tuple[bytes, bytes] | None:
    """Lowercased name and raw value (continuations included) of the last field; None before the first."""
    for position in range(len(repaired) - 1, -1, -1):
        line = repaired[position]
        if line[:1] in b" \t":
            continue
        name, colon, value = line.partition(b":")
        if not colon or not _VALID_HEADER.match(line):
            return None
        return name.strip().lower(), b"".join([value, *repaired[position + 1 :]])
    return None


def _unfinished(value: bytes) -> bool:
    """An address value whose quoted string, angle bracket or comment is still open."""
    text = _QUOTED_PAIR.sub(b"", value)
    if text.count(b'"') % 2:
        return True
    text = _QUOTED_STRING.sub(b"", text)
    return text.count(b"<") > text.count(b">") or text.count(b"(") > text.count(b")")


def _first_line_to_repair(block: bytes) -> int:
    """Index of the first line the repair loop might change: all before it are fields or continuations."""
    if _KEPT_FIRST_LINE.match(block) is None:
        return 0
    found = _CHANGED_NEXT_LINE.search(block)
    return len(block.split(b"\n")) if found is None else block.count(b"\n", 0, found.start() + 1)


def _header_end(raw: bytes) -> int | None:
    """Where the first blank line (``\\r?\\n\\r?\\n``) starts, or None.

    Two ``find`` calls instead of a regex search, which tries every byte of
    the header block and costs more than everything else here.  The line
    end the mail uses is looked for first, so that the other search (whose
    blank line would usually not be found at all) stops where it was found.
    """
    first = raw.find(b"\n")
    if first > 0 and raw[first - 1] == 0x0D:
        crlf = raw.find(b"\n\r\n")
        lf = raw.find(b"\n\n", 0, len(raw) if crlf < 0 else crlf + 2)
    else:
        lf = raw.find(b"\n\n")
        crlf = raw.find(b"\n\r\n", 0, len(raw) if lf < 0 else lf + 2)
    newline = crlf if lf < 0 else lf if crlf < 0 else min(crlf, lf)
    if newline < 0:
        return None
    return newline - 1 if newline and raw[newline - 1] == 0x0D else newline


def _next_field(lines: list[bytes], index: int) -> bytes | None:
    """The next line after ``index`` that is not a continuation; None at the end."""
    for line in lines[index + 1 :]:
        if line[:1] not in b" \t" or not line.strip():
            return line
    return None


def _continued(lines: list[bytes], index: int) -> bool:
    following = lines[index + 1] if index + 1 < len(lines) else b""
    return following[:1] in b" \t" and bool(following.strip())


def _header_like(line: bytes | None) -> bool:
    return line is None or b":" in line
