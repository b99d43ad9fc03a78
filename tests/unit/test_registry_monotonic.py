"""Versions only widen: a new version takes every event its predecessor took.

The property the issue pins (BACKWARD-family modes): whatever the stream, each version the
registry registers by itself conforms every event the version it replaces conformed — with
the transformer (coercions and all) and strictly — and takes the event it was made for.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemashift.core.transform import (
    ExtrasPolicy,
    Rejected,
    TransformOptions,
    compile_transformer,
    strict_checker,
)
from schemashift.core.widen import widen
from schemashift.registry.config import ConfigPatch
from schemashift.registry.records import Verdict
from schemashift.registry.testing import ManualClock, memory_registry

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["a", "b", "GET", "2024-01-01T00:00:00Z", "x@example.com", "12"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["k", "m", "type", "id"]), inner, max_size=3)
    ),
    max_leaves=8,
)
events = st.dictionaries(
    st.sampled_from(["id", "type", "qty", "note", "tags", "meta"]), values, max_size=5
)


def conforms(schema: Any, payload: dict[str, Any], *, closed: bool = False) -> bool:
    """What the worker does with an event: the transformer (``closed``: refusing undeclared
    fields, for events the registry did not register a version for; pipeline/fates.py)."""
    options = TransformOptions(extras=ExtrasPolicy.REJECT) if closed else None
    return not isinstance(
        compile_transformer(schema, version=1, options=options)(payload), Rejected
    )


def strictly(schema: Any, payload: dict[str, Any]) -> bool:
    return not isinstance(strict_checker(schema)(payload), Rejected)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events, min_size=1, max_size=30), st.integers(min_value=1, max_value=6))
def test_each_new_version_takes_what_its_predecessor_took(
    stream: list[dict[str, Any]], min_samples: int
) -> None:
    registry = memory_registry(clock=ManualClock())
    registry.set_config(None, ConfigPatch(min_samples=min_samples, min_support=0.0))
    taken: list[dict[str, Any]] = []  # events conformed under some version so far
    for payload in stream:
        result = registry.observe("s", [payload], deadline=True)
        [verdict] = result.verdicts
        if result.latest_version is None:
            continue
        latest = registry.get_version("s", "latest").schema
        for earlier in taken:
            assert conforms(latest, earlier), (earlier, latest)
        if verdict.verdict in (Verdict.ACCEPTED, Verdict.REGISTERED):
            assert strictly(latest, payload)
            taken.append(payload)
        elif verdict.verdict is not Verdict.WAITING and conforms(latest, payload, closed=True):
            taken.append(payload)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events, min_size=1, max_size=8), events)
def test_widening_takes_the_new_value_and_keeps_the_old_ones(
    seen: list[dict[str, Any]], new: dict[str, Any]
) -> None:
    """core.widen alone, on an inferred schema: strict acceptance of old and new values."""
    from schemashift.core.infer import infer

    schema = infer(seen)
    widened = widen(schema, new).schema
    assert strictly(widened, new)
    for payload in seen:
        assert strictly(widened, payload)
