"""Plain text from an HTML mail body, for search, previews and reply splitting.

This is not sanitising: the HTML itself is kept raw and cleaned at display
time.  The text keeps paragraph structure, drops what a reader never sees
(``<script>``, ``<style>``, ``<head>``, comments) and marks ``<blockquote>``
lines with ``>`` so quoted history in HTML-only replies can still be split off.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["MAX_HTML_CHARS", "html_charset", "html_to_text"]

MAX_HTML_CHARS = 256 * 1024

_BLOCK = frozenset(
    {
        "address", "article", "aside", "center", "dd", "div", "dt", "fieldset", "figcaption", "figure", "footer",
        "form", "header", "li", "main", "nav", "section", "tbody", "thead", "tfoot", "tr",
    }
)  # fmt: skip
_PARAGRAPH = frozenset({"blockquote", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "ol", "p", "pre", "table", "ul"})
_HIDDEN = frozenset({"script", "style", "head", "title", "template", "noscript", "object", "svg"})
_SPACE = re.compile(r"[ \t\r\n\f\u00a0\u200b]+")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_CHARSET_SNIFF = 4096


class _TextExtractor(HTMLParser):
    """Collects visible text line by line; paragraphs are separated by one blank line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.hidden = 0
        self.quote = 0
        self.pre = 0
        self.blank_pending = False
        self.depths: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.hidden = 0  # an unclosed <head> must not hide the whole mail
        elif tag in _HIDDEN:
            self.hidden += 1
        elif tag == "br":
            self.line_break()
        elif tag in _PARAGRAPH:
            self.paragraph()
            if tag == "blockquote":
                self.quote += 1
            elif tag == "pre":
                self.pre += 1
        elif tag in _BLOCK:
            self.flush()
            if tag == "li":
                self.current.append("- ")
        elif tag in {"td", "th"} and self.current:
            self.current.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.line_break()
        elif tag in _PARAGRAPH or tag in _BLOCK:
            self.flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _PARAGRAPH:
            self.paragraph()
            if tag == "blockquote":
                self.quote = max(0, self.quote - 1)
            elif tag == "pre":
                self.pre = max(0, self.pre - 1)
        elif tag in _BLOCK:
            self.flush()

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        if not self.pre:
            self.current.append(_SPACE.sub(" ", data))
            return
        first, *rest = data.split("\n")
        self.current.append(first)
        for line in rest:
            self.flush(keep_empty=True)
            self.current.append(line)

    def line_break(self) -> None:
        if "".join(self.current).strip():
            self.flush()
        else:
            self.current = []
            self.push("")

    def paragraph(self) -> None:
        self.flush()
        self.blank_pending = True

    def flush(self, *, keep_empty: bool = False) -> None:
        joined = "".join(self.current)
        self.current = []
        text = joined.rstrip() if self.pre else joined.strip()
        if text or keep_empty:
            if self.blank_pending and self.lines and self.lines[-1].strip("> "):
                self.push("", depth=min(self.quote, self.depths[-1]))
            self.blank_pending = False
            self.push(text)

    def push(self, text: str, *, depth: int | None = None) -> None:
        """Add a line, marked with ``>`` once per enclosing blockquote."""
        level = self.quote if depth is None else depth
        prefix = "> " * level
        self.lines.append(f"{prefix}{text}" if text else prefix.rstrip())
        self.depths.append(level)


def html_to_text(html: str, *, limit: int = MAX_HTML_CHARS) -> str:
    """Readable text of ``html``; never raises on broken markup.

    Only the first ``limit`` characters are read: no person writes a
    megabyte of HTML to a helpdesk, and the raw HTML is kept in full anyway.
    """
    parser = _TextExtractor()
    try:
        parser.feed(html[:limit])
        parser.close()
    except (AssertionError, ValueError, IndexError):  # pragma: no cover - stdlib parser edge cases
        pass
    parser.flush()
    lines: list[str] = []
    for line in parser.lines:
        if not line.strip("> ") and (not lines or not lines[-1].strip("> ")):
            continue
        lines.append(line)
    return "\n".join(lines).strip()


def html_charset(data: bytes) -> str | None:
    """The charset an HTML document declares in a ``<meta>`` tag, if any."""
    match = _META_CHARSET.search(data[:_CHARSET_SNIFF])
    return match.group(1).decode("ascii") if match else None
