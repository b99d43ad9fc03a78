"""Prometheus metrics, held by an explicit object (no import-time global registry).

One :class:`Metrics` is made by the process that composes the parts (``schemashift serve``)
and handed to the worker, the relay and the API; ``/metrics`` renders its registry. Parts
that are given ``None`` record nothing.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    """Every metric schemashift exports, on a private registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.events_in = Counter(
            "schemashift_events_in_total", "Raw events received", ["subject"], registry=r
        )
        self.events_conformed = Counter(
            "schemashift_events_conformed_total",
            "Events published conformed",
            ["subject"],
            registry=r,
        )
        self.events_dead_lettered = Counter(
            "schemashift_events_dead_lettered_total",
            "Events sent to the dead-letter stream",
            ["subject", "reason"],
            registry=r,
        )
        self.events_parked = Counter(
            "schemashift_events_parked_total",
            "Events a quarantine holds on the parked stream until a person decides",
            ["subject"],
            registry=r,
        )
        self.outliers = Counter(
            "schemashift_outliers_total",
            "Events showing subtractive or modifying drift too few recent events showed",
            ["subject"],
            registry=r,
        )
        # Counted by the worker, once per raw event it reads whose payload repeated a key (the
        # last value kept: --json-duplicates last_wins). Not at HTTP ingest: the worker reads
        # every ingested event again, so counting there too would count it twice.
        self.duplicate_keys = Counter(
            "schemashift_duplicate_keys_total",
            "Raw events whose payload repeated a key (the last value was kept)",
            ["subject"],
            registry=r,
        )
        self.drift_score = Gauge(
            "schemashift_drift_score", "Latest drift score per subject", ["subject"], registry=r
        )
        self.versions_registered = Counter(
            "schemashift_versions_registered_total",
            "Schema versions registered",
            ["subject"],
            registry=r,
        )
        self.quarantines_open = Gauge(
            "schemashift_quarantines_open", "Quarantined drifts awaiting a decision", registry=r
        )
        self.transform_latency = Histogram(
            "schemashift_transform_seconds",
            "Time to conform one event",
            buckets=(1e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 1e-2, 0.1),
            registry=r,
        )
        self.bus_lag = Gauge(
            "schemashift_bus_lag", "Raw events waiting on the bus for a worker", registry=r
        )
        self.relay_backlog = Gauge(
            "schemashift_relay_backlog", "Outbox records not yet relayed to the bus", registry=r
        )
        self.webhook_deliveries = Counter(
            "schemashift_webhook_deliveries_total",
            "Webhook delivery attempts by outcome",
            ["outcome"],
            registry=r,
        )
        self.webhook_dead_letters = Gauge(
            "schemashift_webhook_dead_letters", "Webhook deliveries dead-lettered", registry=r
        )

    def render(self) -> bytes:
        """The text exposition format, for ``GET /metrics``."""
        return generate_latest(self.registry)
