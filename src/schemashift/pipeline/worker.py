"""The stream worker: raw events in, conformed events, dead letters or parked events out.

Per raw message: read it (:mod:`~schemashift.pipeline.cloudevents`) → subject → shape → a
known shape goes through the subject's transformer; a new shape the version takes strictly
becomes known; anything else is held and judged by the registry at the end of the batch, in
stream order (:func:`~schemashift.registry.service.Registry.observe`), and settled by its
verdict (:mod:`~schemashift.pipeline.fates`) → publish → record dead letters and parked events
in the registry → acknowledge. Guarantees (docs/pipeline.md has the state diagram):

* **exactly one output per input** — every message ends conformed, dead-lettered or parked,
  and is acknowledged only after that output is stored on the bus. Outputs carry a
  ``Nats-Msg-Id`` derived from the input's stream sequence, so a redelivery (a crash after
  publishing, before acking) is de-duplicated by the bus instead of doubled;
* **no event dies for the system's reasons** — held events wait only for the registry's
  verdict on their own batch, or for the subject's first version (at most the hold
  deadline); an event the current version can conform is conformed whatever happens to the
  drift it shows;
* **deterministic** — the registry judges events in stream order, counting every event, so one
  worker fed the same stream ends with the same versions on any machine; the clock matters
  only for the first version's hold deadline;
* **bounded retries** — a message delivered more than ``max_attempts`` times goes to the
  dead-letter stream with ``max_deliver_exceeded`` instead of looping;
* **decisions reach it without a restart** — ``schema.updated`` switches the subject's
  transformer between two events (versions only move forward); ``quarantine.accepted``
  re-drives the events the quarantine parked, ``quarantine.rejected`` turns them into
  ``drift_rejected`` dead letters;
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
from schemashift.pipeline import fates
from schemashift.pipeline.cloudevents import RawEvent, Unreadable, parse_message
from schemashift.pipeline.envelope import (
    ConformedTemplate,
    DeadLetterReason,
    parse_outbox_event,
)
from schemashift.pipeline.outputs import Outputs, Routed
from schemashift.pipeline.redrive import REPLAY_HEADER
from schemashift.pipeline.shapes import shape_of
from schemashift.pipeline.subject_state import Held, SubjectState
from schemashift.pipeline.subjects import BusSubjects
from schemashift.pipeline.worker_options import (
    DEFAULT_REGISTRY_URL,
    OutageBudget,
    WorkerOptions,
    WorkerStats,
)
from schemashift.registry.observation import Observation, ObserveBatch
from schemashift.registry.records import EventVerdict, ObserveResult, Verdict

log = logging.getLogger("schemashift.worker")

__all__ = ["DEFAULT_REGISTRY_URL", "Worker", "WorkerOptions", "WorkerStats"]


class Worker:
    """Consumes ``<prefix>.raw.>``; publishes ``<prefix>.events|dlq|parked.*``."""

    def __init__(
        self,
        registry: Any,
        bus: Bus,
        *,
        metrics: Metrics | None = None,
        registry_url: str = DEFAULT_REGISTRY_URL,
        options: WorkerOptions | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        on_registered: Callable[[], None] | None = None,
    ) -> None:
        self.registry = registry
        self.bus = bus
        self.metrics = metrics
        self.registry_url = registry_url
        self.options = options or WorkerOptions()
        self.stats = WorkerStats()
        self._monotonic = monotonic
        # told when an observation registered a version (wakes a relay in the same process)
        self._on_registered = on_registered
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
        self._tasks: set[asyncio.Task[None]] = set()
        self._redrives: list[str] = []  # subjects whose outliers to re-drive after the batch

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
            for task in list(self._tasks):
                with contextlib.suppress(BaseException):
                    await task
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
        """Route a batch, have the registry judge what it must, publish, then acknowledge."""
        out: list[Routed] = []
        for delivery in batch:
            routed = await self._route(delivery)
            if routed is not None:
                out.append(routed)
        now = self._monotonic()
        for state in list(self._states.values()):
            if state.pending or self._observation_due(state, now):
                out.extend(await self._observe(state, now))
        await self._emit(out)
        # only now: the outliers of this very batch are recorded, so a re-drive finds them
        redrives, self._redrives = self._redrives, []
        for subject in dict.fromkeys(redrives):
            self._spawn(self._redrive(subject, reason=DeadLetterReason.OUTLIER, parked=False))
        await self._keep_held_alive(now)

    def _observation_due(self, state: SubjectState, now: float) -> bool:
        if state.deadline_passed(now, self.options.hold_timeout):
            return True
        unreported = state.seen - state.reported
        # outliers wait for support: look again every `recheck_every` events; and the
        # registry's count of the subject's events must not lag far behind what this worker
        # conformed without asking (support is a share of *all* events — another worker's
        # stray must not be judged against a count that misses ours)
        return (
            state.outliers_open > 0 and unreported >= self.options.recheck_every
        ) or unreported >= self.options.report_every

    async def _keep_held_alive(self, now: float) -> None:
        """Reset the ack timer of messages held longer than half of ack_wait, so the bus
        does not redeliver them to another worker while they wait for a first version."""
        limit = self.options.ack_wait / 2
        for state in self._states.values():
            for held in state.waiting:
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
        replayed = REPLAY_HEADER in delivery.headers
        if not replayed:
            state.seen += 1
        self._count_in(event)
        shape = shape_of(event.payload, state.guide)
        if state.transformer is not None:
            remembered = state.remembered.get(shape)
            if remembered is not None:
                return self._settle_remembered(state, delivery, event, shape, remembered)
            if shape in state.known or state.accepts_strictly(event.payload):
                result = self._out.transform(state, event, steady=True)
                if not isinstance(result, Rejected):
                    state.known.add(shape)
                    return self._out.conformed(state, delivery, event, result)
        # new structure, a value the version refuses, or no version yet: the registry judges
        now = self._monotonic()
        state.pending.append(Held(delivery, event, shape, state.seen, now, now, replayed))
        return None

    def _count_in(self, event: RawEvent) -> None:
        metrics = self.metrics
        if metrics is None:
            return
        metrics.events_in.labels(event.subject).inc()
        if event.duplicate_keys:
            metrics.duplicate_keys.labels(event.subject).inc()

    def _settle_remembered(
        self, state: SubjectState, delivery: Delivery, event: RawEvent, shape: Any, seen: Any
    ) -> Routed:
        held = Held(delivery, event, shape, state.seen, 0.0, 0.0)
        if seen.verdict == "quarantined":
            return fates.park(self._out, state, held, seen.quarantine_id, seen.details)
        return fates.rejected(self._out, state, held, seen.quarantine_id, seen.details)

    async def _emit(self, out: list[Routed]) -> None:
        if not out:
            return
        try:
            await self.bus.publish_many([item.message for item in out])
        except BusError as exc:
            # Not stored: ask for redelivery; the message ids make a partial publish harmless.
            self._budget.failed(exc)
            for item in out:
                with contextlib.suppress(BusError):
                    await item.delivery.nak(delay=1.0)
            return
        self._budget.recovered()
        await self._record([item.record for item in out if item.record is not None])
        for item in out:
            with contextlib.suppress(BusError):  # an unacked output is redelivered, then deduped
                await item.delivery.ack()
        self._count(out)

    async def _record(self, records: list[Any]) -> None:
        """Store dead letters and parked events in the registry (idempotent by input id)."""
        if not records:
            return
        try:
            await asyncio.to_thread(self.registry.record_dead_letters, records)
        except (StoreError, RegistryError) as exc:
            # the dead-letter stream holds them all the same; only the listing misses them
            log.error("could not record %d dead letters: %s", len(records), exc)

    def _count(self, out: list[Routed]) -> None:
        metrics = self.metrics
        for item in out:
            subject, reason = item.subject, item.reason
            if reason is None:
                self.stats.conformed += 1
                if metrics is not None:
                    metrics.events_conformed.labels(subject or "").inc()
            elif item.record is not None and item.record.state == "parked":
                self.stats.parked += 1
                if metrics is not None:
                    metrics.events_parked.labels(subject or "").inc()
            else:
                self.stats.dead_lettered += 1
                if metrics is not None:
                    metrics.events_dead_lettered.labels(subject or "", reason).inc()

    # -- the registry's verdicts -----------------------------------------------------------

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

    async def _observe(self, state: SubjectState, now: float) -> list[Routed]:
        """Have the registry judge the subject's pending events (in chunks of ``window``)."""
        out: list[Routed] = []
        pending = state.take_pending()
        chunks = [
            pending[i : i + self.options.window]
            for i in range(0, len(pending), self.options.window)
        ]
        for index, chunk in enumerate(chunks or [[]]):
            last = index == len(chunks) - 1 or not chunks
            try:
                out.extend(await self._observe_chunk(state, chunk, now, last))
            except (StoreError, RegistryError) as exc:
                log.warning("observe failed for %s: %s", state.subject, exc)
                for held in [h for c in chunks[index:] for h in c]:
                    with contextlib.suppress(BusError):
                        await held.delivery.nak(delay=1.0)
                break
        return out

    async def _observe_chunk(
        self, state: SubjectState, chunk: list[Held], now: float, last: bool
    ) -> list[Routed]:
        base = state.reported
        upto = state.seen if last else max((h.position for h in chunk), default=base)
        batch = ObserveBatch(
            tuple(
                Observation(
                    h.event.payload, offset=max(h.position - base - 1, 0), replayed=h.replayed
                )
                for h in chunk
            ),
            counted=max(upto - base, 0),
            deadline=state.deadline_passed(now, self.options.hold_timeout),
        )
        result: ObserveResult = await asyncio.to_thread(self.registry.observe, state.subject, batch)
        state.reported = max(state.reported, upto)
        state.outliers_open = result.outliers_open
        self.stats.observations += 1
        self._record_observation(state.subject, result)
        if result.latest_version is not None and (
            state.version is None or result.latest_version > state.version
        ):
            await self._refresh(state)
            if state.version is None or state.version < result.latest_version:
                # settling with an older version could refuse what the new one takes
                raise StoreError(f"could not read version {result.latest_version} back")
        out: list[Routed] = []
        for held, verdict in zip(chunk, result.verdicts, strict=True):
            routed = fates.settle(self._out, state, held, verdict)
            if routed is None:
                state.waiting.append(held)
            else:
                out.append(routed)
        out.extend(self._release_waiting(state, result))
        if result.redrive_outliers:
            self._redrives.append(state.subject)  # after this batch's outputs are recorded
        return out

    def _release_waiting(self, state: SubjectState, result: ObserveResult) -> list[Routed]:
        """Events held for a first version: conformed once there is one, parked when the
        first version itself went to quarantine."""
        if not state.waiting:
            return []
        if state.transformer is not None:
            verdict = EventVerdict(Verdict.REGISTERED, version=state.version)
        elif result.quarantine_id is not None and result.latest_version is None:
            verdict = EventVerdict(Verdict.QUARANTINED, quarantine_id=result.quarantine_id)
        else:
            return []
        return [
            routed
            for held in state.take_waiting()
            if (routed := fates.settle(self._out, state, held, verdict)) is not None
        ]

    def _record_observation(self, subject: str, result: ObserveResult) -> None:
        if result.version is not None and self._on_registered is not None:
            self._on_registered()
        if self.metrics is None:
            return
        if result.report is not None:
            self.metrics.drift_score.labels(subject).set(float(result.report.score))
        registered = {v.version for v in result.verdicts if v.verdict is Verdict.REGISTERED}
        if result.version is not None:
            self.metrics.versions_registered.labels(subject).inc(max(len(registered), 1))
        outliers = sum(1 for v in result.verdicts if v.verdict is Verdict.OUTLIER)
        if outliers:
            self.metrics.outliers.labels(subject).inc(outliers)

    async def _release_held(self) -> None:
        """On stop, hand held messages back to the bus for another worker."""
        for state in self._states.values():
            for held in [*state.take_waiting(), *state.take_pending()]:
                with contextlib.suppress(BusError):
                    await held.delivery.nak()

    # -- re-driving -------------------------------------------------------------------------

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _redrive(
        self, subject: str, *, reason: str | None = None, quarantine_id: int | None = None,
        parked: bool,
    ) -> None:  # fmt: skip
        from schemashift.pipeline.redrive import replay

        try:
            count = await replay(
                self.registry,
                self.bus,
                subject=subject,
                reason=reason,
                quarantine_id=quarantine_id,
                state="parked" if parked else "dead",
            )
        except (StoreError, RegistryError, BusError) as exc:
            log.warning("re-drive of %s failed: %s", subject, exc)
            return
        if count:
            log.info("re-drove %d events of %s", count, subject)

    async def _dead_letter_rejected(self, quarantine_id: int) -> None:
        """A rejected quarantine's parked events become ``drift_rejected`` dead letters,
        in the registry and on the dead-letter stream."""
        from schemashift.pipeline.envelope import dead_letter

        try:
            rows = await asyncio.to_thread(self.registry.park_to_dead, quarantine_id)
        except (StoreError, RegistryError) as exc:
            log.warning("could not dead-letter quarantine %s: %s", quarantine_id, exc)
            return
        messages = [
            dead_letter(
                self._subjects,
                reason=row.reason,
                message=row.message,
                subject=row.subject,
                data=row.data,
                headers=row.headers,
                raw_subject=row.raw_subject,
                raw_seq=row.raw_seq,
                delivery_count=1,
                msg_id=f"{row.msg_id}:rejected",
                now=row.time,
                details=row.details,
                quarantine_id=row.quarantine_id,
            )
            for row in rows
        ]
        if messages:
            with contextlib.suppress(BusError):
                await self.bus.publish_many(messages)

    # -- schema updates and decisions -------------------------------------------------------

    async def _follow_updates(self) -> None:
        """Apply every outbox event as it arrives (an ephemeral consumer)."""
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
        """Apply one outbox event (the CloudEvent the relay publishes)."""
        update = parse_outbox_event(body)
        if update is None:
            return
        state = self._states.get(update.subject)
        if (
            update.kind in ("schema.updated", "quarantine.accepted")
            and state is not None
            and update.version is not None
            and update.schema is not None
        ):
            self._apply(state, update.version, update.schema, update.schema_id)
        if update.kind == "quarantine.accepted" and update.quarantine_id is not None:
            if state is not None:
                state.remembered.clear()
            self._spawn(
                self._redrive(update.subject, quarantine_id=update.quarantine_id, parked=True)
            )
        elif update.kind == "quarantine.rejected" and update.quarantine_id is not None:
            if state is not None:
                state.remembered.clear()  # later events are judged (and rejected) afresh
            self._spawn(self._dead_letter_rejected(update.quarantine_id))

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
