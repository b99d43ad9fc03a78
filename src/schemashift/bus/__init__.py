"""The Bus protocol and its adapters: in-process memory (default) and NATS JetStream.

``connect_bus(url)`` picks the adapter from the URL scheme: ``memory://`` (a new in-process
bus) or ``nats://host:port`` (JetStream; the NATS client is imported only then).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from schemashift.bus.base import (
    DEFAULT_PREFIX,
    MSG_ID_HEADER,
    Bus,
    DeliverPolicy,
    Delivery,
    OutgoingMessage,
    StreamKind,
    SubscribeOptions,
    Subscription,
    stream_name,
    stream_subject,
)
from schemashift.bus.memory import MemoryBus

__all__ = [
    "DEFAULT_PREFIX",
    "MSG_ID_HEADER",
    "Bus",
    "DeliverPolicy",
    "Delivery",
    "MemoryBus",
    "OutgoingMessage",
    "StreamKind",
    "SubscribeOptions",
    "Subscription",
    "connect_bus",
    "stream_name",
    "stream_subject",
]


async def connect_bus(url: str, *, prefix: str | None = None) -> Bus:
    """Open the bus named by ``url``; ``prefix`` (or ``?prefix=`` in the URL) names the streams.

    Raises :class:`ValueError` for an unknown scheme and
    :class:`~schemashift.errors.BusError` when the server cannot be reached.
    """
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    chosen = prefix or query.get("prefix", [DEFAULT_PREFIX])[0]
    if parts.scheme == "memory":
        return MemoryBus(chosen)
    if parts.scheme in ("nats", "tls"):
        from schemashift.bus.nats import NatsBus

        server = f"{parts.scheme}://{parts.netloc or '127.0.0.1:4222'}"
        return await NatsBus.connect(server, prefix=chosen)
    raise ValueError(f"unknown bus URL scheme {parts.scheme!r} (use memory:// or nats://)")
