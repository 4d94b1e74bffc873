"""Every module that adds routes to the API blueprint or parts to its document; importing this registers them all.

One line per resource keeps the app factory free of API details, and the
OpenAPI document complete: a route module not listed here does not exist.
"""

from __future__ import annotations

from types import ModuleType

from helpdesk.api import (
    channels,
    customers,
    directory,
    docs_views,
    events,
    inbound,
    messages,
    orders,
    reports,
    sla,
    tickets,
    views,
    webhooks,
)
from helpdesk.macros import api as macros_api
from helpdesk.notifications import api as notifications_api

MODULES: tuple[ModuleType, ...] = (
    views,
    docs_views,
    directory,
    tickets,
    messages,
    reports,
    sla,
    macros_api,
    notifications_api,
    channels,
    webhooks,
    events,
    inbound,
    customers,
    orders,
)
