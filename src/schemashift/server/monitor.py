"""The monitor task: turns what the registry and the bus report into log lines and gauges.

- It follows the registry outbox with its own in-memory cursor (starting at the current end,
  so a restart does not replay history into the logs) and writes one JSON line per version
  registered, drift quarantined, quarantine decided or version sunset; it also sets the
  per-subject drift-score gauge from each record's score.
- It keeps the latest :data:`RECENT` records as ``recent`` (plain dicts, newest last) for the
  UI's activity feed — including, at start, the last ones written before it started.
- It measures how far behind each durable consumer is where the bus can tell (NATS
  JetStream: pending plus unacknowledged messages) — the workers on the raw stream (that
  number is the ``schemashift_bus_lag`` gauge) and every subscriber of schema updates — and
  logs ``subscriber.lagging`` when one crosses ``lag_warning``, once per crossing.
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

__all__ = ["Monitor", "activity_item", "gauge_value", "jetstream_lags"]

PAGE = 500
WORKER_DURABLE = "schemashift-worker"  # the durable the stream workers share (WorkerOptions)
RECENT = 30  # outbox records kept for the UI's activity feed


# consumer name ("raw:<durable>" or "schemas:<durable>") -> messages not yet acknowledged
Lags = dict[str, int]
LagProbe = Callable[[], Awaitable[Lags | None]]
WORKER_KEY = f"raw:{WORKER_DURABLE}"


async def jetstream_lags(bus: Any) -> Lags | None:
    """Per durable consumer of the raw and schema streams: messages it has not acknowledged.

    ``raw:schemashift-worker`` is the workers' backlog; ``schemas:<name>`` is a subscriber
    (a consumer of ``schema.updated``) that has not caught up. Only a NATS bus can answer —
    JetStream keeps consumer positions on the server, so every instance sees the same
    numbers — else None (the in-process bus bounds its backlog itself).
    """
    client = getattr(bus, "client", None)
    if client is None:
        return None
    from schemashift.bus.base import StreamKind, stream_name

    manager = client.jsm()
    lags: Lags = {}
    for kind in (StreamKind.RAW, StreamKind.SCHEMAS):
        try:
            infos = await manager.consumers_info(stream_name(bus.prefix, kind))
        except Exception:  # the stream is not there yet, or NATS is away: nothing known
            continue
        for info in infos:
            name = info.name or (info.config.durable_name if info.config else None)
            if name:
                pending = int(info.num_pending or 0) + int(info.num_ack_pending or 0)
                lags[f"{kind.value}:{name}"] = pending
    return lags


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
        self._lagging: set[str] = set()
        self.lags: Lags = {}
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
        """Read every consumer's lag from the probe; the workers' lag is the bus-lag gauge."""
        if self.lag_probe is None:
            return
        lags = await self.lag_probe()
        if lags is None:
            return
        self.lags = lags
        if self.metrics is not None and WORKER_KEY in lags:
            self.metrics.bus_lag.set(lags[WORKER_KEY])

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
        """Log each consumer once when it goes above ``lag_warning`` (again after recovering)."""
        lags = dict(self.lags)
        if self.metrics is not None and WORKER_KEY not in lags:
            lags[WORKER_KEY] = int(gauge_value(self.metrics.bus_lag))
        for name, lag in sorted(lags.items()):
            if lag > self.lag_warning and name not in self._lagging:
                subscriber_lagging(self.log, subscriber=name, lag=lag, threshold=self.lag_warning)
                self._lagging.add(name)
            elif lag <= self.lag_warning:
                self._lagging.discard(name)
