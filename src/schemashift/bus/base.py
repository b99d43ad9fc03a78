"""The Bus seam: publish with headers and a message id; durable pull subscriptions.

Two verbs and one delivered-message value, so the memory adapter and the NATS JetStream
adapter can be run by one contract suite (``tests/integration/test_bus_contract.py``):

* :meth:`Bus.publish` stores a message on the stream that owns the subject. A ``msg_id``
  makes the publish idempotent: a second publish with the same id inside the de-duplication
  window is accepted but not stored again (JetStream's ``Nats-Msg-Id``).
* :meth:`Bus.subscribe` binds a *durable* consumer: several subscriptions with the same
  ``durable`` name share the work (each message goes to one of them), and a consumer that
  reconnects resumes where it left off (``durable=None``: a private, ephemeral consumer). A message that is not acknowledged within
  ``ack_wait`` seconds, or is ``nak``-ed, is delivered again, at most ``max_deliver`` times.

Streams are fixed by the subject layout (``docs/architecture.md``): ``<prefix>.raw.>``,
``<prefix>.events.>``, ``<prefix>.dlq.>``, ``<prefix>.schemas.>`` and ``<prefix>.parked.>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

DEFAULT_PREFIX = "schemashift"
MSG_ID_HEADER = "Nats-Msg-Id"


class StreamKind(StrEnum):
    """The five streams, named by the second token of their subjects."""

    RAW = "raw"
    EVENTS = "events"
    DLQ = "dlq"
    SCHEMAS = "schemas"
    PARKED = "parked"  # events a quarantine holds until a person decides


def stream_name(prefix: str, kind: StreamKind) -> str:
    """``SCHEMASHIFT_RAW`` for prefix ``schemashift`` (stream names cannot hold dots)."""
    return f"{prefix.upper().replace('.', '_').replace('-', '_')}_{kind.value.upper()}"


def stream_subject(prefix: str, kind: StreamKind) -> str:
    """The wildcard subject a stream captures, e.g. ``schemashift.raw.>``."""
    return f"{prefix}.{kind.value}.>"


class DeliverPolicy(StrEnum):
    """Where a new durable consumer starts: at the first stored message or after the last."""

    ALL = "all"
    NEW = "new"


@dataclass(frozen=True, slots=True)
class SubscribeOptions:
    """How a durable consumer delivers. Applied when the consumer is first created."""

    ack_wait: float = 30.0
    max_deliver: int = 5
    deliver: DeliverPolicy = DeliverPolicy.ALL


class Delivery(Protocol):
    """One delivered message; settle it exactly once with ack, nak or term."""

    @property
    def subject(self) -> str: ...

    @property
    def data(self) -> bytes: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def delivery_count(self) -> int:
        """1 on the first delivery, 2 on the first redelivery, …"""
        ...

    @property
    def stream_seq(self) -> int:
        """The message's sequence in its stream: its identity across redeliveries."""
        ...

    async def ack(self) -> None: ...

    async def nak(self, delay: float | None = None) -> None: ...

    async def term(self) -> None:
        """Never deliver this message again (it was dead-lettered by the caller)."""
        ...

    async def in_progress(self) -> None:
        """Reset the ack timer: the message is still being worked on."""
        ...


class Subscription(Protocol):
    """A pull subscription bound to a durable consumer."""

    async def fetch(self, batch: int, timeout: float) -> Sequence[Delivery]:
        """Up to ``batch`` messages; an empty sequence when none arrived within ``timeout``."""
        ...

    async def close(self) -> None:
        """Stop pulling; the durable consumer (and its position) stays on the bus."""
        ...


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message to publish in a batch."""

    subject: str
    data: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    msg_id: str | None = None


@runtime_checkable
class Bus(Protocol):
    """The seam every part talks to. Raises :class:`~schemashift.errors.BusError` on I/O."""

    @property
    def prefix(self) -> str: ...

    async def publish(
        self,
        subject: str,
        data: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        msg_id: str | None = None,
    ) -> None:
        """Store one message; returns once the bus has persisted it."""
        ...

    async def publish_many(self, messages: Sequence[OutgoingMessage]) -> None:
        """Store several messages; returns once every one is persisted (order per subject kept)."""
        ...

    async def subscribe(
        self, subject: str, *, durable: str | None, options: SubscribeOptions | None = None
    ) -> Subscription:
        """Bind (creating when absent) the durable consumer ``durable`` filtered on ``subject``.

        ``durable=None`` makes an ephemeral consumer of this subscription alone, removed when
        it is closed (or, on NATS, when it has been idle for a while).
        """
        ...

    def unreachable_for(self) -> float:
        """Seconds since the connection to the server was lost; 0.0 while connected."""
        ...

    async def close(self) -> None: ...
