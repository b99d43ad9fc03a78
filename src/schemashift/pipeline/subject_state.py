"""What a worker knows about one subject: its version, transformer, shapes and held events.

Kept apart from the worker's I/O loop so the rules read in one place:

* a payload whose shape is *known* goes straight through the subject's transformer; if the
  transformer refuses it (a new enum value, a longer string: drift in the values, not the
  shape) it is held like a new shape, so the registry sees it before it is dead-lettered;
* a payload with a *new* shape (or any payload before the first version) is *held* in the
  subject's analysis window until the window is full or ``hold_timeout`` has passed; then the
  whole window is observed by the registry in one call and every held event is settled with
  the version that decision leaves in place;
* a shape the registry quarantined goes to the dead-letter stream (``quarantined``) until a
  new version arrives;
* versions only move forward: a late read of an older version never replaces a newer one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from schemashift.bus.base import Delivery
from schemashift.core.transform import Transformer, TransformOptions, compile_transformer
from schemashift.pipeline.cloudevents import RawEvent
from schemashift.pipeline.envelope import ConformedTemplate
from schemashift.pipeline.shapes import ShapeGuide, shape_guide

TemplateFactory = Callable[[str, int], ConformedTemplate]


@dataclass(slots=True)
class Held:
    """A raw message waiting for its subject's analysis window to be decided.

    ``held_at``: when it was first held; ``touched``: when its ack timer was last reset
    (monotonic seconds); ``rejected``: its shape is known but the current version refused it
    (drift in the values); ``observed``: the registry has seen its payload already.
    """

    delivery: Delivery
    event: RawEvent
    shape: Hashable
    held_at: float
    touched: float
    rejected: bool = False
    observed: bool = False


MAX_SHAPES = 4096


class ShapeMemory:
    """The shapes a worker remembers for one subject, at most ``capacity`` of them.

    Payloads with free-form maps (ids or user keys as object keys) make a new shape almost
    every event, so an unbounded set grows with the stream. Once full, the oldest shape is
    forgotten first; a forgotten shape that comes back is simply analysed again, which costs
    one analysis window, never an event.
    """

    __slots__ = ("_capacity", "_shapes")

    def __init__(self, capacity: int = MAX_SHAPES) -> None:
        self._capacity = capacity
        self._shapes: dict[Hashable, int | None] = {}

    def __contains__(self, shape: object) -> bool:
        return shape in self._shapes

    def __len__(self) -> int:
        return len(self._shapes)

    def __getitem__(self, shape: Hashable) -> int | None:
        return self._shapes[shape]

    def __setitem__(self, shape: Hashable, value: int | None) -> None:
        shapes = self._shapes
        shapes.pop(shape, None)
        shapes[shape] = value
        while len(shapes) > self._capacity:
            del shapes[next(iter(shapes))]  # dicts keep insertion order: the oldest first

    def add(self, shape: Hashable) -> None:
        self[shape] = None

    def update(self, shapes: Iterable[Hashable]) -> None:
        for shape in shapes:
            self[shape] = None

    def clear(self) -> None:
        self._shapes.clear()


@dataclass(slots=True)
class SubjectState:
    subject: str
    version: int | None = None
    schema_id: int | None = None
    transformer: Transformer | None = None
    template: ConformedTemplate | None = None
    # where the current version declares maps, so new map keys are not new shapes
    guide: ShapeGuide | None = None
    known: ShapeMemory = field(default_factory=ShapeMemory)
    # shape -> the quarantine that holds it (None when the registry named none)
    quarantined: ShapeMemory = field(default_factory=ShapeMemory)
    held: list[Held] = field(default_factory=list)
    held_since: float | None = None
    samples: list[dict[str, Any]] = field(default_factory=list)
    seen: int = 0

    def apply_version(
        self,
        version: int,
        schema: dict[str, Any],
        schema_id: int | None,
        *,
        options: TransformOptions | None,
        templates: TemplateFactory,
    ) -> bool:
        """Switch to ``version`` if it is newer; False (and no change) otherwise.

        Compiling happens before anything is swapped, so a schema that fails to compile
        (InvalidSchemaError propagates) leaves the previous transformer in place.
        """
        if self.version is not None and version <= self.version:
            return False
        transformer = compile_transformer(
            schema, version=version, subject=self.subject, schema_id=schema_id, options=options
        )
        self.transformer = transformer
        self.guide = shape_guide(schema)
        self.template = templates(self.subject, version)
        self.version = version
        self.schema_id = schema_id
        self.quarantined.clear()  # a new version may accept what the old one quarantined
        return True

    def hold(self, item: Held, now: float) -> None:
        if self.held_since is None:
            self.held_since = now
        self.held.append(item)

    def take_held(self) -> list[Held]:
        held, self.held, self.held_since = self.held, [], None
        return held

    def put_back(self, held: list[Held], since: float) -> None:
        """Return undecided events (not enough samples yet) ahead of newer held events."""
        self.held = held + self.held
        self.held_since = since

    def is_due(self, now: float, window: int, hold_timeout: float) -> bool:
        if len(self.held) >= window or len(self.samples) >= window:
            return True
        return self.held_since is not None and now - self.held_since >= hold_timeout
