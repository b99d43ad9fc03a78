"""The stream worker: raw events in, conformed events or dead letters out.

Per raw message: read it (:mod:`~schemashift.pipeline.cloudevents`, strict JSON) → subject →
shape → known shape: the subject's transformer; new shape: the subject's analysis window,
observed by the registry once per window (:mod:`~schemashift.pipeline.subject_state`) →
publish the conformed event or the dead letter (:mod:`~schemashift.pipeline.envelope`) →
acknowledge. Guarantees:

* **exactly one output per input** — every message ends conformed or dead-lettered, and is
  acknowledged only after that output is stored on the bus. Outputs carry a
  ``Nats-Msg-Id`` derived from the input's stream sequence, so a redelivery (a crash after
  publishing, before acking) is de-duplicated by the bus instead of doubled;
* **bounded retries** — a message delivered more than ``max_attempts`` times goes to the
  dead-letter stream with ``max_deliver_exceeded`` instead of looping;
* **no stale versions** — a ``schema.updated`` event switches the subject's transformer
  between two events; versions only move forward;
* **fail loudly** — a worker that cannot reach the bus for longer than
  ``unreachable_budget`` seconds raises :class:`~schemashift.errors.BusError` (the CLI exits
  non-zero) instead of idling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from schemashift.bus.base import (
    Bus,
    DeliverPolicy,
    Delivery,
    StreamKind,
    SubscribeOptions,
    Subscription,
    stream_name,
)
from schemashift.core.transform import Rejected
from schemashift.errors import BusError, InvalidSchemaError, RegistryError, StoreError
from schemashift.monitoring.metrics import Metrics
from schemashift.pipeline.cloudevents import Unreadable, parse_message
from schemashift.pipeline.envelope import (
    ConformedTemplate,
    DeadLetterReason,
    parse_schema_update,
)
from schemashift.pipeline.outputs import Outputs, Routed
from schemashift.pipeline.shapes import shape_of
from schemashift.pipeline.subject_state import Held, SubjectState
from schemashift.pipeline.subjects import BusSubjects
from schemashift.pipeline.worker_options import (
    DEFAULT_REGISTRY_URL,
    OutageBudget,
    WorkerOptions,
    WorkerStats,
)

log = logging.getLogger("schemashift.worker")

__all__ = ["DEFAULT_REGISTRY_URL", "Worker", "WorkerOptions", "WorkerStats"]


class Worker:
    """Consumes ``<prefix>.raw.>``; publishes ``<prefix>.events.*`` and ``<prefix>.dlq.*``."""

    def __init__(
        self,
        registry: Any,
        bus: Bus,
        *,
        metrics: Metrics | None = None,
        registry_url: str = DEFAULT_REGISTRY_URL,
        options: WorkerOptions | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.registry = registry
        self.bus = bus
        self.metrics = metrics
        self.registry_url = registry_url
        self.options = options or WorkerOptions()
        self.stats = WorkerStats()
        self._subjects = BusSubjects(bus.prefix)
        self._out = Outputs(
            self._subjects,
            stream_name(bus.prefix, StreamKind.RAW),
            clock,
            on_latency=metrics.transform_latency.observe if metrics is not None else None,
        )
        self._states: dict[str, SubjectState] = {}
        self._stopping = asyncio.Event()
        self._budget = OutageBudget(self.options.unreachable_budget)

    # -- lifecycle ------------------------------------------------------------------------

    async def run(self) -> None:
        """Process until :meth:`stop`; raises BusError once the bus is gone past the budget."""
        self._stopping.clear()
        raw = await self._retry(self._subscribe_raw)
        updates = asyncio.create_task(self._follow_updates(), name="worker-updates")
        try:
            while not self._stopping.is_set():
                self._budget.check(self.bus.unreachable_for())
                try:
                    batch = await raw.fetch(self.options.batch, self.options.fetch_timeout)
                except BusError as exc:
                    self._budget.failed(exc)
                    await self._pause(0.2)
                    continue
                self._budget.recovered()
                await self.process(batch)
        finally:
            updates.cancel()
            with contextlib.suppress(BaseException):
                await updates
            await self._release_held()
            with contextlib.suppress(BusError):
                await raw.close()

    async def stop(self) -> None:
        self._stopping.set()

    async def _subscribe_raw(self) -> Subscription:
        opts = self.options
        return await self.bus.subscribe(
            self._subjects.wildcard(StreamKind.RAW),
            durable=opts.durable,
            # one delivery more than the attempts, so the last one can be dead-lettered
            options=SubscribeOptions(ack_wait=opts.ack_wait, max_deliver=opts.max_attempts + 1),
        )

    # -- one batch ------------------------------------------------------------------------

    async def process(self, batch: Sequence[Delivery]) -> None:
        """Route a batch, decide every due window, publish the outputs, then acknowledge."""
        out: list[Routed] = []
        for delivery in batch:
            routed = await self._route(delivery)
            if routed is not None:
                out.append(routed)
        now = time.monotonic()
        for state in list(self._states.values()):
            if state.is_due(now, self.options.window, self.options.hold_timeout):
                out.extend(await self._decide(state))
        await self._emit(out)
        await self._keep_held_alive(now)

    async def _keep_held_alive(self, now: float) -> None:
        """Reset the ack timer of messages held longer than half of ack_wait, so the bus
        does not redeliver them to another worker while their window waits for samples."""
        limit = self.options.ack_wait / 2
        for state in self._states.values():
            for held in state.held:
                if now - held.touched > limit:
                    held.touched = now
                    with contextlib.suppress(BusError):
                        await held.delivery.in_progress()

    async def _route(self, delivery: Delivery) -> Routed | None:
        if delivery.delivery_count > self.options.max_attempts:
            return self._out.dead(
                delivery,
                DeadLetterReason.MAX_DELIVER_EXCEEDED,
                f"delivered {delivery.delivery_count} times without being settled",
                None,
            )
        event = parse_message(
            delivery.data, delivery.headers, self.options.extractor, self.options.limits
        )
        if isinstance(event, Unreadable):
            return self._out.dead(delivery, event.code, event.message, event.subject)
        state = self._states.get(event.subject)
        if state is None:
            state = await self._load_subject(event.subject)
        state.seen += 1
        if self.metrics is not None:
            self.metrics.events_in.labels(event.subject).inc()
        shape = shape_of(event.payload, state.guide)
        if shape in state.quarantined:
            return self._out.dead(
                delivery,
                DeadLetterReason.QUARANTINED,
                "this shape is a quarantined drift awaiting a decision",
                event.subject,
                quarantine_id=state.quarantined[shape],
            )
        now = time.monotonic()
        if state.transformer is not None and shape in state.known:
            if state.seen % self.options.sample_every == 0:
                state.samples.append(event.payload)
            result = self._out.transform(state, event)
            if not isinstance(result, Rejected):
                return self._out.conformed(state, delivery, event, result)
            # A known shape the version refuses (a new enum value, a longer string…) is drift
            # in the values: let the registry see it in the next window before giving up.
            state.hold(Held(delivery, event, shape, now, now, rejected=True), now)
            return None
        state.hold(Held(delivery, event, shape, now, now), now)
        return None

    async def _emit(self, out: list[Routed]) -> None:
        if not out:
            return
        try:
            await self.bus.publish_many([item[0] for item in out])
        except BusError as exc:
            # Not stored: ask for redelivery; the message ids make a partial publish harmless.
            self._budget.failed(exc)
            for _, delivery, _, _ in out:
                with contextlib.suppress(BusError):
                    await delivery.nak(delay=1.0)
            return
        self._budget.recovered()
        for _, delivery, _, _ in out:
            with contextlib.suppress(BusError):  # an unacked output is redelivered, then deduped
                await delivery.ack()
        self._count(out)

    def _count(self, out: list[Routed]) -> None:
        metrics = self.metrics
        for _, _, subject, reason in out:
            if reason is None:
                self.stats.conformed += 1
                if metrics is not None:
                    metrics.events_conformed.labels(subject or "").inc()
            else:
                self.stats.dead_lettered += 1
                if metrics is not None:
                    metrics.events_dead_lettered.labels(subject or "", reason).inc()

    # -- analysis windows -----------------------------------------------------------------

    async def _load_subject(self, subject: str) -> SubjectState:
        state = SubjectState(subject)
        self._states[subject] = state
        await self._refresh(state)
        return state

    async def _refresh(self, state: SubjectState) -> None:
        """Bring the subject to the registry's latest version (never backwards)."""
        try:
            found = await asyncio.to_thread(self.registry.get_version, state.subject, "latest")
        except RegistryError:
            return  # no version yet
        except StoreError as exc:
            log.warning("registry unavailable while loading %s: %s", state.subject, exc)
            return
        self._apply(state, found.version, found.schema, found.schema_id)

    def _apply(self, state: SubjectState, version: int, schema: Any, schema_id: int | None) -> None:
        try:
            changed = state.apply_version(
                version,
                schema,
                schema_id,
                options=self.options.transform,
                templates=self._template,
            )
        except InvalidSchemaError as exc:
            log.error("version %s of %s does not compile: %s", version, state.subject, exc)
            return
        if changed:
            self.stats.versions_applied += 1

    def _template(self, subject: str, version: int) -> ConformedTemplate:
        return ConformedTemplate.build(self._subjects, self.registry_url, subject, version)

    async def _decide(self, state: SubjectState) -> list[Routed]:
        now = time.monotonic()
        held = state.take_held()
        samples, state.samples = state.samples, []
        # Held events put back by an earlier window were observed already: send each once.
        fresh = [h.event.payload for h in held if not h.observed] + samples
        decision = "insufficient_samples"
        result: Any = None
        if fresh:
            try:
                result = await asyncio.to_thread(self.registry.observe, state.subject, fresh)
            except (StoreError, RegistryError) as exc:
                log.warning("observe failed for %s: %s", state.subject, exc)
                for h in held:
                    with contextlib.suppress(BusError):
                        await h.delivery.nak(delay=1.0)
                return []
            for h in held:
                h.observed = True
            self.stats.observations += 1
            decision = str(result.decision)
            self._record_observation(state.subject, result)
            # Always re-read the latest version: "none" means "no drift from the *latest*
            # version", which another worker may have registered moments ago (its update may
            # still be on the way); conforming with our older one would reject what now fits.
            await self._refresh(state)
        if decision == "quarantined":
            for h in held:
                if not h.rejected:  # a known shape stays usable; only its refused values wait
                    state.quarantined[h.shape] = result.quarantine_id
            return [
                self._out.dead(
                    h.delivery,
                    DeadLetterReason.QUARANTINED,
                    "; ".join(result.reasons) or "drift quarantined by the registry",
                    state.subject,
                    quarantine_id=result.quarantine_id,
                )
                for h in held
            ]
        if state.transformer is None:
            waiting = [h for h in held if now - h.held_at < self.options.max_hold]
            if waiting:
                state.put_back(waiting, min(h.held_at for h in waiting))
            return [
                self._out.dead(
                    h.delivery,
                    DeadLetterReason.NO_SCHEMA,
                    f"no version of {state.subject!r} after {self.options.max_hold:g} s",
                    state.subject,
                )
                for h in held
                if now - h.held_at >= self.options.max_hold
            ]
        if decision != "insufficient_samples":
            # Fingerprinted again under the version now current: its maps (declared just
            # now, perhaps) make later events with other map keys known shapes too.
            state.known.update(shape_of(h.event.payload, state.guide) for h in held)
            return [self._out.conform(state, h.delivery, h.event) for h in held]
        # Not enough samples to decide yet: what fits the current version goes out; what it
        # refuses waits for more samples (up to max_hold) rather than being dead-lettered now.
        out: list[Routed] = []
        again: list[Held] = []
        for h in held:
            body = self._out.transform(state, h.event)
            if not isinstance(body, Rejected):
                out.append(self._out.conformed(state, h.delivery, h.event, body))
            elif now - h.held_at < self.options.max_hold:
                again.append(h)
            else:
                out.append(self._out.conform(state, h.delivery, h.event))
        if again:
            state.put_back(again, min(h.held_at for h in again))
        return out

    def _record_observation(self, subject: str, result: Any) -> None:
        if self.metrics is None:
            return
        if result.report is not None:
            self.metrics.drift_score.labels(subject).set(float(result.report.score))
        if str(result.decision) == "registered":
            self.metrics.versions_registered.labels(subject).inc()

    async def _release_held(self) -> None:
        """On stop, hand held messages back to the bus for another worker."""
        for state in self._states.values():
            for h in state.take_held():
                with contextlib.suppress(BusError):
                    await h.delivery.nak()

    # -- schema updates -------------------------------------------------------------------

    async def _follow_updates(self) -> None:
        """Apply every ``schema.updated`` event as it arrives (an ephemeral consumer)."""
        sub: Subscription | None = None
        while True:
            try:
                if sub is None:
                    sub = await self.bus.subscribe(
                        self._subjects.wildcard(StreamKind.SCHEMAS),
                        durable=None,
                        options=SubscribeOptions(deliver=DeliverPolicy.NEW, ack_wait=10.0),
                    )
                    for state in list(self._states.values()):
                        await self._refresh(state)  # catch up on what we missed meanwhile
                for delivery in await sub.fetch(64, 1.0):
                    self.apply_update(delivery.data)
                    await delivery.ack()
            except BusError:
                sub = None
                await asyncio.sleep(0.5)

    def apply_update(self, body: bytes) -> None:
        """Apply one schema update event (the CloudEvent the relay publishes)."""
        update = parse_schema_update(body)
        state = None if update is None else self._states.get(update.subject)
        if update is not None and state is not None:
            self._apply(state, update.version, update.schema, update.schema_id)

    # -- retries ------------------------------------------------------------------------------

    async def _retry(self, connect: Callable[[], Any]) -> Any:
        while True:
            try:
                return await connect()
            except BusError as exc:
                self._budget.failed(exc)
                self._budget.check(self.bus.unreachable_for())
                await self._pause(0.5)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
