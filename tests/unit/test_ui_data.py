"""The UI's pure view helpers: pointer-tagged schema lines, rates, subject status."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemashift.api.ui_data import (
    RateWindow,
    as_plain,
    drift_points,
    schema_lines,
    subject_status,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


def resolve(document: Any, pointer: str) -> Any:
    node = document
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_schema_lines_reproduce_json_dumps(value: Any) -> None:
    """Joined, the lines are exactly json.dumps(indent=2): the viewer shows the real schema."""
    text = "\n".join(line.text for line in schema_lines(value))
    assert text == json.dumps(value, indent=2, ensure_ascii=False)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_every_line_pointer_resolves(value: Any) -> None:
    """Each line's pointer names a value inside the document (so highlights land somewhere)."""
    for line in schema_lines(value):
        resolve(value, line.pointer)


def test_a_property_subtree_is_tagged_by_its_pointer() -> None:
    """All lines of /properties/a (opening, body, closing) carry pointers under it."""
    schema = {"type": "object", "properties": {"a/b": {"type": "string"}, "n": {"type": "integer"}}}
    lines = schema_lines(schema)
    tagged = [line.text.strip() for line in lines if line.pointer.startswith("/properties/a~1b")]
    assert tagged == ['"a/b": {', '"type": "string"', "},"]


def test_rate_window_rates() -> None:
    """Events/s and dead-letter rate come from the counter deltas over the window."""
    window = RateWindow(span=10.0)
    window.record(0.0, {"s": (0, 0)})
    window.record(5.0, {"s": (100, 10)})
    rates = window.rates("s")
    assert rates.events_per_second == pytest.approx(20.0)
    assert rates.dead_letter_rate == pytest.approx(0.1)
    assert window.rates("unknown").events_per_second == 0.0


def test_rate_window_forgets_old_samples() -> None:
    """Only the last `span` seconds count: an old burst does not inflate today's rate."""
    window = RateWindow(span=10.0)
    window.record(0.0, {"s": (0, 0)})
    window.record(1.0, {"s": (1000, 0)})
    window.record(30.0, {"s": (1000, 0)})
    window.record(35.0, {"s": (1050, 0)})
    assert window.rates("s").events_per_second == pytest.approx(10.0)


def test_rate_window_survives_a_counter_reset() -> None:
    """A counter that went backwards (process restart) is counted from zero, never negative."""
    window = RateWindow(span=10.0)
    window.record(0.0, {"s": (500, 50)})
    window.record(2.0, {"s": (20, 1)})
    rates = window.rates("s")
    assert rates.events_per_second == pytest.approx(10.0)
    assert 0.0 <= rates.dead_letter_rate <= 1.0


def test_rate_window_refuses_time_travel() -> None:
    window = RateWindow()
    window.record(5.0, {})
    with pytest.raises(ValueError):
        window.record(4.0, {})


NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("open_items", "latest", "expected"),
    [
        (1, None, "quarantined"),
        (0, None, "healthy"),
        (
            0,
            {"score": 0.3, "decision": "insufficient_samples", "time": "2026-01-01T00:00:00+00:00"},
            "drifting",
        ),
        (
            0,
            {"score": 0.3, "decision": "registered", "time": "2026-01-01T11:59:00+00:00"},
            "drifting",
        ),
        (
            0,
            {"score": 0.3, "decision": "registered", "time": "2026-01-01T10:00:00+00:00"},
            "healthy",
        ),
        (0, {"score": 0.0, "decision": "none", "time": "2026-01-01T11:59:59+00:00"}, "healthy"),
        (
            0,
            {"score": 0.2, "decision": "quarantined", "time": "2026-01-01T09:00:00+00:00"},
            "healthy",
        ),
    ],
)
def test_subject_status(open_items: int, latest: dict[str, Any] | None, expected: str) -> None:
    """Quarantine wins; unsettled drift, or a version registered from drift in the last two
    minutes, is `drifting`; drift settled long ago is `healthy` again."""
    points = [] if latest is None else [{"score": 0.1, "decision": "registered"}, latest]
    assert subject_status(open_items, points, now=NOW) == expected


@pytest.mark.parametrize(
    ("open_items", "rate", "latest_decision", "expected"),
    [
        (0, 0.05, "insufficient_samples", "degraded"),  # degraded before drifting
        (1, 0.05, None, "quarantined"),  # quarantined before degraded
        (0, 0.05, None, "degraded"),
        (0, 0.01, None, "healthy"),  # the threshold itself is not past it
        (0, 0.0101, None, "degraded"),
        (0, 0.009, "insufficient_samples", "drifting"),
    ],
)
def test_a_dead_letter_share_over_the_threshold_is_degraded(
    open_items: int, rate: float, latest_decision: str | None, expected: str
) -> None:
    """More than 1 % of the window's events dead-lettered: `degraded`, which comes after
    `quarantined` and before `drifting` in precedence."""
    points = []
    if latest_decision is not None:
        points = [{"score": 0.3, "decision": latest_decision, "time": "2026-01-01T11:00:00+00:00"}]
    assert subject_status(open_items, points, now=NOW, dead_letter_rate=rate) == expected
    assert subject_status(0, [], dead_letter_rate=0.3, degraded_share=0.5) == "healthy"


def test_rate_window_gives_every_subject_its_rates() -> None:
    """all_rates covers the subjects of the newest sample, each as rates() computes it."""
    window = RateWindow(span=10.0)
    assert window.all_rates() == {}
    window.record(0.0, {"a": (0, 0), "b": (10, 0)})
    window.record(2.0, {"a": (100, 5), "b": (10, 0)})
    rates = window.all_rates()
    assert set(rates) == {"a", "b"}
    assert rates["a"] == window.rates("a") and rates["a"].dead_letter_rate == pytest.approx(0.05)
    assert rates["b"].events_per_second == 0.0


def test_drift_points_are_sorted_and_read_nested_reports() -> None:
    """History entries are ordered by time and a score inside `report` is found."""
    history = [
        {"time": "2026-01-01T00:00:02+00:00", "report": {"score": 0.5}, "decision": "quarantined"},
        {"time": "2026-01-01T00:00:01+00:00", "score": 0.2, "decision": "registered"},
    ]
    points = drift_points(history)
    assert [p["score"] for p in points] == [0.2, 0.5]
    assert points[1]["decision"] == "quarantined"


def test_as_plain_handles_registry_values() -> None:
    """Dataclasses, enums, datetimes and tuples become JSON-safe values."""
    from dataclasses import dataclass
    from datetime import UTC, datetime
    from enum import Enum

    class Colour(Enum):
        RED = "red"

    @dataclass
    class Item:
        at: datetime
        colour: Colour
        tags: tuple[str, ...]

    plain = as_plain(Item(datetime(2026, 1, 1, tzinfo=UTC), Colour.RED, ("a",)))
    assert plain == {"at": "2026-01-01T00:00:00+00:00", "colour": "red", "tags": ["a"]}
    json.dumps(plain)
