"""The monitor: outbox records become JSON log lines; lag crossings are logged once."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemashift.monitoring.logs import configure_logging, get_logger
from schemashift.monitoring.metrics import Metrics
from schemashift.registry.config import ConfigPatch
from schemashift.registry.service import Registry
from schemashift.server.monitor import Monitor, gauge_value

SCHEMA = {"type": "object", "properties": {"id": {"type": "string"}}, "additionalProperties": False}


@pytest.fixture()
def registry(tmp_path: Path) -> Iterator[Registry]:
    registry = Registry.from_url(f"sqlite:///{tmp_path / 'monitor.db'}")
    yield registry
    registry.close()


@pytest.fixture()
def log_lines() -> Iterator[io.StringIO]:
    out = io.StringIO()
    configure_logging(out)
    yield out
    logger = logging.getLogger("schemashift")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.propagate = True


def events(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_history_before_start_is_not_replayed(registry: Registry, log_lines: io.StringIO) -> None:
    """A restarted server does not log old registrations again."""
    registry.register("a", SCHEMA)
    monitor = Monitor(registry, Metrics(), logger=get_logger("server"))
    assert monitor.check_once() == 0
    assert events(log_lines) == []


def test_new_versions_and_quarantines_are_logged(
    registry: Registry, log_lines: io.StringIO
) -> None:
    """Each registration and each quarantine after start is one JSON line, in outbox order."""
    metrics = Metrics()
    monitor = Monitor(registry, metrics, logger=get_logger("server"))
    monitor.check_once()
    registry.register("shop/order", SCHEMA)
    registry.set_config("shop/pay", ConfigPatch(auto_register=False))
    payload = {"id": "1", "amount": 3}
    result = registry.observe("shop/pay", [payload] * 20)
    assert result.decision.value == "quarantined"
    assert monitor.check_once() == 2
    first, second = events(log_lines)
    assert (first["event"], first["subject"], first["version"]) == (
        "version.registered",
        "shop/order",
        1,
    )
    assert (second["event"], second["subject"], second["level"]) == (
        "drift.quarantined",
        "shop/pay",
        "warning",
    )
    assert second["quarantine_id"] == result.quarantine_id
    assert monitor.check_once() == 0  # nothing new: nothing logged twice


def test_lag_is_logged_once_per_crossing(registry: Registry, log_lines: io.StringIO) -> None:
    metrics = Metrics()
    monitor = Monitor(registry, metrics, lag_warning=100, logger=get_logger("server"))
    monitor.check_once()
    metrics.bus_lag.set(500)
    monitor.check_once()
    monitor.check_once()
    metrics.bus_lag.set(10)
    monitor.check_once()
    metrics.bus_lag.set(101)
    monitor.check_once()
    lagging = [e for e in events(log_lines) if e["event"] == "subscriber.lagging"]
    assert [e["lag"] for e in lagging] == [500, 101]
    assert gauge_value(metrics.bus_lag) == 101.0


def test_activity_keeps_the_latest_records_including_history(
    registry: Registry, log_lines: io.StringIO
) -> None:
    """The UI's feed starts with what happened before the server started, then follows."""
    registry.register("a", SCHEMA)
    monitor = Monitor(registry, Metrics(), logger=get_logger("server"))
    monitor.check_once()
    registry.register("b", SCHEMA)
    monitor.check_once()
    feed = list(monitor.recent)
    assert [(e["kind"], e["subject"], e["version"]) for e in feed] == [
        ("schema.updated", "a", 1),
        ("schema.updated", "b", 1),
    ]
    assert all(isinstance(e["time"], str) for e in feed)
    json.dumps(feed)  # the endpoint returns it as is
