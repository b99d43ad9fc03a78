"""Retry schedule and answer classification of webhook deliveries."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemashift.webhooks.retry import Outcome, RetryPolicy, classify_status, parse_retry_after


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (299, Outcome.DELIVERED),
        (301, Outcome.FAILED),
        (400, Outcome.FAILED),
        (401, Outcome.FAILED),
        (404, Outcome.FAILED),
        (408, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
        (599, Outcome.RETRY),
    ],
)
def test_answers_are_classified(status: int, outcome: Outcome) -> None:
    """5xx, 429 and 408 are retried; other non-2xx answers are the receiver's final word."""
    assert classify_status(status) is outcome


def test_default_schedule_doubles_from_five_seconds_up_to_an_hour() -> None:
    policy = RetryPolicy()
    ceilings = [policy.ceiling(n) for n in range(1, policy.max_attempts)]
    assert ceilings == [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]


def test_without_jitter_the_delay_is_the_ceiling() -> None:
    policy = RetryPolicy(jitter=0.0)
    assert [policy.delay(n, 0.99) for n in (1, 2, 3)] == [5, 10, 20]


@settings(max_examples=200)
@given(
    failed=st.integers(min_value=1, max_value=10_000),
    r=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
    jitter=st.floats(min_value=0.0, max_value=1.0),
)
def test_jittered_delay_stays_within_its_band(failed: int, r: float, jitter: float) -> None:
    """Delay ∈ [cap·(1−jitter), cap], and the cap never exceeds max_delay (no overflow)."""
    policy = RetryPolicy(jitter=jitter)
    cap = policy.ceiling(failed)
    delay = policy.delay(failed, r)
    assert cap <= policy.max_delay
    assert cap * (1 - jitter) - 1e-9 <= delay <= cap + 1e-9


@settings(max_examples=100)
@given(st.integers(min_value=1, max_value=200))
def test_ceilings_never_decrease(failed: int) -> None:
    policy = RetryPolicy()
    assert policy.ceiling(failed) <= policy.ceiling(failed + 1)


def test_retry_after_raises_the_wait_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=1, max_delay=60, jitter=0)
    assert policy.delay(1, 0.0, retry_after=30) == 30
    assert policy.delay(1, 0.0, retry_after=10_000) == 60
    assert policy.delay(3, 0.0, retry_after=0.5) == 4


def test_attempts_are_bounded() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert not policy.exhausted(2)
    assert policy.exhausted(3)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Thu, 01 Jan 1970 00:01:40 GMT", 60.0),  # now = 40
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
        ("soon", None),
        ("-3", None),
        (None, None),
    ],
)
def test_retry_after_parses_seconds_and_dates(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=40.0) == expected


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"base_delay": -1}, {"factor": 0.5}, {"jitter": 1.5}],
)
def test_nonsense_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
