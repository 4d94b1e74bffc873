"""Outbound addresses inside the network are refused when configured and again when connected to.

Real loopback servers stand in for the inside of the network: one on
127.0.0.1 that a policy allows (``allowed_networks``), one on 127.0.0.2 that
it does not.  A redirect from the first to the second, or a client pointed
at the second, is refused at connection time: the address actually used is
the one checked, whatever was checked when the URL was configured.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from channels import netguard
from channels.base import ChannelError
from channels.http import HttpClient
from channels.netguard import AddressPolicy, AddressRefused, kind_of

ONLY_127_0_0_1 = AddressPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),))
STRICT = AddressPolicy()


class _Server(ThreadingHTTPServer):
    hits: list[str]
    redirect_to: str | None


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _answer(self) -> None:
        self.server.hits.append(self.path)
        if self.server.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.server.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = _answer

    def log_message(self, *_args: Any) -> None:
        pass


def _serve(host: str, redirect_to: str | None = None) -> Iterator[_Server]:
    server = _Server((host, 0), _Handler)
    server.hits, server.redirect_to = [], redirect_to
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def inside() -> Iterator[_Server]:
    """A server on 127.0.0.2: an address no policy in these tests allows."""
    yield from _serve("127.0.0.2")


@pytest.fixture
def policy() -> Iterator[Any]:
    """Run with a chosen policy; the default comes back afterwards."""

    def use(chosen: AddressPolicy) -> None:
        netguard.use_policy(lambda: chosen)

    yield use
    netguard.use_policy(lambda: netguard.DEFAULT_POLICY)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "reserved"),
        ("8.8.8.8", None),
        ("2a00:1450:4001::1", None),
    ],
)
def test_kinds_of_address(address: str, kind: str | None) -> None:
    assert kind_of(ipaddress.ip_address(address)) == kind


def test_policies() -> None:
    loopback, private = ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("10.1.2.3")
    assert STRICT.refusal(loopback) == "loopback" and STRICT.refusal(private) == "private"
    assert AddressPolicy(allow_loopback=True).refusal(loopback) is None
    assert AddressPolicy(allow_loopback=True).refusal(private) == "private"
    assert AddressPolicy(allowed_networks=(ipaddress.ip_network("10.1.0.0/16"),)).refusal(private) is None
    assert AddressPolicy(allow_private=True).refusal(ipaddress.ip_address("169.254.169.254")) is None


def test_a_configured_url_is_checked_by_its_address_and_by_what_its_name_resolves_to() -> None:
    with pytest.raises(AddressRefused, match=r"169\.254\.169\.254 is a link-local address"):
        netguard.check_url("http://169.254.169.254/latest/meta-data/", STRICT)
    with pytest.raises(AddressRefused, match=r"\[::1\]|::1"):
        netguard.check_url("https://[::1]:8443/", STRICT)
    with pytest.raises(AddressRefused, match=r"localhost \(127\.0\.0\.1\) is a loopback address"):
        netguard.check_url("http://localhost:6379/", STRICT)
    netguard.check_url("http://localhost:6379/", AddressPolicy(allow_loopback=True))
    # a name that does not resolve here passes; the connection is checked when it is made
    netguard.check_url("https://erp.example.test/hooks", STRICT)


def test_the_http_client_connects_only_to_an_allowed_address(policy: Any, inside: _Server) -> None:
    url = f"http://127.0.0.2:{inside.server_address[1]}"
    policy(ONLY_127_0_0_1)
    client = HttpClient(url, platform="The ERP")
    with pytest.raises(ChannelError, match=r"The ERP was not contacted.*127\.0\.0\.2 is a loopback address"):
        client.request("GET", "/orders")
    assert inside.hits == []  # refused before a byte was sent
    policy(AddressPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),)))
    assert client.request("GET", "/orders").status_code == 200
    client.close()


def test_a_redirect_inside_the_network_is_refused_at_connection_time(policy: Any, inside: _Server) -> None:
    """A receiver the policy allows answers "go to 127.0.0.2": urllib follows, the guard refuses."""
    import urllib.request

    target = f"http://127.0.0.2:{inside.server_address[1]}/admin"
    for outside in _serve("127.0.0.1", redirect_to=target):
        policy(ONLY_127_0_0_1)
        request = urllib.request.Request(f"http://127.0.0.1:{outside.server_address[1]}/hook", data=b"{}")
        with pytest.raises(AddressRefused, match=r"127\.0\.0\.2 is a loopback address"):
            netguard.checked_opener().open(request, timeout=5)
        assert outside.hits == ["/hook"]
    assert inside.hits == []


def test_mail_servers_are_checked_before_connecting(policy: Any) -> None:
    policy(STRICT)
    with pytest.raises(ChannelError, match=r"IMAP server not contacted: 127\.0\.0\.1 is a loopback address"):
        netguard.check_connection("IMAP server", "127.0.0.1", 993)
