"""JSON Schema (as inferred here) → an Avro schema that ``fastavro.parse_schema`` accepts.

Mapping, in the order Avro forces decisions:

* records (``properties``) → ``record``; an optional field → ``["null", T]`` with
  ``"default": null``; names Avro cannot spell are rewritten to ``[A-Za-z_][A-Za-z0-9_]*``
  and the original kept in the field's ``"json_name"`` attribute;
* maps (``additionalProperties`` schema, no properties) → ``map`` of the value type;
* arrays → ``array``; ``prefixItems`` → an array of the union of the position types;
* ``string`` → ``string`` (``format: uuid`` adds ``logicalType: uuid``); ``integer`` → ``long``
  (integers beyond 64 bits do not fit Avro); ``number`` → ``double``; ``boolean``; ``null``;
* an ``enum`` of valid Avro names → ``enum``, otherwise ``string``;
* unions (``type`` lists, ``anyOf``) → flattened Avro unions with at most one branch per
  unnamed kind (a second array or map branch is merged away, as Avro requires);
* a tagged union (``oneOf`` over a discriminator) → the flat record: Avro has no
  per-branch ``required``;
* a schema that says nothing (``{}``) or an object without properties → a union of the
  JSON scalar types, or a map of them — Avro has no "any".

Record names are unique within the output (``Parent_field``, then a numeric suffix).
"""

from __future__ import annotations

import re
from typing import Any

from schemashift.core.jsonparse import json_type_name
from schemashift.errors import InvalidSchemaError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ANY_SCALAR: list[Any] = ["null", "boolean", "long", "double", "string"]
_PRIMITIVE = {
    "string": "string",
    "integer": "long",
    "number": "double",
    "boolean": "boolean",
    "null": "null",
}

AvroType = Any


def avro_name(text: str) -> str:
    """``text`` rewritten to a valid Avro name (letters, digits, underscores)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", text) or "_"
    return name if not name[0].isdigit() else f"_{name}"


def to_avro(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """The Avro record schema for an inferred JSON Schema whose root is an object."""
    converter = _Converter()
    result = converter.convert(schema, avro_name(name))
    if not isinstance(result, dict) or result.get("type") != "record":
        # Avro's top level must be named: wrap whatever the root is in a one-field record.
        result = {
            "type": "record",
            "name": converter.unique(avro_name(name)),
            "fields": [{"name": "value", "type": result}],
        }
    return result


class _Converter:
    def __init__(self) -> None:
        self._names: set[str] = set()

    def unique(self, base: str) -> str:
        name, n = base, 1
        while name in self._names:
            n += 1
            name = f"{base}_{n}"
        self._names.add(name)
        return name

    def convert(self, schema: Any, name: str) -> AvroType:
        if schema is True or schema == {}:
            return list(_ANY_SCALAR)
        if schema is False or not isinstance(schema, dict):
            raise InvalidSchemaError(f"cannot convert {schema!r} at {name} to Avro")
        if "anyOf" in schema:
            return self._union([self.convert(s, name) for s in schema["anyOf"]])
        types = schema.get("type")
        if isinstance(types, list):
            branches = [self.convert({**schema, "type": t}, name) for t in types]
            return self._union(branches)
        if types == "object" or "properties" in schema:
            return self._object(schema, name)
        if types == "array":
            return self._array(schema, name)
        if types == "string":
            return self._string(schema, name)
        if types in _PRIMITIVE:
            return _PRIMITIVE[types]
        if "const" in schema:
            return self.convert({"type": json_type_name(schema["const"])}, name)
        return list(_ANY_SCALAR)

    def _object(self, schema: dict[str, Any], name: str) -> AvroType:
        properties: dict[str, Any] = schema.get("properties") or {}
        if not properties:
            values = schema.get("additionalProperties")
            value_type = self.convert(values, name) if isinstance(values, dict) else _ANY_SCALAR
            return {"type": "map", "values": value_type}
        required = set(schema.get("required", ()))
        record_name = self.unique(name)
        fields: list[dict[str, Any]] = []
        used: set[str] = set()
        for key, sub in properties.items():
            field_name = avro_name(key)
            while field_name in used:
                field_name += "_"
            used.add(field_name)
            field_type = self.convert(sub, f"{record_name}_{field_name}")
            field: dict[str, Any] = {"name": field_name}
            if key not in required:
                field_type = self._union(["null", field_type])
                field["default"] = None
            field["type"] = field_type
            if field_name != key:
                field["json_name"] = key
            fields.append(field)
        return {"type": "record", "name": record_name, "fields": fields}

    def _array(self, schema: dict[str, Any], name: str) -> AvroType:
        if "prefixItems" in schema:
            items = self._union([self.convert(s, f"{name}_item") for s in schema["prefixItems"]])
        elif isinstance(schema.get("items"), dict):
            items = self.convert(schema["items"], f"{name}_item")
        else:
            items = list(_ANY_SCALAR)
        return {"type": "array", "items": items}

    def _string(self, schema: dict[str, Any], name: str) -> AvroType:
        symbols = [s for s in schema.get("enum", ()) if s is not None]
        if symbols and all(isinstance(s, str) and _NAME.fullmatch(s) for s in symbols):
            return {"type": "enum", "name": self.unique(f"{name}_enum"), "symbols": symbols}
        if schema.get("format") == "uuid":
            return {"type": "string", "logicalType": "uuid"}
        return "string"

    def _union(self, branches: list[AvroType]) -> AvroType:
        flat: list[AvroType] = []
        for branch in branches:
            flat.extend(branch if isinstance(branch, list) else [branch])
        out: list[AvroType] = []
        kinds: set[str] = set()
        for branch in flat:
            kind = _kind(branch)
            if kind is None:  # named types (records, enums) may repeat under distinct names
                out.append(branch)
            elif kind not in kinds:
                kinds.add(kind)
                out.append(branch)
        if "null" in kinds:  # null first, so that an optional field can default to null
            out.sort(key=lambda b: b != "null")
        return out[0] if len(out) == 1 else out


def _kind(branch: AvroType) -> str | None:
    if isinstance(branch, str):
        return branch
    kind = str(branch.get("type"))
    return None if kind in ("record", "enum", "fixed") else kind
