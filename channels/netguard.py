"""Outbound addresses that reach inside the network are refused (server-side request forgery).

Admins and integrations configure where the helpdesk connects: webhook
endpoints, a connector's API address, a translation service.  Whoever can
set one could otherwise point it at the machine itself or its neighbours
(``http://127.0.0.1:6379``, the cloud metadata service at ``169.254.169.254``,
an intranet host) and read answers back through error messages and logs.
So an address is refused when it resolves to a loopback, private, shared,
link-local, multicast, unspecified or otherwise non-public address, unless
the operator allows it (``HELPDESK_ALLOW_PRIVATE_URLS``,
``HELPDESK_ALLOWED_URL_NETWORKS``; loopback in development, tests and the
demo, whose fake platforms run on this machine).

It is checked twice: when the address is configured (:func:`check_url`, a
clear refusal naming the field) and when a connection is opened
(:func:`permitted_address`), because DNS can answer differently later; the
connection then goes to the very address that was checked.

This module has no Flask in it: connectors in ``channels/`` use it as they
are.  The helpdesk tells it which policy applies (:func:`use_policy`).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class AddressRefused(ValueError):
    """An outbound address is not allowed; the message names the host, the address and what to do."""

    def __init__(self, host: str, address: str, kind: str) -> None:
        self.host, self.address, self.kind = host, address, kind
        shown = host if host == address else f"{host} ({address})"
        super().__init__(
            f"{shown} is a {kind} address: the helpdesk does not connect inside its own network. "
            "Use the service's public address, or ask the operator to allow it "
            "(HELPDESK_ALLOW_PRIVATE_URLS or HELPDESK_ALLOWED_URL_NETWORKS)."
        )


def kind_of(ip: IPAddress) -> str | None:
    """What makes ``ip`` non-public ("loopback", "private", …), or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "reserved"  # shared (100.64/10), documentation, benchmarking, future use
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """Which non-public addresses may be reached anyway."""

    allow_loopback: bool = False
    allow_private: bool = False  # every non-public address (a helpdesk inside a private network)
    allowed_networks: tuple[IPNetwork, ...] = ()

    def refusal(self, ip: IPAddress) -> str | None:
        """The kind of address ``ip`` is when this policy refuses it; None when it may be reached."""
        kind = kind_of(ip)
        if kind is None or self.allow_private or any(ip in network for network in self.allowed_networks):
            return None
        if kind == "loopback" and self.allow_loopback:
            return None
        return kind

    def with_loopback(self) -> AddressPolicy:
        return AddressPolicy(True, self.allow_private, self.allowed_networks)


#: Outside the helpdesk (a connector used as a library, its tests against loopback fakes): loopback only.
DEFAULT_POLICY = AddressPolicy(allow_loopback=True)
_PROVIDER: dict[str, Callable[[], AddressPolicy]] = {"policy": lambda: DEFAULT_POLICY}


def use_policy(provider: Callable[[], AddressPolicy]) -> None:
    """Where the policy comes from: the helpdesk passes a function reading its app's settings."""
    _PROVIDER["policy"] = provider


def current_policy() -> AddressPolicy:
    return _PROVIDER["policy"]()


def check_url(url: str, policy: AddressPolicy | None = None) -> None:
    """Refuse (AddressRefused) a URL whose host is, or resolves to, an address the policy refuses.

    A name that does not resolve here is let through: it may be reachable
    only from where the worker runs, and the check at connection time holds.
    """
    host = urlsplit(url).hostname
    if host:
        check_host(host, policy)


def check_host(host: str, policy: AddressPolicy | None = None) -> None:
    """:func:`check_url` for a bare host name or address (a mail server); an empty name passes."""
    if not host.strip():
        return
    try:
        _permitted(host, 0, policy or current_policy())
    except socket.gaierror:
        return


def permitted_address(host: str, port: int, policy: AddressPolicy | None = None) -> str:
    """The address to connect to for ``host``: resolved once, every answer checked, the first returned.

    Every answer must pass: a name that resolves to a public and a private
    address is refused, since which one a later lookup returns is not ours
    to choose.  Raises ``socket.gaierror`` when the name does not resolve.
    """
    return _permitted(host, port, policy or current_policy())


def check_connection(what: str, host: str, port: int) -> None:
    """Before a library that resolves by itself connects (IMAP, SMTP): refuse with a ChannelError.

    Those clients resolve the name again and verify TLS against it, so here
    the name is checked, not pinned: weaker than the HTTP clients' check.
    """
    from channels.base import ChannelError

    try:
        permitted_address(host, port)
    except AddressRefused as exc:
        raise ChannelError(f"{what} not contacted: {exc}") from exc


def _permitted(host: str, port: int, policy: AddressPolicy) -> str:
    name = host.strip("[]").rstrip(".")
    try:
        addresses = [ipaddress.ip_address(name.split("%")[0])]
    except ValueError:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for ip in addresses:
        kind = policy.refusal(ip)
        if kind is not None:
            raise AddressRefused(host, str(ip), kind)
    return str(addresses[0])


# --- connections that go to the checked address --------------------------------------------------------


def _checked_create_connection(
    address: tuple[str, int], timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT, source_address: Any = None
) -> socket.socket:
    host, port = address
    return socket.create_connection((permitted_address(host, port), port), timeout, source_address)


class CheckedHTTPClientConnection(http.client.HTTPConnection):
    """``http.client`` (urllib.request) connections to the checked address."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _checked_create_connection


class CheckedHTTPSClientConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _checked_create_connection


class _CheckedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(CheckedHTTPClientConnection, req)


class _CheckedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(CheckedHTTPSClientConnection, req, context=self._context)  # type: ignore[attr-defined]


def checked_opener() -> urllib.request.OpenerDirector:
    """A ``urllib.request`` opener whose connections, redirects included, go through :func:`permitted_address`."""
    return urllib.request.build_opener(_CheckedHTTPHandler, _CheckedHTTPSHandler)
