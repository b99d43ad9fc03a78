"""The schema codec and IR: raw JSON Schema in, a ``SchemaDocument`` of frozen nodes out.

``parse_schema`` normalises draft-07/04 forms into the IR and resolves local ``$ref`` only;
``check_schema`` additionally validates against the meta-schema and refuses catastrophic
patterns. Nothing here performs I/O.
"""

from __future__ import annotations

from schemashift.core.schema.check import check_schema, validator_for
from schemashift.core.schema.codec import dialect_of, parse_schema
from schemashift.core.schema.nodes import (
    FALSE,
    JSON_TYPES,
    TRUE,
    BoolSchema,
    Constant,
    Schema,
    SchemaDocument,
    SchemaNode,
)
from schemashift.core.schema.regex import unsafe_reason

__all__ = [
    "FALSE",
    "JSON_TYPES",
    "TRUE",
    "BoolSchema",
    "Constant",
    "Schema",
    "SchemaDocument",
    "SchemaNode",
    "check_schema",
    "dialect_of",
    "parse_schema",
    "unsafe_reason",
    "validator_for",
]
