"""/healthz, /readyz and /metrics over a real Registry (SQLite) and the in-process bus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from schemashift.api import monitoring
from schemashift.bus import MemoryBus
from schemashift.monitoring.metrics import Metrics
from schemashift.registry.service import Registry


@pytest.fixture()
def registry(tmp_path: Path) -> Iterator[Registry]:
    registry = Registry.from_url(f"sqlite:///{tmp_path / 'mon.db'}")
    yield registry
    registry.close()


def make_client(**state: object) -> TestClient:
    app = FastAPI()
    for key, value in state.items():
        setattr(app.state, key, value)
    app.include_router(monitoring.router)
    return TestClient(app)


def test_healthz_needs_nothing() -> None:
    """Liveness answers even with no store or bus configured."""
    with make_client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_when_store_and_bus_answer(registry: Registry) -> None:
    with make_client(registry=registry, bus=MemoryBus()) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"store": "ok", "bus": "ok"}}


def test_readyz_fails_without_a_store() -> None:
    """A process with no reachable store is not ready, and says which check failed."""
    with make_client(bus=MemoryBus()) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["store"].startswith("error")


class _DownBus:
    """A bus reporting a lost connection, as the NATS adapter does while reconnecting."""

    def unreachable_for(self) -> float:
        return 12.5


def test_check_bus_reports_how_long_it_has_been_down() -> None:
    assert monitoring.check_bus(MemoryBus()) == "ok"
    assert monitoring.check_bus(_DownBus()) == "error: unreachable for 12.5s"
    assert monitoring.check_bus(object()).startswith("error: AttributeError")


def test_metrics_exposition(registry: Registry) -> None:
    """/metrics renders every schemashift metric in Prometheus text format."""
    metrics = Metrics()
    metrics.events_in.labels("shop/order").inc(3)
    metrics.events_dead_lettered.labels("shop/order", "not_an_object").inc()
    metrics.transform_latency.observe(2e-5)
    with make_client(registry=registry, metrics=metrics) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'schemashift_events_in_total{subject="shop/order"} 3.0' in text
    assert (
        'schemashift_events_dead_lettered_total{reason="not_an_object",subject="shop/order"} 1.0'
        in text
    )
    for name in (
        "schemashift_drift_score",
        "schemashift_versions_registered_total",
        "schemashift_quarantines_open 0.0",
        "schemashift_transform_seconds_bucket",
        "schemashift_bus_lag",
        "schemashift_relay_backlog",
    ):
        assert name in text


def test_metrics_without_a_metrics_object() -> None:
    with make_client() as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.text.startswith("#")


def test_readyz_times_out_a_hanging_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """A store that does not answer within the timeout makes the instance not ready."""

    class SlowRegistry:  # a store that hangs; a real one cannot be made to on cue
        def list_subjects(self) -> list[str]:
            import time

            time.sleep(0.3)
            return []

    monkeypatch.setattr(monitoring, "READY_TIMEOUT", 0.05)
    with make_client(registry=SlowRegistry(), bus=MemoryBus()) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "no answer" in response.json()["checks"]["store"]
