"""The writer side of a subset check: a conjunction of schema nodes, and facts about it.

The checker over-approximates the writer (dropping a writer constraint only admits more
instances, which can only add findings) and under-approximates the reader. That asymmetry is
what makes a "compatible" verdict sound.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from schemashift.core.schema import BoolSchema, Schema, SchemaNode

#: Type categories: JSON types with "number" split into integers and non-integers.
CATEGORIES = frozenset({"null", "boolean", "object", "array", "string", "integer", "fraction"})
NUMERIC = frozenset({"integer", "fraction"})
#: Largest integer range enumerated as a finite set of values.
MAX_ENUMERATED_RANGE = 256


def categories(types: frozenset[str] | None) -> frozenset[str]:
    if types is None:
        return CATEGORIES
    out: set[str] = set()
    for name in types:
        if name == "number":
            out |= NUMERIC
        elif name in CATEGORIES:
            out.add(name)
    return frozenset(out)


def category_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "fraction"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


@dataclass(frozen=True, slots=True)
class Bound:
    value: int | float
    exclusive: bool


@dataclass(frozen=True, slots=True)
class Writer:
    """A conjunction of writer nodes (applicators already expanded) and an optional type
    restriction (used when the checker splits the writer by type)."""

    cores: tuple[SchemaNode, ...]
    only: frozenset[str] | None = None

    def restrict(self, types: frozenset[str]) -> Writer:
        only = types if self.only is None else self.only & types
        return Writer(self.cores, only)

    @property
    def types(self) -> frozenset[str]:
        result = CATEGORIES if self.only is None else self.only
        for core in self.cores:
            result &= categories(core.types)
            if core.multiple_of is not None and float(core.multiple_of).is_integer():
                result -= {"fraction"}  # every multiple of an integer is an integer
        return result

    def first(self, attr: str) -> Iterator[Any]:
        """The values of keyword ``attr`` over the cores that set it."""
        for core in self.cores:
            value = getattr(core, attr)
            if value is not None:
                yield value

    def most(self, attr: str) -> Any:
        values = list(self.first(attr))
        return max(values) if values else None

    def least(self, attr: str) -> Any:
        values = list(self.first(attr))
        return min(values) if values else None

    def lower(self) -> Bound | None:
        bounds = [Bound(v, False) for v in self.first("minimum")]
        bounds += [Bound(v, True) for v in self.first("exclusive_minimum")]
        if not bounds:
            return None
        best = max(bounds, key=lambda b: (b.value, b.exclusive))
        if best.exclusive and self.types & NUMERIC == {"integer"}:
            # an exclusive bound on integers is an inclusive bound on the next integer
            nxt = int(best.value) + 1 if float(best.value).is_integer() else -int(-best.value // 1)
            return Bound(nxt, False)
        return best

    def upper(self) -> Bound | None:
        bounds = [Bound(v, False) for v in self.first("maximum")]
        bounds += [Bound(v, True) for v in self.first("exclusive_maximum")]
        if not bounds:
            return None
        best = min(bounds, key=lambda b: (b.value, not b.exclusive))
        if best.exclusive and self.types & NUMERIC == {"integer"}:
            prev = int(best.value) - 1 if float(best.value).is_integer() else int(best.value // 1)
            return Bound(prev, False)
        return best

    @property
    def required(self) -> frozenset[str]:
        out: set[str] = set()
        for core in self.cores:
            out |= core.required
        return frozenset(out)

    def candidate_values(self) -> list[Any] | None:
        """A finite superset of the writer's values, when one is evident (enum, const, null,
        boolean, a small integer range); ``None`` when the writer is not evidently finite."""
        for core in self.cores:
            if core.const is not None:
                return [core.const.value]
        for core in self.cores:
            if core.enum is not None:
                return list(core.enum)
        types = self.types
        if types <= {"null", "boolean"}:
            return [v for v in (None, False, True) if category_of(v) in types]
        low, high = self.lower(), self.upper()
        if types == {"integer"} and low is not None and high is not None:
            start = int(-(-low.value // 1)) + (1 if low.exclusive and low.value % 1 == 0 else 0)
            stop = int(high.value // 1) - (1 if high.exclusive and high.value % 1 == 0 else 0)
            if stop - start < MAX_ENUMERATED_RANGE:
                return list(range(start, stop + 1))
        return None

    def property_schemas(self, name: str) -> tuple[tuple[Schema, ...], bool]:
        """What the writer says about property ``name``: the schemas its value must satisfy,
        and whether the name is *undeclared* under an implicit open model in every core (so the
        policy decides what such a value may be)."""
        schemas: list[Schema] = []
        implicit = True
        for core in self.cores:
            matched = False
            declared = core.declared(name)
            if declared is not None:
                schemas.append(declared)
                matched = True
            for pattern, schema in core.pattern_properties:
                if re.search(pattern, name):
                    schemas.append(schema)
                    matched = True
            if not matched and core.additional_properties is not None:
                schemas.append(core.additional_properties)
                matched = True
            implicit = implicit and not matched
        return tuple(schemas), implicit  # no cores at all: nothing declared, so implicit


def is_false(schema: Schema) -> bool:
    return isinstance(schema, BoolSchema) and not schema.value
