"""Per-shape routing: plans and compiled walkers for key structures seen before.

Two precompiled paths, chosen by the width of the object (core/ingest.py):

* a :class:`Plan` per (key order, value types): no compilation, scalars appended in one
  C-level pass; cheapest for wide records and for shapes seen only a few times;
* a compiled walker for narrow shapes that recur: once an object shape (one key order at
  one path) has recurred ``COMPILE_AFTER`` times, the profile compiles a small
function for it: it unpacks ``obj.values()`` into locals in one C-level step and, per
position, appends a scalar straight to the child's buffer or hands a container to the
recursive walk, with the type check predicted from the values seen when compiling. A
misprediction only takes the general branch; it is never wrong.

The generated source depends only on the number of keys and the predicted kind of each
position (never on key names or values, which are passed as closure variables), so no
payload text ever reaches ``exec``; compiled factories are cached per kind signature.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import compress
from typing import Any

from schemashift.core.node import Node

Walk = Callable[[dict[str, Any]], None]
Factory = Callable[..., Walk]
Dispatch = Callable[[Node, Any], None]


_LETTERS: dict[type, str] = {
    dict: "d",
    list: "l",
    str: "s",
    int: "i",
    float: "f",
    bool: "b",
    type(None): "z",
}
# letter -> (the type test, the scalar type whose buffer a matching value is appended to)
_SCALARS: dict[str, tuple[str, str]] = {
    "s": ("type({v}) is str", "str"),
    "i": ("type({v}) is int", "int"),
    "f": ("type({v}) is float", "float"),
    "b": ("type({v}) is bool", "bool"),
    "z": ("{v} is None", "type(None)"),
}


def signature(values: Any) -> str:
    """The predicted kind of each position: ``d`` object, ``l`` array, or a scalar letter."""
    return "".join(_LETTERS.get(type(v), "z") for v in values)


def _source(sig: str) -> str:
    n = len(sig)
    lines = ["def factory(nodes, add_object, add_array, add_value):"]
    for i, kind in enumerate(sig):
        lines.append(f"    n{i} = nodes[{i}]")
        if kind in _SCALARS:
            lines.append(f"    a{i} = n{i}.buffer_of({_SCALARS[kind][1]}).append")
    lines.append("    def walk(obj):")
    if n:
        targets = "".join(f"v{i}, " for i in range(n))
        lines.append(f"        {targets}= obj.values()")
    else:
        lines.append("        pass")
    # One line per position keeps compile() cheap for wide records.
    for i, kind in enumerate(sig):
        if kind in _SCALARS:
            test = _SCALARS[kind][0].format(v=f"v{i}")
            lines.append(f"        a{i}(v{i}) if {test} else add_value(n{i}, v{i})")
        else:
            expected, call = ("dict", "add_object") if kind == "d" else ("list", "add_array")
            lines.append(
                f"        {call}(n{i}, v{i}) if type(v{i}) is {expected} else add_value(n{i}, v{i})"
            )
    lines.append("    return walk")
    return "\n".join(lines) + "\n"


class ShapeCompiler:
    """Compiles walkers, caching one factory per kind signature (bounded)."""

    __slots__ = ("_add_array", "_add_object", "_add_value", "_factories", "_limit")

    def __init__(
        self,
        add_object: Dispatch,
        add_array: Dispatch,
        add_value: Dispatch,
        limit: int = 4096,
    ) -> None:
        self._add_object = add_object
        self._add_array = add_array
        self._add_value = add_value
        self._factories: dict[str, Factory] = {}
        self._limit = limit

    def compile(self, children: list[Node], values: Any) -> Walk | None:
        """A walker for objects whose values line up with ``children``; None if over budget."""
        sig = signature(values)
        factory = self._factories.get(sig)
        if factory is None:
            if len(self._factories) >= self._limit:
                return None
            namespace: dict[str, Any] = {}
            # The source is built from kind letters only; no payload text reaches exec.
            exec(compile(_source(sig), f"<shape {sig}>", "exec"), namespace)
            factory = namespace["factory"]
            self._factories[sig] = factory
        return factory(children, self._add_object, self._add_array, self._add_value)


# Different type combinations kept per key order (nullable fields multiply them).
MAX_PLANS = 16

_append = list.append


class Plan:
    """How to route the values of one (key order, value types) combination.

    Used before (or instead of) a compiled walker: making a plan costs no compilation, and
    applying it appends every scalar in one C-level pass —
    ``any(map(list.append, buffers, values))`` — which is the cheapest route for wide
    records. The type tuple the plan is stored under is its guard.
    """

    __slots__ = ("arrays", "buffers", "mask", "objects")

    def __init__(
        self,
        buffers: list[list[Any]],
        mask: tuple[bool, ...] | None,
        objects: tuple[tuple[int, Node], ...],
        arrays: tuple[tuple[int, Node], ...],
    ) -> None:
        self.buffers = buffers
        self.mask = mask  # None when every position is a scalar
        self.objects = objects
        self.arrays = arrays


def make_plan(children: list[Node], types: tuple[type, ...]) -> Plan:
    """The plan for objects whose values have ``types``; TypeError for a non-JSON type.

    Built with comprehensions rather than a loop with per-position branches: on streams of
    small files (first sight dominates) plan making is a visible share of the time.
    """
    if dict not in types and list not in types:  # flat records: no mask, no containers
        return Plan([c.buffer_of(k) for c, k in zip(children, types, strict=True)], None, (), ())
    mask = tuple(kind is not dict and kind is not list for kind in types)
    return Plan(
        [
            c.buffer_of(k)
            for c, k in zip(compress(children, mask), compress(types, mask), strict=True)
        ],
        mask,
        tuple((i, children[i]) for i, kind in enumerate(types) if kind is dict),
        tuple((i, children[i]) for i, kind in enumerate(types) if kind is list),
    )


def route_scalars(plan: Plan, values: tuple[Any, ...]) -> None:
    """Append every scalar of ``values`` to its buffer, in C."""
    if plan.mask is None:
        any(map(_append, plan.buffers, values))
    else:
        any(map(_append, plan.buffers, compress(values, plan.mask)))
