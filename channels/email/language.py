"""A guess at the language of a mail, as a hint for agents and macros.

The e-mail parser asks this for every mail that neither a relay (Amazon's
site, eBay's) nor an auto-reply classification has already placed.  It
used to score Latin-script text by lists of function words and decide other
scripts by counting characters; on the helpdesk's evaluation set of short
buyer messages that named 66 % right (None for most short messages, and
nothing for Indonesian or Vietnamese), where :mod:`macros.language` names
99.6 %, so this now asks that.  The old script rules added nothing there
(the model is right on every Japanese, Chinese, Arabic and Thai message),
and the old removal of links and addresses is part of the detector.
"""

from __future__ import annotations

from macros.language import detect

__all__ = ["guess_language"]


def guess_language(text: str) -> str | None:
    """ISO 639-1 code of the language ``text`` is most likely in, or None when too short or unsure."""
    found = detect(text)
    return found.language if found is not None else None
