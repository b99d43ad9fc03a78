"""The webhook dispatcher: outbox → deliveries → signed HTTP requests, retried, never dropped.

Two stages, both persistent:

1. **Fan-out.** Read the registry outbox after the stored ``fanout`` cursor, create one
   delivery per (record, matching subscription) with its CloudEvent body, and move the
   cursor — in one transaction. A crash repeats at most the uncommitted batch; the unique
   (subscription, seq) key keeps it free of duplicates.
2. **Delivery.** One asyncio task per enabled subscription. Per subject only the oldest
   pending delivery is eligible (order per subject and subscription); each attempt is
   recorded before the next one of that subject starts. Failures wait with exponential
   back-off and jitter; after ``RetryPolicy.max_attempts`` the delivery is dead-lettered,
   which unblocks the subject's later deliveries. A slow or dead endpoint only ever holds
   its own subscription's task: the other tasks, and the registry, never wait for it.

Several server instances may share one database: a lease row elects the one dispatcher
that works; the others stand by and take over when its lease expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from schemashift.monitoring.metrics import Metrics
from schemashift.webhooks.events import (
    DEFAULT_SOURCE,
    OutboxReader,
    OutboxRecordLike,
    cloudevent,
    encode_event,
)
from schemashift.webhooks.events import event_id as make_event_id
from schemashift.webhooks.model import Delivery, DeliveryStatus, Subscription
from schemashift.webhooks.retry import Outcome, RetryPolicy
from schemashift.webhooks.sender import AttemptResult, Sender
from schemashift.webhooks.store import NewDelivery, WebhookStore
from schemashift.webhooks.urls import Resolver, UrlPolicy, system_resolver

__all__ = ["DispatcherOptions", "WebhookDispatcher"]

T = TypeVar("T")
log = logging.getLogger("schemashift.webhooks")
LEASE_NAME = "dispatcher"


@dataclass(frozen=True)
class DispatcherOptions:
    """Tunables; the defaults suit a server, tests shrink the delays."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 10.0  # per attempt, connect to last byte of the answer's head
    poll_interval: float = 1.0  # how often the outbox and the subscriptions are re-read
    batch_size: int = 500  # outbox records per fan-out transaction
    concurrency: int = 4  # subjects of one subscription sent at the same time
    run_length: int = 50  # queued deliveries read per subject at once
    source: str = DEFAULT_SOURCE  # the CloudEvents "source"
    registry_url: str | None = None  # when set, events carry "dataschema" (the schema's URL)
    lease_ttl: float = 30.0
    # Delivered deliveries are kept this long for inspection (None: forever); dead letters
    # are kept until re-sent or their subscription is deleted.
    retention: float | None = 7 * 24 * 3600.0
    prune_every: float = 3600.0


class WebhookDispatcher:
    """Start with ``await run()`` (returns after :meth:`stop`); ``wake()`` skips the poll wait."""

    def __init__(
        self,
        store: WebhookStore,
        outbox: OutboxReader,
        *,
        metrics: Metrics | None = None,
        options: DispatcherOptions | None = None,
        url_policy: UrlPolicy | None = None,
        resolver: Resolver = system_resolver,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        transport: httpx.AsyncBaseTransport | None = None,
        holder: str | None = None,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.metrics = metrics
        self.options = options or DispatcherOptions()
        self.url_policy = url_policy or UrlPolicy()
        self.resolver = resolver
        self.clock = clock
        self.sleep = sleep
        self.rand = rand
        self.transport = transport
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._subscriptions: dict[int, Subscription] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._signals: dict[int, asyncio.Event] = {}
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._sender: Sender | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Database calls running in threads. A cancelled task cannot stop its thread, so run()
        # waits for these before it returns: an answered request's outcome is still written
        # (not re-sent after a graceful restart) and no connection outlives the dispatcher.
        self._in_flight: set[asyncio.Future[Any]] = set()
        self._pruned_at = float("-inf")

    # -- control ------------------------------------------------------------------------------

    def wake(self) -> None:
        """Re-read outbox and subscriptions now (after a registration, a change, a re-send).

        Safe to call from any thread.
        """
        event = self._wake
        if event is None:
            return
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._wake_all)

    def _wake_all(self) -> None:
        if self._wake is not None:
            self._wake.set()
        for signal in self._signals.values():
            signal.set()

    async def stop(self) -> None:
        """Ask :meth:`run` to finish (also if it has not started yet: a stopped dispatcher
        stays stopped); in-flight attempts are abandoned and retried later."""
        self._stopping = True
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        async with httpx.AsyncClient(
            transport=self.transport,
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: requests go to checked addresses
            # No shared connection cap: hanging endpoints must not exhaust a pool that healthy
            # subscriptions need (subscriptions × concurrency bounds the connections anyway).
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=50),
        ) as client:
            self._sender = Sender(
                client,
                url_policy=self.url_policy,
                resolver=self.resolver,
                timeout=self.options.timeout,
                clock=self.clock,
            )
            try:
                while not self._stopping:
                    self._wake.clear()
                    try:
                        await self._round()
                    except Exception:  # a database hiccup must not end the dispatcher
                        log.exception("webhook dispatcher round failed; retrying")
                    if not self._stopping:
                        await self._pause(self._wake, self.options.poll_interval)
            finally:
                await self._stop_workers(set(self._workers))
                if self._in_flight:
                    await asyncio.wait(self._in_flight)
                with contextlib.suppress(Exception):
                    await self._db(self.store.release_lease, LEASE_NAME, self.holder)
                self._wake = None

    async def _db(self, call: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``call`` in a worker thread, tracked until it finishes even if we are cancelled."""
        future = asyncio.ensure_future(asyncio.to_thread(call, *args, **kwargs))
        self._in_flight.add(future)
        future.add_done_callback(self._in_flight.discard)
        return await asyncio.shield(future)

    async def _round(self) -> None:
        leased = await self._db(
            self.store.try_lease,
            LEASE_NAME,
            self.holder,
            now=self.clock(),
            ttl=self.options.lease_ttl,
        )
        if not leased:
            await self._stop_workers(set(self._workers))
            return
        while await self.fan_out_once() == self.options.batch_size:
            pass  # a full batch: there may be more right behind it
        await self._sync_workers()
        await self._prune()
        if self.metrics is not None:
            dead = await self._db(self.store.count, DeliveryStatus.DEAD)
            self.metrics.webhook_dead_letters.set(dead)

    async def _prune(self) -> None:
        retention = self.options.retention
        now = self.clock()
        if retention is None or now - self._pruned_at < self.options.prune_every:
            return
        self._pruned_at = now
        removed = await self._db(self.store.prune_delivered, before=now - retention)
        if removed:
            log.info("pruned %d delivered webhook deliveries older than %.0fs", removed, retention)

    # -- fan-out ------------------------------------------------------------------------------

    async def fan_out_once(self) -> int:
        """Turn one batch of outbox records into deliveries; the number of records read."""
        after = await self._db(self.store.cursor)
        records = await self._db(self.outbox.read_outbox, after, self.options.batch_size)
        if not records:
            return 0
        # Matching patterns and encoding bodies is CPU work: keep it off the event loop, so
        # even a pathological user regex never stalls other subscriptions' deliveries.
        new = await self._db(self._plan, records)
        last = max(record.seq for record in records)
        moved = await self._db(self.store.fan_out, after, last, new, now=self.clock())
        if not moved:
            log.info("webhook fan-out lost a race for the cursor at %d; re-reading", after)
        return len(records)

    def _plan(self, records: Sequence[OutboxRecordLike]) -> list[NewDelivery]:
        """The deliveries for ``records``: one per record and matching subscription."""
        subscriptions = self.store.list_subscriptions()
        return [
            NewDelivery(
                subscription_id=sub.id,
                seq=record.seq,
                subject=record.subject,
                kind=str(record.kind),
                event_id=make_event_id(record.seq, sub.id),
                body=encode_event(
                    cloudevent(
                        record,
                        sub.id,
                        source=self.options.source,
                        registry_url=self.options.registry_url,
                    )
                ),
            )
            for record in records
            for sub in subscriptions
            if sub.wants(record.kind, record.subject)
        ]

    # -- per-subscription workers -------------------------------------------------------------

    async def _sync_workers(self) -> None:
        current = {s.id: s for s in await self._db(self.store.list_subscriptions)}
        wanted = {sid for sid, sub in current.items() if sub.enabled}
        self._subscriptions = current
        await self._stop_workers(set(self._workers) - wanted)
        for sid in wanted:
            task = self._workers.get(sid)
            if task is None or task.done():
                self._signals[sid] = asyncio.Event()
                self._workers[sid] = asyncio.create_task(
                    self._work(sid), name=f"webhook-subscription-{sid}"
                )
            self._signals[sid].set()  # new deliveries may have been fanned out to it

    async def _stop_workers(self, ids: set[int]) -> None:
        tasks = [self._workers.pop(sid) for sid in ids if sid in self._workers]
        for sid in ids:
            self._signals.pop(sid, None)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _work(self, subscription_id: int) -> None:
        signal = self._signals[subscription_id]
        limit = asyncio.Semaphore(self.options.concurrency)
        while True:
            signal.clear()  # before reading, so a wake-up during the read is not lost
            try:
                queued = await self._db(
                    self.store.queue_heads, subscription_id, self.options.run_length
                )
                runs: dict[str, list[Delivery]] = {}
                for delivery in queued:
                    runs.setdefault(delivery.subject, []).append(delivery)
                now = self.clock()
                due = [run for run in runs.values() if run[0].next_attempt_at <= now]
                if due:
                    await asyncio.gather(
                        *(self._send_run(subscription_id, run, limit) for run in due)
                    )
                    continue
                wait = min((run[0].next_attempt_at - now for run in runs.values()), default=None)
            except Exception:  # keep the subscription alive through database hiccups
                log.exception("webhook worker for subscription %d failed", subscription_id)
                wait = self.options.poll_interval
            await self._pause(signal, wait)

    async def _send_run(
        self, subscription_id: int, run: list[Delivery], limit: asyncio.Semaphore
    ) -> None:
        """Send one subject's queued deliveries in order, stopping at the first that must
        wait (a retry is scheduled) — nothing behind it may overtake it."""
        async with limit:
            for delivery in run:
                if self._stopping or delivery.next_attempt_at > self.clock():
                    return
                updated = await self._attempt(subscription_id, delivery)
                if updated is None or updated.status is DeliveryStatus.PENDING:
                    return

    async def _attempt(self, subscription_id: int, delivery: Delivery) -> Delivery | None:
        subscription = self._subscriptions.get(subscription_id)
        if subscription is None or self._sender is None:
            return None
        result = await self._sender.send(subscription, delivery)
        return await self._record(delivery, result)

    async def _record(self, delivery: Delivery, result: AttemptResult) -> Delivery | None:
        now = self.clock()
        attempts = delivery.attempts + 1
        next_at = now
        if result.outcome is Outcome.DELIVERED:
            status = DeliveryStatus.DELIVERED
        elif result.outcome is Outcome.RETRY and not self.options.retry.exhausted(attempts):
            status = DeliveryStatus.PENDING
            next_at = now + self.options.retry.delay(attempts, self.rand(), result.retry_after)
        else:
            status = DeliveryStatus.DEAD
        updated = await self._db(
            self.store.record_attempt,
            delivery,
            at=now,
            outcome=result.outcome.value,
            status=status,
            next_attempt_at=next_at,
            status_code=result.status_code,
            error=result.error,
        )
        if updated is None:  # the subscription was deleted while the request was in flight
            return None
        if self.metrics is not None:
            self.metrics.webhook_deliveries.labels(outcome=result.outcome.value).inc()
            if status is DeliveryStatus.DEAD:
                # Set from the table, never incremented: re-sends and other instances change
                # the number too, and each round sets it the same way.
                dead = await self._db(self.store.count, DeliveryStatus.DEAD)
                self.metrics.webhook_dead_letters.set(dead)
        if status is DeliveryStatus.DEAD:
            log.warning(
                "webhook delivery %d (event %s) dead-lettered after %d attempts: %s",
                delivery.id,
                delivery.event_id,
                attempts,
                result.error,
            )
        return updated

    async def _pause(self, signal: asyncio.Event, timeout: float | None) -> None:
        """Wait for ``signal`` or ``timeout`` seconds (through the injected ``sleep``)."""
        waiters: set[asyncio.Future[object]] = {asyncio.ensure_future(signal.wait())}
        if timeout is not None:
            waiters.add(asyncio.ensure_future(self.sleep(max(0.0, timeout))))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
