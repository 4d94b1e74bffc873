"""Which inside addresses this helpdesk may call out to: the app's settings as a ``channels.netguard`` policy.

``HELPDESK_ALLOW_PRIVATE_URLS=true`` allows every non-public address (a
helpdesk whose marketplaces' relays or ERP live in its own network);
``false`` refuses all of them, loopback included; unset, loopback is allowed
only to a test or debug app and to ``serve --demo-fakes`` (the demo's fake
platforms run on this machine), never to a production server.
``HELPDESK_ALLOWED_URL_NETWORKS`` allows chosen ranges in any case.

The policy lives in ``app.extensions``; connectors, which know no Flask,
ask ``channels.netguard``, which asks the app in whose context they run
(outside any app: loopback only).
"""

from __future__ import annotations

import ipaddress

from flask import Flask, current_app, has_app_context
from flask_babel import lazy_gettext as _l

from channels import netguard

EXTENSION = "address_policy"
#: netguard's kinds of address, as the refusal messages name them
KINDS = {
    "loopback": _l("loopback (this machine)"),
    "private": _l("private"),
    "link-local": _l("link-local"),
    "multicast": _l("multicast"),
    "unspecified": _l("unspecified"),
    "reserved": _l("reserved, non-public"),
}


def init_app(app: Flask) -> None:
    """Build the app's policy from its settings (after the overrides: a test app is known by then)."""
    settings = app.config["HELPDESK_SETTINGS"]
    explicit = settings.allow_private_urls
    app.extensions[EXTENSION] = netguard.AddressPolicy(
        allow_loopback=bool(app.testing or app.debug) if explicit is None else explicit,
        allow_private=bool(explicit),
        allowed_networks=tuple(ipaddress.ip_network(n) for n in settings.allowed_url_networks),
    )
    netguard.use_policy(_policy_of_current_app)


def allow_loopback(app: Flask) -> None:
    """``serve --demo-fakes`` and ``serve --debug``: this machine's own fakes and test servers may be called."""
    if app.config["HELPDESK_SETTINGS"].allow_private_urls is False:
        return  # the operator said no
    app.extensions[EXTENSION] = app.extensions[EXTENSION].with_loopback()


def _policy_of_current_app() -> netguard.AddressPolicy:
    if has_app_context():
        policy = current_app.extensions.get(EXTENSION)
        if policy is not None:
            return policy  # type: ignore[no-any-return]
    return netguard.DEFAULT_POLICY


def kind_label(kind: str) -> str:
    """A kind of address (``AddressRefused.kind``) in the user's language."""
    return str(KINDS.get(kind, kind))
