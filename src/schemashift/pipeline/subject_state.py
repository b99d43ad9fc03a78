"""What a worker knows about one subject: its version, its shapes, and the events it holds.

Kept apart from the worker's I/O loop so the rules read in one place:

* a payload whose *shape* is known (the current version took a payload of that shape as it
  was) goes straight through the subject's transformer;
* a payload of a new shape is checked strictly against the version
  (:func:`~schemashift.core.transform.strict_checker`): taken as it is, its shape becomes
  known; otherwise — like a known shape the transformer refuses (a new enum value) — it is
  *pending*: the registry judges it at the end of the batch, in stream order;
* before the subject has a version, events *wait* (observed once) until the registry
  registers the first version — when it has ``min_samples`` events, or when the oldest
  waiting event reaches the hold deadline;
* shapes the registry quarantined or whose drift a person rejected are remembered with
  that verdict until the next version or decision, so they need no registry call;
* versions only move forward: a late read of an older version never replaces a newer one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from schemashift.bus.base import Delivery
from schemashift.core.transform import (
    Transformer,
    TransformOptions,
    compile_transformer,
    strict_checker,
)
from schemashift.pipeline.cloudevents import RawEvent
from schemashift.pipeline.envelope import ConformedTemplate
from schemashift.pipeline.shapes import ShapeGuide, shape_guide

TemplateFactory = Callable[[str, int], ConformedTemplate]


@dataclass(slots=True)
class Held:
    """A raw message waiting for the registry's verdict.

    ``position``: the subject's event count (in this worker) when it arrived; ``held_at``:
    when it was first held and ``touched`` when its ack timer was last reset (monotonic
    seconds); ``replayed``: a re-driven dead letter (counted when it first came).
    """

    delivery: Delivery
    event: RawEvent
    shape: Hashable
    position: int
    held_at: float
    touched: float
    replayed: bool = False


MAX_SHAPES = 4096
STEADY_AFTER = 256  # known-shape events a version conforms before its typed decoder is built


class ShapeMemory:
    """The shapes a worker remembers for one subject, at most ``capacity`` of them.

    Payloads with free-form maps (ids or user keys as object keys) make a new shape almost
    every event, so an unbounded set grows with the stream. Once full, the oldest shape is
    forgotten first; a forgotten shape that comes back is simply checked again, which costs
    one strict check, never an event.
    """

    __slots__ = ("_capacity", "_shapes")

    def __init__(self, capacity: int = MAX_SHAPES) -> None:
        self._capacity = capacity
        self._shapes: dict[Hashable, Any] = {}

    def __contains__(self, shape: object) -> bool:
        return shape in self._shapes

    def __len__(self) -> int:
        return len(self._shapes)

    def __getitem__(self, shape: Hashable) -> Any:
        return self._shapes[shape]

    def get(self, shape: Hashable) -> Any:
        return self._shapes.get(shape)

    def __setitem__(self, shape: Hashable, value: Any) -> None:
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


@dataclass(frozen=True, slots=True)
class Remembered:
    """A verdict remembered for a shape: ``quarantined`` or ``rejected``, and by which."""

    verdict: str
    quarantine_id: int | None
    details: tuple[dict[str, Any], ...] = ()


@dataclass(slots=True)
class SubjectState:
    subject: str
    version: int | None = None
    schema_id: int | None = None
    transformer: Transformer | None = None
    schema: dict[str, Any] | None = None
    strict: Transformer | None = None
    # the transformer without keeping undeclared fields (see closed_transformer)
    closed: Transformer | None = None
    _options: TransformOptions | None = None
    template: ConformedTemplate | None = None
    # where the current version declares maps, so new map keys are not new shapes
    guide: ShapeGuide | None = None
    known: ShapeMemory = field(default_factory=ShapeMemory)
    # shape -> Remembered (a quarantine holds it, or its drift was rejected)
    remembered: ShapeMemory = field(default_factory=ShapeMemory)
    pending: list[Held] = field(default_factory=list)  # to judge at the end of this batch
    waiting: list[Held] = field(default_factory=list)  # judged: waiting for a first version
    seen: int = 0  # events of the subject this worker counted
    uses: int = 0  # known-shape events the current version conformed (see steady())
    reported: int = 0  # ``seen`` at the last observation
    outliers_open: int = 0  # the registry's count after the last observation

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
        (InvalidSchemaError propagates) leaves the previous transformer in place. Known
        shapes stay known: a newer version takes everything the one before took.
        """
        if self.version is not None and version <= self.version:
            return False
        transformer = compile_transformer(
            schema, version=version, subject=self.subject, schema_id=schema_id, options=options
        )
        self.transformer = transformer
        self.schema = schema
        self.strict = None  # compiled only if the schema holds keywords widen cannot judge
        self.closed = None  # compiled only when an event the registry did not take needs it
        self._options = options
        self.guide = shape_guide(schema)
        self.template = templates(self.subject, version)
        self.version = version
        self.schema_id = schema_id
        self.uses = 0
        self.remembered.clear()  # a new version may take what a quarantine held
        return True

    def steady(self) -> bool:
        """Whether the current version has served enough known-shape events to be worth its
        typed decoder (``STEADY_AFTER``); counts this one."""
        self.uses += 1
        return self.uses > STEADY_AFTER

    def accepts_strictly(self, payload: dict[str, Any]) -> bool:
        """Whether the version takes ``payload`` as it is (nothing coerced, filled or
        undeclared): what makes a new shape known without asking the registry.

        Judged by walking the schema with the payload (``core.widen.accepts``), which costs no
        compilation per version; a schema with keywords the walk does not reason
        about is judged by a strict checker compiled once for the version.
        """
        from schemashift.core.transform import Rejected
        from schemashift.core.widen import accepts

        if self.schema is None:
            return False
        if self.strict is None:
            verdict = accepts(self.schema, payload)
            if verdict is not None:
                return verdict
            self.strict = strict_checker(self.schema)
        return not isinstance(self.strict(payload), Rejected)

    def closed_transformer(self) -> Transformer:
        """The version's transformer refusing fields the version does not declare.

        For the events the registry judged without registering a version for them (outliers,
        quarantined, rejected or ignored drift): conforming such an event while keeping a
        field the version does not declare would put out structure no version describes,
        which a later version may declare with another type — and then no longer take the
        event. So they are conformed only as far as the version itself goes.
        """
        if self.closed is None:
            import dataclasses

            from schemashift.core.transform import ExtrasPolicy

            assert self.schema is not None and self.version is not None
            options = self._options or TransformOptions()
            self.closed = compile_transformer(
                self.schema,
                version=self.version,
                subject=self.subject,
                schema_id=self.schema_id,
                options=dataclasses.replace(options, extras=ExtrasPolicy.REJECT),
            )
        return self.closed

    def take_pending(self) -> list[Held]:
        pending, self.pending = self.pending, []
        return pending

    def take_waiting(self) -> list[Held]:
        waiting, self.waiting = self.waiting, []
        return waiting

    def deadline_passed(self, now: float, hold_deadline: float) -> bool:
        return bool(self.waiting) and now - self.waiting[0].held_at >= hold_deadline

    def held(self) -> list[Held]:
        return [*self.waiting, *self.pending]
