"""Disjointness proofs, used by ``oneOf`` (a branch must be the only match) and ``not``.

``disjoint(ch, writer, other)`` is True only when no writer value can be valid under
``other``: different types, finite values all rejected, conflicting ``const``/``enum``,
non-overlapping numeric ranges or string lengths, or a required property whose values cannot
meet (the tag of a tagged union). Anything else is "unknown", reported as False.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemashift.core.compat.writer import Writer, categories, category_of
from schemashift.core.schema import BoolSchema, Schema, SchemaNode

if TYPE_CHECKING:
    from schemashift.core.compat.engine import Checker


def disjoint(ch: Checker, writer: Writer, other: Schema) -> bool:
    """Proven: no value of ``writer`` is valid under ``other`` (False means unknown)."""
    if not writer.types:
        return True
    if isinstance(other, BoolSchema):
        return not other.value
    values = ch.writer_values(writer)
    if values is not None:
        return not any(ch.valid(ch.reader_doc, other.pointer, v) for v in values)
    if other.ref is not None and disjoint(ch, writer, ch.reader_doc.resolve(other.ref)):
        return True
    if any(disjoint(ch, writer, member) for member in other.all_of or ()):
        return True
    for group in (other.any_of, other.one_of):
        if group is not None and all(disjoint(ch, writer, b) for b in group):
            return True
    if other.not_ is not None and not ch.against(writer, other.not_, ""):
        return True
    if other.const is not None or other.enum is not None:
        options = [other.const.value] if other.const is not None else list(other.enum or ())
        if not any(_writer_may_be(ch, writer, v) for v in options):
            return True
    overlap = writer.types & categories(other.types)
    return all(_disjoint_on(ch, writer, other, category) for category in overlap)


def _writer_may_be(ch: Checker, writer: Writer, value: Any) -> bool:
    return category_of(value) in writer.types and all(
        ch.valid(ch.writer_doc, core.pointer, value) for core in writer.cores
    )


def _disjoint_on(ch: Checker, writer: Writer, other: SchemaNode, category: str) -> bool:
    if category == "object":
        for name, schema in other.properties:
            if name in writer.required:
                mine, _implicit = writer.property_schemas(name)
                if mine and disjoint(ch, ch.expand_writer(mine), schema):
                    return True
        return any(not ch.can_have(writer, name) for name in other.required)
    if category in ("integer", "fraction"):
        low, high = writer.lower(), writer.upper()
        other_writer = Writer((other,))
        o_low, o_high = other_writer.lower(), other_writer.upper()
        return _before(high, o_low) or _before(o_high, low)
    if category == "string":
        w_max, o_min = writer.least("max_length"), other.min_length
        o_max, w_min = other.max_length, writer.most("min_length")
        return (w_max is not None and o_min is not None and w_max < o_min) or (
            o_max is not None and w_min is not None and o_max < w_min
        )
    return False


def _before(high: Any, low: Any) -> bool:
    """Whether an upper bound lies strictly below a lower bound (ranges cannot meet)."""
    if high is None or low is None:
        return False
    if high.value != low.value:
        return bool(high.value < low.value)
    return bool(high.exclusive or low.exclusive)
