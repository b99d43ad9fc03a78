"""The monitor task: turns what the registry and the bus report into log lines and gauges.

- It follows the registry outbox with its own in-memory cursor (starting at the current end,
  so a restart does not replay history into the logs) and writes one JSON line per version
  registered, drift quarantined, quarantine decided or version sunset; it also sets the
  per-subject drift-score gauge from each record's score.
- It keeps the latest :data:`RECENT` records as ``recent`` (plain dicts, newest last) for the
  UI's activity feed — including, at start, the last ones written before it started.
- It measures the bus lag — raw messages the workers' shared durable consumer has not yet
  acknowledged — where the bus can tell (NATS JetStream: the consumer's pending and
  unacknowledged counts), sets the ``schemashift_bus_lag`` gauge, and logs
  ``subscriber.lagging`` when the lag crosses ``lag_warning`` — once per crossing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from schemashift.monitoring.logs import get_logger, log_event, log_outbox_record, subscriber_lagging
from schemashift.monitoring.metrics import Metrics

__all__ = ["Monitor", "activity_item", "gauge_value", "jetstream_lag"]

PAGE = 500
WORKER_DURABLE = "schemashift-worker"  # the durable the stream workers share (WorkerOptions)
RECENT = 30  # outbox records kept for the UI's activity feed


LagProbe = Callable[[], Awaitable[int | None]]


async def jetstream_lag(bus: Any, durable: str = WORKER_DURABLE) -> int | None:
    """Raw messages the durable worker consumer has not acknowledged, or None if unknown.

    Only a NATS bus can answer (JetStream keeps the consumer's position on the server, so
    every instance sees the same number); the in-process bus bounds its backlog itself.
    """
    client = getattr(bus, "client", None)
    if client is None:
        return None
    from schemashift.bus.base import StreamKind, stream_name

    try:
        info = await client.jetstream().consumer_info(
            stream_name(bus.prefix, StreamKind.RAW), durable
        )
    except Exception:  # no worker has bound the consumer yet, or NATS is away: unknown
        return None
    return int(info.num_pending or 0) + int(info.num_ack_pending or 0)


class OutboxReader(Protocol):
    def read_outbox(self, after_seq: int, limit: int) -> Sequence[Any]: ...


def gauge_value(gauge: Any) -> float:
    """The current value of an unlabelled prometheus-client gauge (via its public collect())."""
    for family in gauge.collect():
        for sample in family.samples:
            return float(sample.value)
    return 0.0


def activity_item(record: Any) -> dict[str, Any]:
    """An outbox record as the activity feed shows it (no schema body: it can be large)."""
    when: Any = getattr(record, "time", None)
    kind = getattr(record, "kind", "")
    return {
        "seq": int(record.seq),
        "kind": str(getattr(kind, "value", kind)),
        "subject": str(record.subject),
        "version": getattr(record, "version", None),
        "score": getattr(record, "score", None),
        "changes": len(getattr(record, "changes", None) or ()),
        "quarantine_id": getattr(record, "quarantine_id", None),
        "time": when.isoformat() if isinstance(when, datetime) else when,
    }


class Monitor:
    """Run with ``await run()``; :meth:`stop` ends it after the current check."""

    def __init__(
        self,
        outbox: OutboxReader,
        metrics: Metrics | None,
        *,
        interval: float = 1.0,
        lag_warning: int = 1000,
        logger: logging.Logger | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        lag_probe: LagProbe | None = None,
    ) -> None:
        self.outbox = outbox
        self.metrics = metrics
        self.interval = interval
        self.lag_warning = lag_warning
        self.log = logger or get_logger("server")
        self.sleep = sleep
        self.lag_probe = lag_probe
        self.cursor: int | None = None
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self._lagging = False
        self._stopping = asyncio.Event()

    async def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.measure_lag()
                await asyncio.to_thread(self.check_once)
            except Exception as exc:  # the store may be briefly down; keep watching
                log_event(self.log, "monitor.check_failed", level=logging.WARNING, error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)

    async def measure_lag(self) -> None:
        """Set the bus-lag gauge from the probe (left alone when the bus cannot tell)."""
        if self.lag_probe is None or self.metrics is None:
            return
        lag = await self.lag_probe()
        if lag is not None:
            self.metrics.bus_lag.set(lag)

    def check_once(self) -> int:
        """One pass: log new outbox records and check the lag; returns records logged."""
        logged = 0
        if self.cursor is None:
            self.cursor = self._end_of_outbox()
        else:
            while True:
                records = self.outbox.read_outbox(self.cursor, PAGE)
                for record in records:
                    log_outbox_record(self.log, record)
                    self._update_gauges(record)
                    self.recent.append(activity_item(record))
                    self.cursor = max(self.cursor, int(record.seq))
                    logged += 1
                if len(records) < PAGE:
                    break
        self._check_lag()
        return logged

    def _end_of_outbox(self) -> int:
        cursor = 0
        while True:
            records = self.outbox.read_outbox(cursor, PAGE)
            if not records:
                return cursor
            self.recent.extend(activity_item(r) for r in records[-RECENT:])
            cursor = max(int(r.seq) for r in records)

    def _update_gauges(self, record: Any) -> None:
        score = getattr(record, "score", None)
        if self.metrics is not None and isinstance(score, int | float):
            self.metrics.drift_score.labels(str(record.subject)).set(float(score))

    def _check_lag(self) -> None:
        if self.metrics is None:
            return
        lag = int(gauge_value(self.metrics.bus_lag))
        if lag > self.lag_warning and not self._lagging:
            subscriber_lagging(self.log, subscriber="worker", lag=lag, threshold=self.lag_warning)
        self._lagging = lag > self.lag_warning
