"""What an inferred schema found, in a few lines: maps, enums, formats, tagged unions.

Used by ``schemashift infer --demo`` and the ``make run`` report; reads only the schema, so
it also summarises schemas that came from a registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class SchemaSummary:
    properties: int = 0
    required: int = 0
    maps: list[str] = field(default_factory=list)
    enums: dict[str, list[Any]] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    tagged_unions: dict[str, str] = field(default_factory=dict)
    tuples: list[str] = field(default_factory=list)
    dependent_required: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def summarize(schema: dict[str, Any]) -> SchemaSummary:
    """Collect the notable structures of a schema, keyed by payload path (JSON Pointer)."""
    summary = SchemaSummary(
        properties=len(schema.get("properties", {})), required=len(schema.get("required", []))
    )
    stack: list[tuple[str, Any]] = [("", schema)]
    while stack:
        path, node = stack.pop()
        if not isinstance(node, dict):
            continue
        shown = path or "/"
        if "format" in node:
            summary.formats[shown] = node["format"]
        if "enum" in node:
            summary.enums[shown] = list(node["enum"])
        if isinstance(node.get("additionalProperties"), dict):
            summary.maps.append(shown)
            stack.append((f"{path}/*", node["additionalProperties"]))
        if "oneOf" in node:
            tags = {
                key
                for branch in node["oneOf"]
                for key, sub in branch.get("properties", {}).items()
                if isinstance(sub, dict) and "const" in sub
            }
            summary.tagged_unions[shown] = ", ".join(sorted(tags))
        if "prefixItems" in node:
            summary.tuples.append(shown)
            stack.extend((f"{path}/{i}", s) for i, s in enumerate(node["prefixItems"]))
        if "dependentRequired" in node:
            summary.dependent_required[shown] = node["dependentRequired"]
        for key, sub in node.get("properties", {}).items():
            stack.append((f"{path}/{_escape(key)}", sub))
        if isinstance(node.get("items"), dict):
            stack.append((f"{path}/*", node["items"]))
        for sub in node.get("anyOf", []):
            stack.append((path, sub))
    summary.maps.sort()
    summary.tuples.sort()
    return summary
