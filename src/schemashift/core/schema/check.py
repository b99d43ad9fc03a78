"""``check_schema``: the gate a schema passes before the registry stores it.

Three refusals, each an ``InvalidSchemaError`` with a message that says where and why:
the schema is not valid against its dialect's meta-schema (2020-12 unless ``$schema`` names
2019-09 or draft-07/06/04); it uses a reference that is not local (nothing is ever fetched —
the meta-schemas ship with the ``jsonschema`` package and no retriever is configured); or a
``pattern`` / ``patternProperties`` regular expression can backtrack catastrophically.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import referencing
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator

from schemashift.core.schema.codec import dialect_of, escape, parse_schema
from schemashift.core.schema.nodes import SchemaDocument
from schemashift.core.schema.regex import unsafe_reason
from schemashift.errors import InvalidSchemaError

VALIDATORS: dict[str, type[Validator]] = {
    "2020-12": jsonschema.Draft202012Validator,
    "2019-09": jsonschema.Draft201909Validator,
    "draft-07": jsonschema.Draft7Validator,
    "draft-06": jsonschema.Draft6Validator,
    "draft-04": jsonschema.Draft4Validator,
}


def validator_for(document: SchemaDocument, pointer: str = "") -> Validator:
    """A validator for the subschema at ``pointer`` that can never fetch anything.

    References resolve inside the document only (an empty ``referencing`` registry has no
    retriever); ``format`` is not asserted, as in the 2020-12 default.
    """
    cls = VALIDATORS[document.dialect]
    root = cls(document.raw, registry=referencing.Registry())
    return root if pointer == "" else root.evolve(schema=document.raw_at(pointer))


def check_schema(schema: Any) -> SchemaDocument:
    """Validate ``schema``; return its parsed document or raise ``InvalidSchemaError``."""
    document = parse_schema(schema)  # refuses remote and unresolvable references first
    cls = VALIDATORS[dialect_of(schema)]
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        where = "/" + "/".join(str(p) for p in exc.absolute_path)
        raise InvalidSchemaError(f"not a valid JSON Schema at {where}: {exc.message}") from None
    for where, pattern in _patterns(schema, ""):
        reason = unsafe_reason(pattern)
        if reason is not None:
            raise InvalidSchemaError(f"pattern {pattern!r} at {where} refused: {reason}")
    return document


# keywords whose values are data, not schemas: a "pattern" key inside them is not a regex
_DATA_KEYWORDS = frozenset({"enum", "const", "default", "examples", "required"})


def _patterns(raw: Any, pointer: str) -> Iterator[tuple[str, str]]:
    """Every regular expression of the raw schema, referenced or not (an unused ``$defs``
    entry is still stored, and may be used by the next version)."""
    if isinstance(raw, list):
        for index, item in enumerate(raw):
            yield from _patterns(item, f"{pointer}/{index}")
    if not isinstance(raw, dict):
        return
    for key, value in raw.items():
        where = f"{pointer}/{escape(key)}"
        if key in _DATA_KEYWORDS:
            continue
        if key == "pattern" and isinstance(value, str):
            yield where, value
        elif key == "patternProperties" and isinstance(value, dict):
            for name, sub in value.items():
                yield where, name
                yield from _patterns(sub, f"{where}/{escape(name)}")
        elif key == "properties" and isinstance(value, dict):
            for name, sub in value.items():  # property *names* may be "pattern"
                yield from _patterns(sub, f"{where}/{escape(name)}")
        else:
            yield from _patterns(value, where)
