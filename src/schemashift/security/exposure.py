"""Refusing to serve an unauthenticated registry beyond the loopback interface.

A registry without auth on ``0.0.0.0`` lets anyone on the network register, delete and
read every schema. ``schemashift serve`` therefore calls :func:`require_auth_for_host`
before binding: serving without auth is allowed only on a loopback address, or when the
operator says ``--insecure`` on purpose.
"""

from __future__ import annotations

import ipaddress

from schemashift.errors import SchemaShiftError
from schemashift.security.config import AuthConfig


class InsecureExposureError(SchemaShiftError):
    """Serving without auth on a non-loopback address was refused."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is certainly a loopback address (names other than localhost are not).

    No DNS lookup: a name could resolve differently later, so only ``localhost`` and
    literal loopback addresses (127.0.0.0/8, ::1, IPv4-mapped ::ffff:127.x) count.
    """
    name = host.strip().strip("[]").lower()
    if name in ("localhost", "localhost."):
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def require_auth_for_host(host: str, auth_config: AuthConfig | None, insecure: bool) -> None:
    """Raise :class:`InsecureExposureError` unless serving on ``host`` is safe or intended.

    Safe means: auth is configured, or ``host`` is a loopback address. ``insecure=True``
    (``--insecure``) accepts the risk explicitly.
    """
    if auth_config is not None or insecure or is_loopback(host):
        return
    raise InsecureExposureError(
        f"refusing to serve on {host!r} without authentication: anyone who can reach it could "
        "register, delete and read every schema. Pass --auth-config FILE, bind to 127.0.0.1, "
        "or pass --insecure to accept the risk."
    )
