"""Local ``$ref`` resolution. Remote references are refused: the registry never fetches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from schemashift.core.transform.context import Ctx, Node
from schemashift.errors import InvalidSchemaError


class RefResolver:
    """Compiles each referenced subschema once; a cell breaks the cycle of recursive ones."""

    def __init__(self, root: Any, compile_schema: Callable[[Any, str], Node]) -> None:
        self.root = root
        self._compile = compile_schema
        self._nodes: dict[str, Node] = {}
        self._anchors = _anchors(root)
        root_id = root.get("$id") if isinstance(root, dict) else None
        self._root_id = root_id.split("#", 1)[0] if isinstance(root_id, str) else None

    def node(self, ref: Any, where: str) -> Node:
        if not isinstance(ref, str):
            raise InvalidSchemaError(f"{where}: $ref must be a string")
        local = self._local(ref, where)
        existing = self._nodes.get(local)
        if existing is not None:
            return existing
        cell: list[Node] = []

        def ref_node(value: Any, ctx: Ctx) -> Any:
            return cell[0](value, ctx)

        self._nodes[local] = ref_node
        cell.append(self._compile(self._target(local, where), local))
        return ref_node

    def _local(self, ref: str, where: str) -> str:
        if ref.startswith("#"):
            return ref
        if self._root_id is not None and ref.startswith(self._root_id + "#"):
            return ref[len(self._root_id) :]
        if self._root_id is not None and ref == self._root_id:
            return "#"
        raise InvalidSchemaError(f"{where}: remote $ref {ref!r} is refused (only local references)")

    def _target(self, local: str, where: str) -> Any:
        fragment = unquote(local[1:])
        if fragment and not fragment.startswith("/"):
            if fragment not in self._anchors:
                raise InvalidSchemaError(f"{where}: $ref to unknown anchor {local!r}")
            return self._anchors[fragment]
        target = self.root
        for raw in fragment.split("/")[1:]:
            segment = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and segment in target:
                target = target[segment]
            elif isinstance(target, list) and segment.isdigit() and int(segment) < len(target):
                target = target[int(segment)]
            else:
                raise InvalidSchemaError(f"{where}: $ref {local!r} points at nothing")
        return target


def _anchors(root: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            anchor = node.get("$anchor")
            if isinstance(anchor, str):
                found.setdefault(anchor, node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found
