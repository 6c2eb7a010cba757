"""Where webhooks may send: public addresses only, unless the operator allow-lists a host or network.

A webhook URL is a request the scheduler makes on an admin's behalf, from inside the network it
runs in. Without a policy it reaches the cloud metadata service (169.254.169.254), the database
port on localhost or anything on the private network, and its delivery log tells an attacker
which ports answer. So:

- only `http` and `https`; an address that is not globally routable (loopback, private,
  link-local and metadata, carrier-grade NAT, multicast, reserved, unspecified, IPv4-mapped
  forms of those) is refused unless `MONITOR_WEBHOOK_ALLOWED_HOSTS` names the host (exact,
  case-insensitive) or a network containing the address (`10.0.0.0/8`, `127.0.0.1`);
- checked when the webhook is created (IP literals and `localhost` names; nothing is resolved
  then) and again at every delivery, after DNS resolution, by the connection itself:
  `GuardedTransport` resolves the host, refuses a forbidden address and connects to the very
  address it checked, so a DNS answer that changes between check and connect (rebinding)
  cannot slip through; redirects are never followed and proxies from the environment are
  not used;
- a refused or failed delivery is recorded in plain words (`delivery_error`), never with the
  exception text that would tell "connection refused" from "timed out" from "reset".
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from monitor_service.errors import ConfigError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]
SCHEMES = ("http", "https")


class AddressRefused(ConfigError):
    """The webhook's address is not allowed by the policy (the message says how to allow it)."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, as text (what the connection will use)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: IpAddress) -> bool:
    """Globally routable unicast (an IPv4-mapped IPv6 address is judged by its IPv4 address)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses, plus the hosts and networks of `MONITOR_WEBHOOK_ALLOWED_HOSTS`."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    @classmethod
    def of(cls, entries: Iterable[str]) -> AddressPolicy:
        hosts, networks = set(), []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                if not entry.replace("-", "").replace(".", "").replace("_", "").isalnum():
                    raise ValueError(f"webhook allow-list entry {entry!r} is neither a host name, "
                                     "an address nor a network such as 10.0.0.0/8") from None
                hosts.add(entry.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def host_allowed(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def address_allowed(self, address: str, host: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        return is_public(ip) or self.host_allowed(host) or any(ip in net for net in self.networks
                                                                if net.version == ip.version)

    def check_url(self, url: str) -> None:
        """The check at creation: scheme, and hosts whose address needs no DNS (literals, localhost)."""
        parts = urlsplit(url)
        if parts.scheme.lower() not in SCHEMES or not parts.hostname:
            raise AddressRefused(f"webhook URL {_shown(url)} must be http:// or https:// with a host")
        host = parts.hostname
        literal = _literal(host)
        if literal is None and (host.lower().rstrip(".") == "localhost" or host.lower().endswith(".localhost")):
            literal = ipaddress.ip_address("127.0.0.1")
        if literal is not None and not self.address_allowed(str(literal), host):
            raise AddressRefused(_refusal(host))

    def allowed_addresses(self, host: str, port: int, resolve: Resolver = system_resolver) -> list[str]:
        """The addresses of `host` a connection may use; AddressRefused when any is forbidden."""
        literal = _literal(host)
        try:
            addresses = [str(literal)] if literal is not None else resolve(host, port)
        except OSError as exc:
            raise AddressRefused(f"the webhook host {host!r} could not be resolved") from exc
        if not addresses or not all(self.address_allowed(a, host) for a in addresses):
            raise AddressRefused(_refusal(host))
        return addresses


def _literal(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _refusal(host: str) -> str:
    return (f"the webhook host {host[:200]!r} is (or resolves to) a loopback, private, link-local or other "
            "non-public address; name it in MONITOR_WEBHOOK_ALLOWED_HOSTS to allow it")


def _shown(url: str) -> str:
    from monitor_service.alerts.dispatcher import redact_url

    return redact_url(url)[:300]


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolves, checks and connects in one step, so the checked address is the one connected to."""

    def __init__(self, policy: AddressPolicy, resolve: Resolver) -> None:
        self.policy, self.resolve, self.inner = policy, resolve, httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            addresses = self.policy.allowed_addresses(host, port, self.resolve)
        except AddressRefused as exc:
            raise httpcore.ConnectError(exc.message) from exc
        failure: Exception | None = None
        for address in addresses:
            try:
                return self.inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                              socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("webhooks do not use unix sockets")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport whose connections go through the address policy (TLS still checks the host name)."""

    def __init__(self, policy: AddressPolicy, resolve: Resolver = system_resolver) -> None:
        super().__init__()
        ssl_context = httpx.create_ssl_context()
        self._pool = httpcore.ConnectionPool(ssl_context=ssl_context, network_backend=_GuardedBackend(policy, resolve))


def webhook_client(policy: AddressPolicy, resolve: Resolver = system_resolver) -> httpx.Client:
    """The client the scheduler sends webhooks with: guarded, no redirects, no environment proxies."""
    return httpx.Client(transport=GuardedTransport(policy, resolve), follow_redirects=False, trust_env=False)
