"""The calling convention of compiled nodes.

A compiled node is ``node(value, ctx) -> conformed value | FAIL``. On failure it appends
pending reasons to ``ctx.reasons``; each parent then adds its own path segment to the
reasons its child left, so paths cost nothing on the success path. A node that succeeds
leaves ``ctx.reasons`` exactly as it found it (union attempts truncate what they added).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from schemashift.core.transform.result import Reason, ReasonCode


class _Fail:
    __slots__ = ()

    def __repr__(self) -> str:
        return "FAIL"


FAIL: Final[Any] = _Fail()


class Pending:
    """A reason under construction: the path is collected leaf first."""

    __slots__ = ("code", "message", "segments")

    def __init__(self, code: ReasonCode, message: str) -> None:
        self.code = code
        self.message = message
        self.segments: list[str] = []

    def finish(self) -> Reason:
        path = "".join("/" + _escape(s) for s in reversed(self.segments))
        return Reason(self.code, path, self.message)


class Ctx:
    """Per-call state: the pending reasons and the mode.

    ``coerce``: lossless coercions may run (off during a union's exact-match pass).
    ``validate``: check only — no coercion, no defaults, nothing dropped; the value must
    already be valid. Used by ``not``, ``if``, ``contains`` and ``oneOf`` exclusivity.
    """

    __slots__ = ("coerce", "reasons", "validate")

    def __init__(self, *, coerce: bool = True, validate: bool = False) -> None:
        self.reasons: list[Pending] = []
        self.coerce = coerce and not validate
        self.validate = validate

    def fail(self, code: ReasonCode, message: str) -> Any:
        self.reasons.append(Pending(code, message))
        return FAIL

    def prefix(self, start: int, segment: str) -> int:
        """Add ``segment`` to the reasons from ``start`` on; return the new mark."""
        reasons = self.reasons
        for pending in reasons[start:]:
            pending.segments.append(segment)
        return len(reasons)

    def finish(self) -> tuple[Reason, ...]:
        return tuple(p.finish() for p in self.reasons)


Node = Callable[[Any, Ctx], Any]


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


_JSON_TYPES: Final[dict[type, str]] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
    dict: "object",
    list: "array",
}


def json_type(value: Any) -> str | None:
    """The JSON type name of a Python value, or ``None`` when it is not JSON."""
    name = _JSON_TYPES.get(type(value))
    if name is not None:
        return name
    # subclasses (an OrderedDict, an IntEnum) behave as their JSON base
    for base, base_name in (
        (bool, "boolean"),
        (int, "integer"),
        (float, "number"),
        (str, "string"),
        (dict, "object"),
        (list, "array"),
    ):
        if isinstance(value, base):
            return base_name
    return None


def is_finite(value: float) -> bool:
    # inf - inf and nan - nan are both nan, which is the only value unequal to itself
    return value - value == 0.0


def copy_json(value: Any, ctx: Ctx) -> Any:
    """A deep copy of a JSON value with every part checked to be JSON (an open schema).

    A validating pass (``ctx.validate``: a ``oneOf`` exclusivity check, ``not``, ``if``)
    keeps nothing it returns, so it neither copies nor walks: whether the value is JSON is
    decided by the conforming pass, which walks it anyway. (Copying here made checking a
    payload against a tagged union cost one deep copy of it per branch.)
    """
    if ctx.validate:
        return value
    kind = _JSON_TYPES.get(type(value)) or json_type(value)
    if kind == "object":
        out: dict[str, Any] = {}
        mark = len(ctx.reasons)
        failed = False
        for key, item in value.items():
            if not isinstance(key, str):
                ctx.fail(ReasonCode.NOT_JSON, f"object key {key!r} is not a string")
                failed = True
                mark = ctx.prefix(mark, str(key))
                continue
            copied = copy_json(item, ctx)
            if copied is FAIL:
                failed = True
                mark = ctx.prefix(mark, key)
            else:
                out[key] = copied
        return FAIL if failed else out
    if kind == "array":
        items: list[Any] = []
        mark = len(ctx.reasons)
        failed = False
        for index, item in enumerate(value):
            copied = copy_json(item, ctx)
            if copied is FAIL:
                failed = True
                mark = ctx.prefix(mark, str(index))
            else:
                items.append(copied)
        return FAIL if failed else items
    if kind is None:
        return ctx.fail(ReasonCode.NOT_JSON, f"{type(value).__name__} is not a JSON value")
    if kind == "number" and not is_finite(value):
        return ctx.fail(ReasonCode.NOT_JSON, f"{value!r} is not a JSON number")
    return value


def json_equal(a: Any, b: Any) -> bool:
    """JSON Schema equality: 1 == 1.0, but true != 1; objects by keys, arrays by order."""
    ta, tb = json_type(a), json_type(b)
    numeric = ("integer", "number")
    if ta in numeric and tb in numeric:
        return bool(a == b)
    if ta != tb:
        return False
    if ta == "object":
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if ta == "array":
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def freeze(value: Any) -> Any:
    """A hashable key such that ``freeze(a) == freeze(b)`` iff ``json_equal(a, b)``."""
    kind = json_type(value)
    if kind == "boolean":
        return ("b", value)
    if kind in ("integer", "number"):
        if kind == "number" and value.is_integer():
            return ("n", int(value))
        return ("n", value)
    if kind == "object":
        return ("o", frozenset((k, freeze(v)) for k, v in value.items()))
    if kind == "array":
        return ("a", tuple(freeze(v) for v in value))
    return (kind, value)
