"""Per-shape routing: plans and compiled walkers for key structures seen before.

Two precompiled paths, chosen by the width of the object (core/ingest.py):

* a :class:`Plan` per (key order, value types): no compilation; the object's values are
  appended to one flat list of rows, and each scalar buffer takes its column as a strided
  slice at the next flush; cheapest for wide records and for shapes seen only a few times;
* a walker for narrow shapes that recur: once an object shape (one key order at one path)
  has recurred ``COMPILE_AFTER`` times, the profile makes a small function for it: it
  unpacks ``obj.values()`` into locals in one C-level step and, per position, appends a
  scalar straight to the child's buffer or hands a container to the recursive walk, with
  the type check predicted from the values seen when it was made. A misprediction only
  takes the general branch; it is never wrong.

The walker's code depends only on the number of keys: one factory per arity is compiled
at import, and a walker is that factory's closure over the shape's nodes, predicted types
and routes. No payload text ever reaches ``exec``, and no profile ever calls compile().
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import compress
from types import MethodType
from typing import Any

from schemashift.core.node import Node

Walk = Callable[[dict[str, Any]], None]
Factory = Callable[..., Walk]
Dispatch = Callable[[Node, Any], None]


# The widest shape that gets a walker: 24 covers GitHub user objects (19 keys); the
# factories cost O(n²) to build at import (~6 ms for 24), and past this width a plan's
# C-level pass is nearly as fast as a walker.
MAX_WALKER_KEYS = 24


def _source(n: int) -> str:
    """The walker factory for objects of ``n`` keys.

    Position ``i`` holds a predicted type ``t{i}`` and a route ``r{i}(v)``, a bound method:
    the buffer's ``append`` for a scalar, ``add_object`` bound to the node for an object and
    ``add_array`` bound to it for an array (one closure cell and one call per value). A
    value of another type takes ``add_value``.
    """
    lines = ["def factory(nodes, types, routes, add_value):"]
    if n:
        names = "".join(f"{{p}}{i}, " for i in range(n))
        for prefix, source in (("n", "nodes"), ("t", "types"), ("r", "routes")):
            lines.append(f"    {names.format(p=prefix)}= {source}")
    lines.append("    def walk(obj):")
    if n:
        lines.append(f"        {''.join(f'v{i}, ' for i in range(n))}= obj.values()")
    else:
        lines.append("        pass")
    for i in range(n):
        lines.append(f"        r{i}(v{i}) if type(v{i}) is t{i} else add_value(n{i}, v{i})")
    lines.append("    return walk")
    return "\n".join(lines) + "\n"


def _factory(n: int) -> Factory:
    namespace: dict[str, Any] = {}
    # The source depends on the arity alone; no payload text ever reaches exec.
    exec(compile(_source(n), f"<walker {n}>", "exec"), namespace)
    factory: Factory = namespace["factory"]
    return factory


# Compiled once at import, one per arity, and never changed: making a walker at run time
# is a closure call, not a compile() (which, per profile, cost more than it saved).
_FACTORIES: tuple[Factory, ...] = tuple(_factory(n) for n in range(MAX_WALKER_KEYS + 1))


class ShapeCompiler:
    """Makes walkers from the precompiled per-arity factories."""

    __slots__ = ("_add_array", "_add_object", "_add_value")

    def __init__(self, add_object: Dispatch, add_array: Dispatch, add_value: Dispatch) -> None:
        self._add_object = add_object
        self._add_array = add_array
        self._add_value = add_value

    def compile(self, children: list[Node], types: tuple[type, ...]) -> Walk | None:
        """A walker for objects whose values line up with ``children``, predicting that
        they have ``types``; None for a shape wider than the factories."""
        n = len(children)
        if n > MAX_WALKER_KEYS:
            return None
        routes: list[Callable[[Any], None]] = []
        for node, kind in zip(children, types, strict=True):
            if kind is dict:
                routes.append(MethodType(self._add_object, node))
            elif kind is list:
                routes.append(MethodType(self._add_array, node))
            else:
                routes.append(node.buffer_of(kind).append)
        return _FACTORIES[n](children, types, routes, self._add_value)


# Different type combinations kept per key order (nullable fields multiply them).
MAX_PLANS = 16


class Plan:
    """How to route the values of one (key order, value types) combination.

    Used before (or instead of) a compiled walker: making a plan costs no compilation, and
    applying it costs one C-level ``extend`` per object: the object's values join one flat
    list of ``width``-long rows, and :meth:`drain` (run before every flush) hands each
    scalar buffer its column as a strided slice, ``flat[j::width]``, also in C. For a wide
    record that is half the cost of appending every scalar on arrival. The type tuple the
    plan is stored under is its guard, so every column has its buffer's type.

    The rows also hold the object's containers (already walked, never read again): they
    only keep those alive until the next flush, as the buffers do the scalars.
    """

    __slots__ = ("arrays", "buffers", "flat", "objects", "positions", "width")

    def __init__(
        self,
        positions: tuple[int, ...],
        buffers: list[list[Any]],
        width: int,
        objects: tuple[tuple[int, Node], ...],
        arrays: tuple[tuple[int, Node], ...],
    ) -> None:
        # The scalar positions and their buffers, as two flat sequences rather than pairs:
        # on streams of small files plans are made often, and every tuple holding a list
        # is one more object for the garbage collector to traverse.
        self.positions = positions
        self.buffers = buffers
        self.width = width
        self.objects = objects
        self.arrays = arrays
        # The values of the objects routed since the last drain, row after row.
        self.flat: list[Any] = []

    def drain(self) -> None:
        """Move the buffered rows' scalars into their nodes' buffers."""
        flat = self.flat
        if not flat:
            return
        width = self.width
        for position, buffer in zip(self.positions, self.buffers, strict=True):
            buffer += flat[position::width]
        flat.clear()


def make_plan(children: list[Node], types: tuple[type, ...]) -> Plan:
    """The plan for objects whose values have ``types``; TypeError for a non-JSON type."""
    if dict not in types and list not in types:  # flat records: every position a scalar
        return Plan(
            tuple(range(len(types))),
            list(map(Node.buffer_of, children, types)),
            len(types),
            (),
            (),
        )
    mask = [kind is not dict and kind is not list for kind in types]
    return Plan(
        tuple(compress(range(len(types)), mask)),
        list(map(Node.buffer_of, compress(children, mask), compress(types, mask))),
        len(types),
        tuple((i, children[i]) for i, kind in enumerate(types) if kind is dict),
        tuple((i, children[i]) for i, kind in enumerate(types) if kind is list),
    )
