"""Import the modules whose listeners and tasks must be registered at start."""

from __future__ import annotations

import importlib

MODULES = (
    "helpdesk.customers.tasks",
    "helpdesk.realtime",
    "helpdesk.polling.tasks",
    "helpdesk.webhooks.tasks",
    "helpdesk.sla.tasks",
    "helpdesk.tickets.tasks",
    "helpdesk.housekeeping",
    "helpdesk.orders.freshness",
    "helpdesk.notifications.tasks",
    "helpdesk.notifications.live",
    "helpdesk.translation.tasks",
    "helpdesk.tickets.auto_translate",
)


def load() -> None:
    for name in MODULES:
        importlib.import_module(name)
