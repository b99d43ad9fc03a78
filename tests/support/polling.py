"""Waiting for an outcome in tests: bounded polling, never a timing assertion."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], *, within: float = 30.0, every: float = 0.2) -> T:
    """Poll ``probe`` until it returns something truthy (returned); fail after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {within}s (last: {value!r})")
        time.sleep(every)
