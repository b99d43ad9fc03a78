"""What the web UI shows, computed from plain values (no HTTP, no store access here).

- :func:`schema_lines` pretty-prints a schema exactly like ``json.dumps(indent=2)`` and tags
  every line with the JSON Pointer of the value it belongs to, so the diff view can highlight
  the lines a change touches by its ``schema_path``.
- :class:`RateWindow` turns the process's cumulative counters (events in, dead-lettered)
  into events/s and a dead-letter rate over a sliding window.
- :func:`subject_status` names a subject's state: ``quarantined`` (a drift awaits a decision),
  ``degraded`` (more of its events were dead-lettered over the rate window than
  :data:`DEGRADED_DEAD_LETTER_SHARE`), ``drifting`` (recent or unsettled drift) or ``healthy``.
"""

from __future__ import annotations

import dataclasses
import json
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

__all__ = [
    "DEGRADED_DEAD_LETTER_SHARE",
    "RateWindow",
    "Rates",
    "SchemaLine",
    "as_plain",
    "drift_points",
    "schema_lines",
    "subject_status",
]

Status = str  # "healthy" | "drifting" | "degraded" | "quarantined"
RECENT_DRIFT_SECONDS = 120.0  # a version registered from drift this recently still shows
# a subject is degraded when more than this share of its events were dead-lettered over the
# rate window (the server may set ``app.state.degraded_share`` to another value)
DEGRADED_DEAD_LETTER_SHARE = 0.01


@dataclasses.dataclass(frozen=True)
class SchemaLine:
    """One line of a pretty-printed schema and the JSON Pointer of the value it belongs to."""

    text: str
    pointer: str

    def to_dict(self) -> dict[str, str]:
        return {"text": self.text, "pointer": self.pointer}


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def schema_lines(value: Any) -> list[SchemaLine]:
    """``json.dumps(value, indent=2, ensure_ascii=False)`` split into pointer-tagged lines.

    A line opening a container or holding a scalar carries that value's pointer; a closing
    bracket carries its container's pointer, so highlighting ``/properties/x`` covers the
    whole sub-tree including its closing bracket.
    """
    lines: list[SchemaLine] = []
    _emit(value, "", 0, "", "", lines)
    return lines


def _emit(value: Any, pointer: str, depth: int, key: str, tail: str, out: list[SchemaLine]) -> None:
    pad = "  " * depth
    if isinstance(value, Mapping) and value:
        out.append(SchemaLine(f"{pad}{key}{{", pointer))
        items = list(value.items())
        for index, (name, child) in enumerate(items):
            comma = "," if index < len(items) - 1 else ""
            child_key = f"{_scalar(str(name))}: "
            _emit(child, f"{pointer}/{_escape(str(name))}", depth + 1, child_key, comma, out)
        out.append(SchemaLine(f"{pad}}}{tail}", pointer))
    elif isinstance(value, list | tuple) and value:
        out.append(SchemaLine(f"{pad}{key}[", pointer))
        for index, child in enumerate(value):
            comma = "," if index < len(value) - 1 else ""
            _emit(child, f"{pointer}/{index}", depth + 1, "", comma, out)
        out.append(SchemaLine(f"{pad}]{tail}", pointer))
    elif isinstance(value, Mapping):
        out.append(SchemaLine(f"{pad}{key}{{}}{tail}", pointer))
    elif isinstance(value, list | tuple):
        out.append(SchemaLine(f"{pad}{key}[]{tail}", pointer))
    else:
        out.append(SchemaLine(f"{pad}{key}{_scalar(value)}{tail}", pointer))


def as_plain(value: Any) -> Any:
    """A JSON-safe copy of a registry value (dataclass, ``to_dict()`` object, enum, datetime)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return as_plain(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return as_plain(to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): as_plain(v) for k, v in value.items()}
    if isinstance(value, Iterable) and not isinstance(value, bytes | bytearray):
        return [as_plain(v) for v in value]
    return str(value)


def pick(record: Mapping[str, Any], *names: str, default: Any = None) -> Any:
    """The first of ``names`` present (and not None) in ``record``."""
    for name in names:
        value = record.get(name)
        if value is not None:
            return value
    return default


def drift_points(history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The drift-score series of a subject, oldest first, as ``{time, score, decision, version}``."""
    points = []
    for entry in history:
        report = entry.get("report")
        score = pick(entry, "score")
        if score is None and isinstance(report, Mapping):
            score = report.get("score")
        points.append(
            {
                "time": pick(entry, "time", "observed_at", "at", "created_at"),
                "score": float(score) if isinstance(score, int | float) else 0.0,
                "decision": pick(entry, "decision", "kind"),
                "version": pick(entry, "version", "base_version"),
            }
        )
    points.sort(key=lambda p: str(p["time"] or ""))
    return points


def subject_status(
    open_quarantines: int,
    points: Sequence[Mapping[str, Any]],
    *,
    now: datetime | None = None,
    recent: float = RECENT_DRIFT_SECONDS,
    dead_letter_rate: float = 0.0,
    degraded_share: float = DEGRADED_DEAD_LETTER_SHARE,
) -> Status:
    """Name a subject's state from its open quarantines, dead-letter share and drift history
    (oldest first), in this order of precedence.

    ``quarantined``: a drift awaits a decision. ``degraded``: more than ``degraded_share`` of
    its events were dead-lettered over the rate window (``dead_letter_rate``). ``drifting``:
    the latest drift was not (yet) turned into a version (too few samples, below the
    threshold), or it became one less than ``recent`` seconds before ``now``. ``healthy``: no
    drift, or only drift settled long ago.
    """
    if open_quarantines > 0:
        return "quarantined"
    if dead_letter_rate > degraded_share:
        return "degraded"
    if not points:
        return "healthy"
    latest = points[-1]
    if float(latest.get("score") or 0.0) <= 0.0:
        return "healthy"
    # registered, or quarantined and since decided (no quarantine is open): settled drift
    if latest.get("decision") not in ("registered", "quarantined"):
        return "drifting"
    when = _parse_time(latest.get("time"))
    if now is not None and when is not None and (now - when).total_seconds() < recent:
        return "drifting"
    return "healthy"


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


@dataclasses.dataclass(frozen=True)
class Rates:
    events_per_second: float
    dead_letter_rate: float  # dead-lettered / received over the window, in [0, 1]


class RateWindow:
    """Rates from cumulative counters sampled over time (the clock is the caller's).

    ``record(now, totals)`` stores ``{subject: (received, dead_lettered)}`` at ``now``
    (seconds, monotonic); ``rates(subject)`` compares the newest sample with the oldest one
    still inside ``span`` seconds (or with the one just before the newest if none is). A
    counter that went backwards (a restart) counts from zero.
    """

    def __init__(self, span: float = 10.0, max_samples: int = 120) -> None:
        if span <= 0:
            raise ValueError("span must be > 0 seconds")
        self.span = span
        self._samples: deque[tuple[float, dict[str, tuple[float, float]]]] = deque(
            maxlen=max_samples
        )

    def record(self, now: float, totals: Mapping[str, tuple[float, float]]) -> None:
        if self._samples and now < self._samples[-1][0]:
            raise ValueError("samples must be recorded in time order")
        self._samples.append((now, dict(totals)))
        # keep one sample older than the span so a window always has a start
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.span:
            self._samples.popleft()

    def all_rates(self) -> dict[str, Rates]:
        """:meth:`rates` of every subject the newest sample counts."""
        if not self._samples:
            return {}
        return {subject: self.rates(subject) for subject in self._samples[-1][1]}

    def rates(self, subject: str) -> Rates:
        if len(self._samples) < 2:
            return Rates(0.0, 0.0)
        t1, last = self._samples[-1]
        # the oldest sample inside the span; the one before it if the newest is alone there
        inside = [s for s in self._samples if t1 - s[0] <= self.span]
        t0, first = inside[0] if len(inside) >= 2 else self._samples[-2]
        elapsed = t1 - t0
        if elapsed <= 0:
            return Rates(0.0, 0.0)
        in0, dl0 = first.get(subject, (0.0, 0.0))
        in1, dl1 = last.get(subject, (0.0, 0.0))
        received = in1 - in0 if in1 >= in0 else in1
        dead = dl1 - dl0 if dl1 >= dl0 else dl1
        rate = dead / received if received > 0 else 0.0
        return Rates(received / elapsed, min(1.0, max(0.0, rate)))
