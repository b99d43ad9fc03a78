"""The NATS JetStream bus: the distributed engine.

On connect the adapter makes sure the four streams exist (file storage, a two-minute
``Nats-Msg-Id`` de-duplication window). Subscriptions are pull consumers bound to a durable
name, so several workers share one consumer and a restarted subscriber resumes where it
stopped. The client reconnects forever; :meth:`NatsBus.unreachable_for` tells callers how
long the server has been gone, so a worker can give up after its budget instead of idling.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api

from schemashift.bus.base import (
    DEFAULT_PREFIX,
    MSG_ID_HEADER,
    DeliverPolicy,
    Delivery,
    OutgoingMessage,
    StreamKind,
    SubscribeOptions,
    stream_name,
    stream_subject,
)
from schemashift.errors import BusError

# What nats-py raises on I/O trouble; every one becomes a retryable BusError.
EPHEMERAL_IDLE = 30.0  # seconds an unused ephemeral consumer lives on the server

_NATS_ERRORS: tuple[type[BaseException], ...] = (
    nats.errors.Error,
    nats.js.errors.Error,
    TimeoutError,
    ConnectionError,
    OSError,
)


class NatsDelivery:
    """A JetStream message seen through the :class:`~schemashift.bus.base.Delivery` seam."""

    __slots__ = ("_msg", "delivery_count", "headers", "stream_seq")

    def __init__(self, msg: Msg) -> None:
        self._msg = msg
        meta = msg.metadata
        self.delivery_count: int = meta.num_delivered
        self.stream_seq: int = meta.sequence.stream
        self.headers: Mapping[str, str] = msg.headers or {}

    @property
    def subject(self) -> str:
        return self._msg.subject

    @property
    def data(self) -> bytes:
        return self._msg.data

    async def ack(self) -> None:
        await _guard(self._msg.ack())

    async def nak(self, delay: float | None = None) -> None:
        await _guard(self._msg.nak(delay=delay))

    async def term(self) -> None:
        await _guard(self._msg.term())

    async def in_progress(self) -> None:
        await _guard(self._msg.in_progress())


class NatsSubscription:
    """A pull subscription bound to a durable JetStream consumer."""

    def __init__(
        self,
        sub: JetStreamContext.PullSubscription,
        js: JetStreamContext,
        stream: str,
        ephemeral: str | None,
    ) -> None:
        self._sub = sub
        self._js = js
        self._stream = stream
        self._ephemeral = ephemeral

    async def fetch(self, batch: int, timeout: float) -> Sequence[Delivery]:
        try:
            msgs = await self._sub.fetch(batch, timeout=timeout)
        except (nats.errors.TimeoutError, TimeoutError):
            # nats-py raises either when the pull request expires with nothing to deliver;
            # a lost connection shows up in unreachable_for(), not here.
            return []
        except _NATS_ERRORS as exc:
            raise BusError(f"fetch failed: {exc!r}") from exc
        return [NatsDelivery(m) for m in msgs]

    async def close(self) -> None:
        # Unsubscribing keeps a durable consumer (and its position) on the server; an
        # ephemeral one is deleted right away rather than left to time out.
        with contextlib.suppress(*_NATS_ERRORS):
            if self._ephemeral is not None:
                await self._js.delete_consumer(self._stream, self._ephemeral)
        with contextlib.suppress(*_NATS_ERRORS):
            await self._sub.unsubscribe()


class NatsBus:
    """:class:`~schemashift.bus.base.Bus` over NATS JetStream."""

    def __init__(self, nc: Client, prefix: str, publish_timeout: float) -> None:
        self._nc = nc
        self._js = nc.jetstream(timeout=publish_timeout)
        self._prefix = prefix
        self._publish_timeout = publish_timeout
        self._lost_at: float | None = None

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        connect_timeout: float = 2.0,
        reconnect_wait: float = 0.5,
        publish_timeout: float = 5.0,
        duplicate_window: float = 120.0,
        max_bytes: int = 1 << 30,
    ) -> NatsBus:
        """Connect (reconnecting forever afterwards) and make sure the streams exist."""
        holder: list[NatsBus] = []

        async def disconnected() -> None:
            if holder and holder[0]._lost_at is None:
                holder[0]._lost_at = time.monotonic()

        async def reconnected() -> None:
            if holder:
                holder[0]._lost_at = None

        async def on_error(exc: Exception) -> None:
            del exc  # reconnects are handled by the client; callers see BusError on use

        try:
            # The client retries forever once connected; the *first* connection is bounded
            # here, so a wrong URL fails fast instead of hanging.
            nc = await asyncio.wait_for(
                _connect(
                    url,
                    connect_timeout=connect_timeout,
                    reconnect_time_wait=reconnect_wait,
                    max_reconnect_attempts=-1,
                    allow_reconnect=True,
                    disconnected_cb=disconnected,
                    reconnected_cb=reconnected,
                    error_cb=on_error,
                ),
                connect_timeout + 1.0,
            )
        except _NATS_ERRORS as exc:
            raise BusError(f"cannot connect to NATS at {url}: {exc!r}") from exc
        bus = cls(nc, prefix, publish_timeout)
        holder.append(bus)
        await bus._ensure_streams(duplicate_window, max_bytes)
        return bus

    @property
    def prefix(self) -> str:
        return self._prefix

    @property
    def client(self) -> Client:
        return self._nc

    def unreachable_for(self) -> float:
        return 0.0 if self._lost_at is None else time.monotonic() - self._lost_at

    async def _ensure_streams(self, duplicate_window: float, max_bytes: int) -> None:
        for kind in StreamKind:
            config = api.StreamConfig(
                name=stream_name(self._prefix, kind),
                subjects=[stream_subject(self._prefix, kind)],
                storage=api.StorageType.FILE,
                retention=api.RetentionPolicy.LIMITS,
                discard=api.DiscardPolicy.OLD,
                duplicate_window=duplicate_window,
                max_bytes=max_bytes,
            )
            try:
                try:
                    await self._js.stream_info(config.name or "")
                except nats.js.errors.NotFoundError:
                    await self._js.add_stream(config)
            except _NATS_ERRORS as exc:
                raise BusError(f"cannot create stream {config.name}: {exc!r}") from exc

    async def publish(
        self,
        subject: str,
        data: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        msg_id: str | None = None,
    ) -> None:
        hdrs = _headers(headers, msg_id)
        try:
            await self._js.publish(subject, data, headers=hdrs)
        except _NATS_ERRORS as exc:
            raise BusError(f"publish to {subject} failed: {exc!r}") from exc

    async def publish_many(self, messages: Sequence[OutgoingMessage]) -> None:
        if not messages:
            return
        futures: list[asyncio.Future[Any]] = []

        async def send_all() -> None:
            # One deadline for the whole batch: a per-message wait_stall would wrap every
            # publish in its own wait_for (a task each), a large share of a worker's time.
            publish = self._js.publish_async
            for m in messages:
                futures.append(
                    await publish(m.subject, m.data, headers=_headers(m.headers, m.msg_id))
                )
            await asyncio.gather(*futures)

        try:
            await asyncio.wait_for(send_all(), self._publish_timeout)
        except _NATS_ERRORS as exc:
            for future in futures:
                future.cancel()
            raise BusError(f"publishing {len(messages)} messages failed: {exc!r}") from exc

    async def subscribe(
        self, subject: str, *, durable: str | None, options: SubscribeOptions | None = None
    ) -> NatsSubscription:
        opts = options or SubscribeOptions()
        kind = StreamKind(subject.split(".")[1]) if subject.count(".") >= 2 else None
        if kind is None or not subject.startswith(self._prefix + "."):
            raise BusError(f"no stream captures subject {subject!r}")
        config = api.ConsumerConfig(
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=opts.ack_wait,
            max_deliver=opts.max_deliver,
            deliver_policy=(
                api.DeliverPolicy.NEW
                if opts.deliver is DeliverPolicy.NEW
                else api.DeliverPolicy.ALL
            ),
            max_ack_pending=20_000,
            # an ephemeral consumer disappears once nobody has pulled from it for a while
            inactive_threshold=None if durable else EPHEMERAL_IDLE,
        )
        stream = stream_name(self._prefix, kind)
        try:
            if durable is not None:
                sub = await self._js.pull_subscribe(
                    subject, durable=durable, stream=stream, config=config
                )
                return NatsSubscription(sub, self._js, stream, None)
            name = f"ephemeral-{uuid.uuid4().hex}"
            config.name = name
            config.filter_subject = subject
            await self._js.add_consumer(stream, config=config)
            sub = await self._js.pull_subscribe_bind(consumer=name, stream=stream)
        except _NATS_ERRORS as exc:
            raise BusError(f"cannot subscribe {durable!r} to {subject}: {exc!r}") from exc
        return NatsSubscription(sub, self._js, stream, name)

    async def close(self) -> None:
        # Flush buffered acks, then close. drain() would wait out in-flight pull requests.
        try:
            if self._nc.is_connected:
                await self._nc.flush(timeout=2)
        except _NATS_ERRORS:
            pass
        with contextlib.suppress(*_NATS_ERRORS):  # closing a connection that is already gone
            await self._nc.close()


async def _connect(url: str, **options: Any) -> Client:
    return await nats.connect(url, **options)


def _headers(headers: Mapping[str, str] | None, msg_id: str | None) -> dict[str, str] | None:
    if not headers and msg_id is None:
        return None
    out = dict(headers or {})
    if msg_id is not None:
        out[MSG_ID_HEADER] = msg_id
    return out


async def _guard(op: Any) -> None:
    try:
        await op
    except nats.errors.MsgAlreadyAckdError:
        pass  # settling twice is a no-op, as on the memory bus
    except _NATS_ERRORS as exc:
        raise BusError(f"settling a message failed: {exc!r}") from exc
