"""Target URL rules: which URLs a webhook may point at (server-side request forgery guard).

A target URL must be ``http`` or ``https``, name a host, carry no user name or password and
no fragment. Its host is resolved (an IP literal resolves to itself) and **every** address
it resolves to must be allowed:

1. an address inside a network of the server's allow-list (``UrlPolicy.allow``) is allowed —
   the allow-list overrides every rule below;
2. link-local addresses (``169.254.0.0/16``, ``fe80::/10``) and cloud metadata addresses
   (``169.254.169.254``, ``fd00:ec2::254``, ``100.100.100.200``) are refused;
3. loopback (``127.0.0.0/8``, ``::1``) is allowed while ``allow_loopback`` is true (default);
4. any other address that is not globally routable is refused: private ranges
   (``10/8``, ``172.16/12``, ``192.168/16``, ``fc00::/7``), shared ``100.64/10``,
   ``0.0.0.0/8``, multicast, reserved and documentation ranges, …

IPv4-mapped IPv6 addresses (``::ffff:a.b.c.d``) are judged as the IPv4 address they carry.
The dispatcher resolves and checks again before every request and connects to the address
it checked, so a DNS answer that changes after the subscription was made (DNS rebinding)
cannot redirect a delivery to a refused address.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from schemashift.webhooks.errors import TargetUrlError

__all__ = [
    "METADATA_ADDRESSES",
    "IPAddress",
    "IPNetwork",
    "ResolutionError",
    "Resolver",
    "TargetUrl",
    "UrlPolicy",
    "check_address",
    "system_resolver",
    "validate_target_url",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> the addresses it resolves to
Resolver = Callable[[str, int], Sequence[str]]

MAX_URL_LENGTH = 2048
ALLOW_ENV = "SCHEMASHIFT_WEBHOOK_ALLOW"
ALLOW_LOOPBACK_ENV = "SCHEMASHIFT_WEBHOOK_ALLOW_LOOPBACK"
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)


class ResolutionError(TargetUrlError):
    """The host could not be resolved (perhaps only for now: deliveries retry it)."""


@dataclass(frozen=True)
class UrlPolicy:
    """The server's URL rules; ``allow`` lists networks that are always allowed."""

    allow: tuple[IPNetwork, ...] = ()
    allow_loopback: bool = True

    @classmethod
    def from_strings(cls, networks: Iterable[str], *, allow_loopback: bool = True) -> UrlPolicy:
        """A policy from CIDR strings (``10.0.0.0/8``, ``fd00::/8``, ``192.0.2.7``)."""
        try:
            allow = tuple(ipaddress.ip_network(n.strip(), strict=False) for n in networks)
        except ValueError as exc:
            raise TargetUrlError(f"invalid network in the webhook allow-list: {exc}") from exc
        return cls(allow=allow, allow_loopback=allow_loopback)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> UrlPolicy:
        """The server's policy from ``SCHEMASHIFT_WEBHOOK_ALLOW`` (comma-separated networks)
        and ``SCHEMASHIFT_WEBHOOK_ALLOW_LOOPBACK`` (``true``/``false``, default true)."""
        env = os.environ if environ is None else environ
        networks = [n for n in env.get(ALLOW_ENV, "").split(",") if n.strip()]
        loopback = env.get(ALLOW_LOOPBACK_ENV, "true").strip().lower()
        if loopback not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise TargetUrlError(f"{ALLOW_LOOPBACK_ENV} must be true or false, got {loopback!r}")
        return cls.from_strings(networks, allow_loopback=loopback in ("1", "true", "yes", "on"))


@dataclass(frozen=True)
class TargetUrl:
    """A parsed, checked target: the URL, its host and port, and the addresses it resolved to."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, through the system resolver (blocking)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ResolutionError(f"cannot resolve {host!r}: {exc}") from exc
    return [str(info[4][0]) for info in infos]


def check_address(address: IPAddress, policy: UrlPolicy) -> str | None:
    """Why ``address`` is refused under ``policy``, or ``None`` when it is allowed."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in policy.allow):
        return None
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_loopback:
        return None if policy.allow_loopback else "a loopback address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "the unspecified address"
    if not address.is_global:
        return "a non-routable address (private, shared, reserved or documentation range)"
    return None


def _split(url: str) -> SplitResult:
    if len(url) > MAX_URL_LENGTH:
        raise TargetUrlError(f"a target URL is limited to {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise TargetUrlError("a target URL must not contain whitespace or control characters")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a non-numeric or out-of-range port
    except ValueError as exc:
        raise TargetUrlError(f"malformed target URL: {exc}") from exc
    return parts


def validate_target_url(
    url: str, policy: UrlPolicy, resolver: Resolver = system_resolver
) -> TargetUrl:
    """Parse ``url``, resolve its host and check every address; raise :class:`TargetUrlError`."""
    parts = _split(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetUrlError(f"a target URL must be http or https, not {parts.scheme!r}")
    if parts.username is not None or parts.password is not None:
        raise TargetUrlError("a target URL must not carry a user name or password")
    if parts.fragment:
        raise TargetUrlError("a target URL must not carry a fragment")
    host = parts.hostname
    if not host:
        raise TargetUrlError("a target URL must name a host")
    port = parts.port if parts.port is not None else (443 if scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    raw = [str(literal)] if literal is not None else list(resolver(host, port))
    if not raw:
        raise ResolutionError(f"{host!r} resolves to no address")
    addresses: list[IPAddress] = []
    for text in raw:
        # getaddrinfo gives scoped IPv6 addresses as "fe80::1%eth0"; the scope is not the address
        address = ipaddress.ip_address(text.split("%", 1)[0])
        reason = check_address(address, policy)
        if reason is not None:
            raise TargetUrlError(
                f"{host!r} resolves to {address}, {reason}; "
                "allow it explicitly in the server's webhook allow-list if that is intended"
            )
        if address not in addresses:
            addresses.append(address)
    return TargetUrl(url=url, scheme=scheme, host=host, port=port, addresses=tuple(addresses))
