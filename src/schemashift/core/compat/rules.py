"""One small rule per reader keyword, dispatched from a table (as jsonschema's _keywords.py).

Each rule gets the checker, the (expanded) writer, the reader node and the event path, and
returns the findings for its keyword: the reasons some writer instance may fail it. A rule
applies only to the instance types it constrains, so ``minLength`` never fires for a writer
that emits no strings. The rules live by instance kind in ``scalars.py``, ``objects.py`` and
``arrays.py``; this module is the table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from schemashift.core.compat.arrays import contains, item_counts, items, unique_items
from schemashift.core.compat.model import Finding
from schemashift.core.compat.objects import (
    dependent_required,
    properties,
    property_counts,
    property_names,
    required,
)
from schemashift.core.compat.scalars import (
    bounds,
    enum_const,
    format_,
    lengths,
    multiple_of,
    pattern,
    types,
)
from schemashift.core.compat.writer import Writer
from schemashift.core.schema import SchemaNode

if TYPE_CHECKING:
    from schemashift.core.compat.engine import Checker

Rule = Callable[["Checker", Writer, SchemaNode, str], list[Finding]]

#: every rule runs on every reader node; each returns [] when its keyword is absent
KEYWORD_RULES: tuple[Rule, ...] = (
    types,  # type
    enum_const,  # enum, const
    bounds,  # minimum, maximum, exclusiveMinimum, exclusiveMaximum
    multiple_of,  # multipleOf
    lengths,  # minLength, maxLength
    pattern,  # pattern
    format_,  # format, contentEncoding, contentMediaType
    required,  # required
    properties,  # properties, patternProperties, additionalProperties
    property_counts,  # minProperties, maxProperties
    property_names,  # propertyNames
    dependent_required,  # dependentRequired (draft-07 dependencies)
    items,  # items, prefixItems (draft-07 array items, additionalItems)
    item_counts,  # minItems, maxItems
    unique_items,  # uniqueItems
    contains,  # contains, minContains, maxContains
)

__all__ = ["KEYWORD_RULES", "Rule"]
