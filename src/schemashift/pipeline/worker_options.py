"""The worker's knobs, its counters, and the outage budget that makes it fail loudly."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from schemashift.core.jsonparse import DEFAULT_LIMITS, ParseLimits
from schemashift.core.transform import TransformOptions
from schemashift.errors import BusError
from schemashift.pipeline.cloudevents import SubjectExtractor

__all__ = ["DEFAULT_REGISTRY_URL", "OutageBudget", "WorkerOptions", "WorkerStats"]

log = logging.getLogger("schemashift.worker")

DEFAULT_REGISTRY_URL = "http://127.0.0.1:8081"


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """Tuning of a worker; the defaults suit one worker per core on NATS."""

    durable: str = "schemashift-worker"  # workers with the same name share the raw stream
    batch: int = 256
    fetch_timeout: float = 0.25
    ack_wait: float = 30.0
    max_attempts: int = 5
    window: int = 256  # held events per registry observation (a longer run is split)
    # the hold deadline: a subject without a version gets its first one from whatever it
    # holds once its oldest held event is this old (or at min_samples events, sooner)
    hold_timeout: float = 1.0
    recheck_every: int = 100  # while outliers wait for support, look again every N events
    report_every: int = 1000  # tell the registry a subject's event count at least this often
    unreachable_budget: float = 30.0
    limits: ParseLimits = DEFAULT_LIMITS
    extractor: SubjectExtractor = field(default_factory=SubjectExtractor)
    transform: TransformOptions | None = None


@dataclass(slots=True)
class WorkerStats:
    conformed: int = 0
    dead_lettered: int = 0
    parked: int = 0
    versions_applied: int = 0
    observations: int = 0


class OutageBudget:
    """How long the bus has been failing in a row; past ``budget`` seconds, give up.

    Counts both what the client reports (``unreachable_for``: the connection is down) and
    consecutive failed operations (the connection is up but the server refuses to work).
    """

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self._failing_since: float | None = None

    def failed(self, exc: BaseException) -> None:
        if self._failing_since is None:
            self._failing_since = time.monotonic()
        log.warning("bus trouble: %s", exc)

    def recovered(self) -> None:
        self._failing_since = None

    def check(self, unreachable_for: float) -> None:
        """Raise :class:`BusError` once the outage is longer than the budget."""
        failing = 0.0 if self._failing_since is None else time.monotonic() - self._failing_since
        down = max(unreachable_for, failing)
        if down > self.budget:
            raise BusError(
                f"the bus has been unreachable for {down:.1f} s, over the worker's budget of "
                f"{self.budget:g} s"
            )
