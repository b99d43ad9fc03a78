"""Structured logs: one JSON line per notable event.

Operators grep and ship these lines, so each carries a stable ``event`` name and flat fields:

- ``version.registered``   subject, version, schema_id, score
- ``drift.quarantined``    subject, quarantine_id, score, changes
- ``quarantine.accepted`` / ``quarantine.rejected`` / ``version.sunset``
- ``subscriber.lagging``   subscriber, lag, threshold

Only the ``schemashift`` logger is configured; the host application's root logger is left
alone. ``configure_logging`` is idempotent: calling it again replaces the handler it installed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

__all__ = [
    "LOGGER_NAME",
    "JsonLineFormatter",
    "configure_logging",
    "drift_quarantined",
    "get_logger",
    "log_event",
    "log_outbox_record",
    "subscriber_lagging",
    "version_registered",
]

LOGGER_NAME = "schemashift"
_FIELDS_ATTR = "schemashift_fields"
_HANDLER_MARK = "_schemashift_handler"

# outbox record kind -> log event name (the kinds are pinned in docs/architecture.md)
_OUTBOX_EVENTS = {
    "schema.updated": "version.registered",
    "drift.quarantined": "drift.quarantined",
    "quarantine.accepted": "quarantine.accepted",
    "quarantine.rejected": "quarantine.rejected",
    "version.sunset": "version.sunset",
}


class JsonLineFormatter(logging.Formatter):
    """Formats a record as one JSON object: time, level, logger, event and the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        extra = getattr(record, _FIELDS_ATTR, None)
        if isinstance(extra, Mapping):
            for key, value in extra.items():
                line.setdefault(str(key), value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        # default=str: a field we did not foresee (a Path, an enum) is shown, never lost
        return orjson.dumps(line, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extra = getattr(record, _FIELDS_ATTR, None)
        if isinstance(extra, Mapping) and extra:
            base += " " + " ".join(f"{k}={v}" for k, v in extra.items())
        return base


def configure_logging(
    stream: TextIO | None = None, *, level: str | int = "INFO", fmt: str = "json"
) -> logging.Logger:
    """Send the ``schemashift`` logger to ``stream`` (stderr by default), one line per record."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    if fmt == "json":
        handler.setFormatter(JsonLineFormatter())
    else:
        handler.setFormatter(_TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level if isinstance(level, int) else level.upper())
    # our lines are complete on their own; do not repeat them through the root logger
    logger.propagate = False
    return logger


def get_logger(name: str = "") -> logging.Logger:
    """A child of the ``schemashift`` logger (``get_logger("server")`` → ``schemashift.server``)."""
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)


def log_event(
    logger: logging.Logger,
    event: str,
    *,
    level: int = logging.INFO,
    exc_info: bool = False,
    **fields: Any,
) -> None:
    """Log ``event`` with ``fields`` as one structured line (``exc_info``: with the traceback
    of the exception being handled, in the ``exception`` field)."""
    logger.log(level, event, exc_info=exc_info, extra={_FIELDS_ATTR: fields})


def version_registered(
    logger: logging.Logger,
    *,
    subject: str,
    version: int | None,
    schema_id: int | None,
    score: float | None = None,
) -> None:
    log_event(
        logger,
        "version.registered",
        subject=subject,
        version=version,
        schema_id=schema_id,
        score=score,
    )


def drift_quarantined(
    logger: logging.Logger,
    *,
    subject: str,
    quarantine_id: object,
    score: float | None,
    changes: int,
) -> None:
    log_event(
        logger,
        "drift.quarantined",
        level=logging.WARNING,
        subject=subject,
        quarantine_id=quarantine_id,
        score=score,
        changes=changes,
    )


def subscriber_lagging(
    logger: logging.Logger, *, subscriber: str, lag: int, threshold: int
) -> None:
    log_event(
        logger,
        "subscriber.lagging",
        level=logging.WARNING,
        subscriber=subscriber,
        lag=lag,
        threshold=threshold,
    )


def log_outbox_record(logger: logging.Logger, record: Any) -> None:
    """Log one registry outbox record (``OutboxRecord``) under its event name.

    The outbox is the registry's own account of what changed, so following it gives one line
    per version registered or drift quarantined, whichever process caused it.
    """
    kind = str(getattr(record, "kind", ""))
    event = _OUTBOX_EVENTS.get(kind)
    if event is None:
        return
    subject = str(getattr(record, "subject", ""))
    score = getattr(record, "score", None)
    changes = getattr(record, "changes", None) or ()
    if event == "version.registered":
        version_registered(
            logger,
            subject=subject,
            version=getattr(record, "version", None),
            schema_id=getattr(record, "schema_id", None),
            score=score,
        )
    elif event == "drift.quarantined":
        drift_quarantined(
            logger,
            subject=subject,
            quarantine_id=_quarantine_id(record),
            score=score,
            changes=len(changes),
        )
    else:
        log_event(
            logger,
            event,
            subject=subject,
            version=getattr(record, "version", None),
            seq=getattr(record, "seq", None),
        )


def _quarantine_id(record: Any) -> object:
    for name in ("quarantine_id", "id"):
        value = getattr(record, name, None)
        if value is not None:
            return value
    return getattr(record, "seq", None)
