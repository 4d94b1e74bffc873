"""Attachment file names that are safe to store, show and send back in a header.

A name comes from a buyer's mail client, a marketplace's API or an agent's
upload; any of them may hold folders (``../../etc/passwd``), line breaks or
other control characters.  A line break in a stored name once made the file
impossible to download (the header could not be written), so every name is
cleaned when it is stored — by the ingest pipeline and by uploads — and again
when it is sent, for rows stored before.  Letters of every script stay.
"""

from __future__ import annotations

import re
import unicodedata

MAX_FILENAME = 255
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f\u2028\u2029/\\:*?"<>|]+')


def safe_filename(name: str) -> str:
    """The file's own name without folders or characters that break headers and file systems.

    Letters of every script stay (a Chinese invoice keeps its name); a name
    that is nothing but dots or unsafe characters becomes ``attachment``.
    """
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" ._")
    if not name:
        return "attachment"
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot else ""
        name = (stem if dot else name)[: MAX_FILENAME - len(ext) - 1].rstrip() + (f".{ext}" if ext else "")
    return name
