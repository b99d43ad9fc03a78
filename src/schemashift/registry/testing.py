"""Helpers for testing code that uses a Registry: a manual clock and an in-memory registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemashift.registry.config import SubjectConfig
from schemashift.registry.service import Registry

__all__ = ["ManualClock", "memory_registry"]


class ManualClock:
    """A clock that moves only when told to (pass it as ``Registry(clock=...)``)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def memory_registry(
    *, clock: ManualClock | None = None, defaults: SubjectConfig | None = None
) -> Registry:
    """A registry on an in-memory SQLite database (one per call)."""
    return Registry.from_url("sqlite://", clock=clock or ManualClock(), defaults=defaults)
