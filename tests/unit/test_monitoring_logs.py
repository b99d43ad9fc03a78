"""Structured logs: one JSON line per notable event, stable event names and fields."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from schemashift.monitoring.logs import (
    configure_logging,
    get_logger,
    log_outbox_record,
    subscriber_lagging,
)


@pytest.fixture()
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    configure_logging(out)
    yield out
    # leave the schemashift logger as other tests expect it: no handler of ours attached
    logger = logging.getLogger("schemashift")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.propagate = True


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@dataclass
class Record:
    kind: str
    subject: str
    version: int | None = None
    schema_id: int | None = None
    score: float | None = None
    changes: tuple[dict[str, object], ...] = field(default=())
    seq: int = 1
    quarantine_id: int | None = None
    time: datetime = datetime(2026, 1, 1, tzinfo=UTC)


def test_version_registered_line(stream: io.StringIO) -> None:
    """A schema.updated outbox record becomes one `version.registered` JSON line."""
    log_outbox_record(get_logger("server"), Record("schema.updated", "shop/order", 3, 17, 0.25))
    (line,) = lines(stream)
    assert line["event"] == "version.registered"
    assert line["level"] == "info"
    assert line["logger"] == "schemashift.server"
    assert (line["subject"], line["version"], line["schema_id"], line["score"]) == (
        "shop/order",
        3,
        17,
        0.25,
    )
    assert str(line["time"]).endswith("+00:00")


def test_drift_quarantined_line(stream: io.StringIO) -> None:
    """A quarantine is a warning carrying its id, score and number of changes."""
    record = Record(
        "drift.quarantined", "shop/order", score=0.7, changes=({"path": "/a"},), quarantine_id=4
    )
    log_outbox_record(get_logger(), record)
    (line,) = lines(stream)
    assert (line["event"], line["level"], line["quarantine_id"], line["changes"]) == (
        "drift.quarantined",
        "warning",
        4,
        1,
    )


def test_subscriber_lagging_line(stream: io.StringIO) -> None:
    subscriber_lagging(get_logger(), subscriber="raw", lag=5000, threshold=1000)
    (line,) = lines(stream)
    assert line == line | {"event": "subscriber.lagging", "lag": 5000, "threshold": 1000}


def test_unknown_outbox_kinds_are_not_logged(stream: io.StringIO) -> None:
    log_outbox_record(get_logger(), Record("something.else", "s"))
    assert stream.getvalue() == ""


def test_configure_is_idempotent(stream: io.StringIO) -> None:
    """Configuring twice replaces our handler: each event is still written once."""
    second = io.StringIO()
    configure_logging(second)
    subscriber_lagging(get_logger(), subscriber="x", lag=2, threshold=1)
    assert stream.getvalue() == ""
    assert len(second.getvalue().splitlines()) == 1


def test_text_format_keeps_fields() -> None:
    out = io.StringIO()
    configure_logging(out, fmt="text")
    try:
        subscriber_lagging(get_logger(), subscriber="x", lag=2, threshold=1)
    finally:
        logger = logging.getLogger("schemashift")
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True
    assert "subscriber.lagging" in out.getvalue()
    assert "lag=2" in out.getvalue()


def test_exc_info_puts_the_traceback_in_its_own_field(stream: io.StringIO) -> None:
    """A crash is still one JSON line: the traceback is a field, not extra lines."""
    from schemashift.monitoring.logs import log_event

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log_event(
            get_logger("server"), "part.crashed", level=logging.ERROR, exc_info=True, part="w"
        )
    (line,) = lines(stream)
    assert (line["event"], line["part"], line["level"]) == ("part.crashed", "w", "error")
    assert "RuntimeError: boom" in str(line["exception"])
