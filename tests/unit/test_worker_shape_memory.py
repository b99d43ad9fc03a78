"""The worker's per-subject shape memory is bounded: payloads with free-form map keys (a new
shape almost every event) cannot grow it with the stream."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from schemashift.pipeline.shapes import shape_of
from schemashift.pipeline.subject_state import ShapeMemory, SubjectState


def test_oldest_shape_is_forgotten_first() -> None:
    memory = ShapeMemory(capacity=3)
    memory.update(["a", "b", "c"])
    memory.add("a")  # seen again: now the newest
    memory.add("d")
    assert "b" not in memory
    assert all(shape in memory for shape in ("a", "c", "d"))
    assert len(memory) == 3


def test_quarantine_ids_are_kept_with_their_shapes() -> None:
    memory = ShapeMemory(capacity=2)
    memory["x"] = 7
    memory["y"] = None
    assert memory["x"] == 7
    assert memory["y"] is None
    memory.clear()
    assert len(memory) == 0


@given(st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=300), st.integers(1, 20))
def test_never_more_than_capacity_and_the_newest_always_kept(
    keys: list[str], capacity: int
) -> None:
    memory = ShapeMemory(capacity=capacity)
    for key in keys:
        memory.add(key)
        assert len(memory) <= capacity
        assert key in memory


def test_a_map_keyed_stream_keeps_the_subject_state_bounded() -> None:
    """10,000 events whose `properties` map has ever-new keys: 10,000 shapes, bounded memory."""
    state = SubjectState("web/page.clicked")
    for i in range(10_000):
        payload = {"id": i, "properties": {f"k{i}": "v"}}
        state.known.add(shape_of(payload))
        state.remembered[shape_of({"other": i, "m": {f"q{i}": 1}})] = i
    assert len(state.known) <= 4096
    assert len(state.remembered) <= 4096
    assert shape_of({"id": 9_999, "properties": {"k9999": "v"}}) in state.known
