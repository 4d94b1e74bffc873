"""The sections of the administration page, declared by the feature packages that own them.

A feature adds its page here (users, teams, sign-in security, channels, API
tokens, webhooks, audit log…) so the administration index never has to know
which features exist; a section whose endpoint is not registered is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Section:
    """One entry of the administration index."""

    endpoint: str  # Flask endpoint of the section's page
    title: object  # lazy translated string
    description: object
    leads_read_only: bool = False  # leads may open it without changing anything
    order: int = 100


SECTIONS: list[Section] = [
    Section(
        "channels.index",
        _l("Channels"),
        _l("Stores and mailboxes: connect, test, pause, and see each one's health."),
        leads_read_only=True,
        order=30,
    ),
    Section(
        "sla.policies",
        _l("SLA policies"),
        _l("Response-time targets per platform, store and priority."),
        leads_read_only=True,
        order=40,
    ),
]


def add_section(section: Section) -> None:
    """Declare a section; called at import time by the package that owns the page."""
    if all(s.endpoint != section.endpoint for s in SECTIONS):
        SECTIONS.append(section)
