"""The in-process bus: JetStream's semantics without a server, for the embedded default.

Each of the four streams is a bounded log; each durable consumer keeps a cursor, the set of
delivered-but-unsettled messages with their ack deadlines, and a count of messages it has
not settled yet. Back-pressure instead of loss: ``publish`` waits while any *attached*
consumer that would receive the message already has ``max_pending`` unsettled messages, so
a fast producer cannot outrun the worker and push unread messages out of the log. A durable
consumer with no open subscription (an offline subscriber) does not hold producers back;
like a JetStream limits stream, it can miss messages once the log wraps past ``max_msgs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from schemashift.bus.base import (
    DEFAULT_PREFIX,
    DeliverPolicy,
    Delivery,
    OutgoingMessage,
    StreamKind,
    SubscribeOptions,
)
from schemashift.errors import BusError


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS wildcard matching: ``*`` is one token, a final ``>`` is one or more tokens."""
    want = pattern.split(".")
    have = subject.split(".")
    for index, token in enumerate(want):
        if token == ">":
            return len(have) > index
        if index >= len(have) or (token != "*" and token != have[index]):
            return False
    return len(have) == len(want)


@dataclass(slots=True)
class _Stored:
    seq: int
    subject: str
    data: bytes
    headers: dict[str, str]


@dataclass(slots=True)
class _Pending:
    deadline: float
    count: int


@dataclass(slots=True)
class _Consumer:
    filter: str
    options: SubscribeOptions
    cursor: int
    attached: int = 0
    unsettled: int = 0
    pending: dict[int, _Pending] = field(default_factory=dict)

    def settle(self, seq: int) -> None:
        if self.pending.pop(seq, None) is not None:
            self.unsettled -= 1


@dataclass(slots=True)
class _Stream:
    log: OrderedDict[int, _Stored] = field(default_factory=OrderedDict)
    next_seq: int = 1
    seen_ids: OrderedDict[str, float] = field(default_factory=OrderedDict)
    consumers: dict[str, _Consumer] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)


class MemoryDelivery:
    """A message handed out by :class:`MemoryBus`."""

    __slots__ = ("_bus", "_consumer", "_stored", "_stream", "delivery_count")

    def __init__(
        self, bus: MemoryBus, stream: _Stream, consumer: _Consumer, stored: _Stored, count: int
    ) -> None:
        self._bus = bus
        self._stream = stream
        self._consumer = consumer
        self._stored = stored
        self.delivery_count = count

    @property
    def subject(self) -> str:
        return self._stored.subject

    @property
    def data(self) -> bytes:
        return self._stored.data

    @property
    def headers(self) -> Mapping[str, str]:
        return self._stored.headers

    @property
    def stream_seq(self) -> int:
        return self._stored.seq

    async def ack(self) -> None:
        self._consumer.settle(self._stored.seq)
        await self._bus._notify(self._stream)

    async def term(self) -> None:
        await self.ack()

    async def nak(self, delay: float | None = None) -> None:
        pending = self._consumer.pending.get(self._stored.seq)
        if pending is None:
            return
        if delay:
            pending.deadline = self._bus._clock() + delay
        else:
            pending.deadline = 0.0
        await self._bus._notify(self._stream)

    async def in_progress(self) -> None:
        pending = self._consumer.pending.get(self._stored.seq)
        if pending is not None:
            pending.deadline = self._bus._clock() + self._consumer.options.ack_wait


class MemorySubscription:
    """A pull subscription on a :class:`MemoryBus` durable consumer."""

    def __init__(
        self, bus: MemoryBus, stream: _Stream, consumer: _Consumer, ephemeral: str | None
    ) -> None:
        self._bus = bus
        self._stream = stream
        self._consumer = consumer
        self._ephemeral = ephemeral
        self._closed = False

    async def fetch(self, batch: int, timeout: float) -> Sequence[Delivery]:
        if self._closed:
            raise BusError("subscription is closed")
        deadline = self._bus._clock() + timeout
        async with self._stream.changed:
            while True:
                found = self._bus._take(self._stream, self._consumer, batch)
                if found:
                    return found
                remaining = deadline - self._bus._clock()
                if remaining <= 0:
                    return []
                wake = self._next_expiry()
                if wake is not None:
                    remaining = max(0.001, min(remaining, wake - self._bus._clock()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stream.changed.wait(), remaining)

    def _next_expiry(self) -> float | None:
        deadlines = [p.deadline for p in self._consumer.pending.values()]
        return min(deadlines) if deadlines else None

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._consumer.attached -= 1
            if self._ephemeral is not None:
                self._stream.consumers.pop(self._ephemeral, None)
            await self._bus._notify(self._stream)


class MemoryBus:
    """In-process :class:`~schemashift.bus.base.Bus` with bounded streams and back-pressure."""

    def __init__(
        self,
        prefix: str = DEFAULT_PREFIX,
        *,
        # retention per stream: an embedded server keeps three streams of 4–8 KB events in
        # its own memory, so the log is kept short (100,000 cost ~1.5 GB in a soak test)
        max_msgs: int = 10_000,
        max_pending: int = 5_000,
        duplicate_window: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_pending > max_msgs:
            raise ValueError("max_pending must not exceed max_msgs (unread messages would wrap)")
        self._prefix = prefix
        self._max_msgs = max_msgs
        self._max_pending = max_pending
        self._window = duplicate_window
        self._clock = clock
        self._streams: dict[StreamKind, _Stream] = {}
        self._closed = False
        self._ephemeral_count = 0

    @property
    def prefix(self) -> str:
        return self._prefix

    def unreachable_for(self) -> float:
        return 0.0

    async def close(self) -> None:
        self._closed = True

    def _stream_for(self, subject: str) -> _Stream:
        if self._closed:
            raise BusError("bus is closed")
        head, _, rest = subject.partition(".")
        kind_token, _, tail = rest.partition(".")
        if head != self._prefix or not tail:
            raise BusError(f"no stream captures subject {subject!r}")
        try:
            kind = StreamKind(kind_token)
        except ValueError:
            raise BusError(f"no stream captures subject {subject!r}") from None
        if kind not in self._streams:
            self._streams[kind] = _Stream()
        return self._streams[kind]

    async def _notify(self, stream: _Stream) -> None:
        async with stream.changed:
            stream.changed.notify_all()

    async def publish(
        self,
        subject: str,
        data: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        msg_id: str | None = None,
    ) -> None:
        stream = self._stream_for(subject)
        async with stream.changed:
            if msg_id is not None and self._is_duplicate(stream, msg_id):
                return
            await self._wait_for_room(stream, subject)
            if msg_id is not None and self._is_duplicate(stream, msg_id):
                return  # a concurrent publisher stored it while we waited
            self._append(stream, subject, data, headers, msg_id)
            stream.changed.notify_all()

    async def publish_many(self, messages: Sequence[OutgoingMessage]) -> None:
        # One lock round per stream and run of messages, not per message: same semantics
        # as publishing them one by one, in order.
        index = 0
        while index < len(messages):
            stream = self._stream_for(messages[index].subject)
            async with stream.changed:
                while index < len(messages):
                    message = messages[index]
                    if self._stream_for(message.subject) is not stream:
                        break
                    msg_id = message.msg_id
                    if msg_id is None or not self._is_duplicate(stream, msg_id):
                        await self._wait_for_room(stream, message.subject)
                        if msg_id is None or not self._is_duplicate(stream, msg_id):
                            self._append(
                                stream, message.subject, message.data, message.headers, msg_id
                            )
                    index += 1
                stream.changed.notify_all()

    async def subscribe(
        self, subject: str, *, durable: str | None, options: SubscribeOptions | None = None
    ) -> MemorySubscription:
        stream = self._stream_for(subject.replace("*", "x").replace(">", "x"))
        ephemeral = durable is None
        if durable is None:
            self._ephemeral_count += 1
            durable = f"\x00ephemeral-{self._ephemeral_count}"  # no durable name can clash
        consumer = stream.consumers.get(durable)
        if consumer is None:
            opts = options or SubscribeOptions()
            start = stream.next_seq if opts.deliver is DeliverPolicy.NEW else 1
            consumer = _Consumer(filter=subject, options=opts, cursor=start)
            consumer.unsettled = sum(
                1
                for seq, stored in stream.log.items()
                if seq >= start and subject_matches(subject, stored.subject)
            )
            stream.consumers[durable] = consumer
        elif consumer.filter != subject:
            raise BusError(f"durable {durable!r} is bound to {consumer.filter!r}, not {subject!r}")
        consumer.attached += 1
        return MemorySubscription(self, stream, consumer, durable if ephemeral else None)

    async def _wait_for_room(self, stream: _Stream, subject: str) -> None:
        """Back-pressure; the caller holds ``stream.changed``."""
        if self._is_full(stream, subject):
            stream.changed.notify_all()  # wake fetchers before we sleep on their acks
            await stream.changed.wait_for(lambda: not self._is_full(stream, subject))

    def _is_duplicate(self, stream: _Stream, msg_id: str) -> bool:
        now = self._clock()
        seen = stream.seen_ids
        while seen:
            oldest, at = next(iter(seen.items()))
            if now - at <= self._window:
                break
            del seen[oldest]
        return msg_id in seen

    def _is_full(self, stream: _Stream, subject: str) -> bool:
        return any(
            c.attached > 0
            and c.unsettled >= self._max_pending
            and subject_matches(c.filter, subject)
            for c in stream.consumers.values()
        )

    def _append(
        self,
        stream: _Stream,
        subject: str,
        data: bytes,
        headers: Mapping[str, str] | None,
        msg_id: str | None,
    ) -> None:
        seq = stream.next_seq
        stream.next_seq += 1
        stream.log[seq] = _Stored(seq, subject, bytes(data), dict(headers or {}))
        if msg_id is not None:
            stream.seen_ids[msg_id] = self._clock()
        for consumer in stream.consumers.values():
            if subject_matches(consumer.filter, subject):
                consumer.unsettled += 1
        while len(stream.log) > self._max_msgs:
            self._trim_oldest(stream)

    def _trim_oldest(self, stream: _Stream) -> None:
        seq, stored = stream.log.popitem(last=False)
        for consumer in stream.consumers.values():
            if not subject_matches(consumer.filter, stored.subject):
                continue
            if seq in consumer.pending:
                consumer.settle(seq)
            elif seq >= consumer.cursor:
                consumer.unsettled -= 1
            consumer.cursor = max(consumer.cursor, seq + 1)

    def _take(self, stream: _Stream, consumer: _Consumer, batch: int) -> list[Delivery]:
        now = self._clock()
        out: list[Delivery] = []
        options = consumer.options
        # Redeliveries first: nak-ed or past their ack deadline.
        for seq, pending in list(consumer.pending.items()):
            if len(out) >= batch:
                return out
            if pending.deadline > now:
                continue
            if pending.count >= options.max_deliver:
                consumer.settle(seq)  # exhausted: JetStream stops delivering it too
                continue
            stored = stream.log.get(seq)
            if stored is None:
                consumer.settle(seq)
                continue
            pending.count += 1
            pending.deadline = now + options.ack_wait
            out.append(MemoryDelivery(self, stream, consumer, stored, pending.count))
        while len(out) < batch and consumer.cursor < stream.next_seq:
            seq = consumer.cursor
            consumer.cursor += 1
            stored = stream.log.get(seq)
            if stored is None or not subject_matches(consumer.filter, stored.subject):
                continue
            consumer.pending[seq] = _Pending(deadline=now + options.ack_wait, count=1)
            out.append(MemoryDelivery(self, stream, consumer, stored, 1))
        return out
