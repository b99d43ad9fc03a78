"""When to retry a delivery and how long to wait (exponential back-off with jitter).

The wait before attempt ``n + 1`` (after ``n`` failed attempts) is::

    cap   = min(max_delay, base_delay * factor ** (n - 1))
    delay = cap * (1 - jitter * r)          r uniform in [0, 1)

so with the defaults (5 s, ×2, 1 h cap, jitter 0.5, 12 attempts) the waits are at most
5 s, 10 s, 20 s, … 40 min, 1 h, 1 h — about 2.4 h from the first attempt to the dead letter.
A ``Retry-After`` answer (429/503) raises the wait to what the receiver asked, up to the cap.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC
from enum import StrEnum

__all__ = ["Outcome", "RetryPolicy", "classify_status", "parse_retry_after"]


class Outcome(StrEnum):
    """How one attempt ended."""

    DELIVERED = "delivered"  # 2xx
    RETRY = "retry"  # timeout, connection error, 408, 429, 5xx: try again later
    FAILED = "failed"  # any other answer (3xx, 4xx): the receiver refused it; dead-letter now
    REFUSED_URL = "refused_url"  # the target now resolves to a refused address


def classify_status(status_code: int) -> Outcome:
    if 200 <= status_code < 300:
        return Outcome.DELIVERED
    if status_code in (408, 429) or status_code >= 500:
        return Outcome.RETRY
    return Outcome.FAILED


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - now)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential back-off and jitter."""

    max_attempts: int = 12
    base_delay: float = 5.0
    factor: float = 2.0
    max_delay: float = 3600.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.factor < 1:
            raise ValueError("delays must be non-negative and the factor at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be within [0, 1]")

    def ceiling(self, failed_attempts: int) -> float:
        """The longest wait after ``failed_attempts`` failures (before jitter)."""
        exponent = max(0, failed_attempts - 1)
        # Cap the exponent first: factor ** 1000 would overflow a float.
        if self.base_delay == 0:
            return 0.0
        raw = self.base_delay * self.factor ** min(exponent, 64)
        return min(self.max_delay, raw)

    def delay(
        self, failed_attempts: int, random_value: float, retry_after: float | None = None
    ) -> float:
        """The wait before the next attempt; ``random_value`` is uniform in [0, 1)."""
        cap = self.ceiling(failed_attempts)
        wait = cap * (1.0 - self.jitter * random_value)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_delay))
        return wait

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
