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

# A line that neither continues a field nor starts one.  Searched for after
# each line break (a MULTILINE ``^`` would be tried at every byte).
_BAD_FIRST_LINE = re.compile(rb"(?![ \t]|[!-9;-~]+:|From )")
_BAD_NEXT_LINE = re.compile(rb"\n(?![ \t]|[!-9;-~]+:|From )")
# Lines the repair loop keeps as they are: a field, or a continuation with
# something on it (and a "From " line as the first, unless it is "From :").
_KEPT_FIRST_LINE = re.compile(rb"[ \t][^\n]*?[^ \t\n\r\x0b\x0c]|[!-9;-~]+:|From (?![ \t]*:)")
_CHANGED_NEXT_LINE = re.compile(rb"\n(?![ \t][^\n]*?[^ \t\n\r\x0b\x0c]|[!-9;-~]+:)")
_SPACED_NAME = re.compile(rb"^([!-9;-~]+)[ \t]+:")
_VALID_HEADER = re.compile(rb"^[!-9;-~]+:")


def repair_header_block(raw: bytes) -> bytes:
    """Fix header-block damage that would make the parser drop real headers.

    ``Name   : value`` (obsolete syntax) becomes ``Name: value``.  A line
    that is not a valid field but has a colon (a field name with spaces,
    say), or one followed by continuation lines, is dropped with them when
    more header fields or the end of the header block follow; without this
    the parser would take it as the start of the body and lose the fields
    below it.  Any other line still starts the body, as it does for mail
    that lacks the blank line after its header.
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
        elif (b":" in line or _continued(lines, index)) and _header_like(_next_field(lines, index)):
            skipping = True
        else:
            repaired.extend(lines[index:])
            break
    return b"\n".join(repaired) + (b"" if end is None else raw[end:])


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
