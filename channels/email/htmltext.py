"""Plain text from an HTML mail body, for search, previews and reply splitting.

This is not sanitising: the HTML itself is kept raw and cleaned at display
time.  The text keeps paragraph structure, drops what a reader never sees
(``<script>``, ``<style>``, ``<head>``, comments) and marks ``<blockquote>``
lines with ``>`` so quoted history in HTML-only replies can still be split off.

The markup is read by libxml2's HTML parser (through lxml's event target
interface, so no tree is built): the pure-Python ``html.parser`` cost more
than a whole MIME parse on large HTML-only mails.  libxml2 also closes
elements the author left open (a ``<p>`` at the end of its table cell, an
unclosed ``<head>``), so such text is neither glued to the next block nor
hidden.
"""

from __future__ import annotations

import re

from lxml import etree

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
_CELLS = frozenset({"td", "th"})
_SPACE = re.compile(r"[ \t\r\n\f\u00a0\u200b]+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_CHARSET_SNIFF = 4096


class _TextExtractor:
    """Collects visible text line by line; paragraphs are separated by one blank line.

    An lxml parser target: libxml2 calls ``start``/``end``/``data``/``comment``
    as it reads.  It may deliver one run of text in several ``data`` calls
    (around entities, say), so text is buffered until the next tag, comment
    or processing instruction and its whitespace collapsed as one run.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.current: list[str] = []
        self.text: list[str] = []
        self.hidden = 0
        self.quote = 0
        self.pre = 0
        self.blank_pending = False
        self.depths: list[int] = []

    # --- the lxml target interface ---

    def start(self, tag: str, attrib: object) -> None:
        if self.text:
            self.run()
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
        elif tag in _CELLS and self.current:
            self.current.append(" ")

    def end(self, tag: str) -> None:
        if self.text:
            self.run()
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

    def data(self, data: str) -> None:
        if not self.hidden:
            self.text.append(data)

    def comment(self, text: str) -> None:
        if self.text:
            self.run()

    pi = comment

    def close(self) -> None:
        if self.text:
            self.run()
        self.flush()

    # --- building lines ---

    def run(self) -> None:
        """Add the buffered run of text between two tags."""
        data = "".join(self.text)
        self.text = []
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
    html = html[:limit]
    if not html.isascii() and _SURROGATE.search(html):
        html = _SURROGATE.sub("\ufffd", html)  # libxml2 takes UTF-8, which cannot carry them
    extractor = _TextExtractor()
    parser = etree.HTMLParser(target=extractor, no_network=True, huge_tree=True)
    try:
        parser.feed(html)
        parser.close()
    except etree.LxmlError:  # pragma: no cover - libxml2 recovers from broken markup itself
        extractor.close()
    lines: list[str] = []
    for line in extractor.lines:
        if not line.strip("> ") and (not lines or not lines[-1].strip("> ")):
            continue
        lines.append(line)
    return "\n".join(lines).strip()


def html_charset(data: bytes) -> str | None:
    """The charset an HTML document declares in a ``<meta>`` tag, if any."""
    match = _META_CHARSET.search(data[:_CHARSET_SNIFF])
    return match.group(1).decode("ascii") if match else None
