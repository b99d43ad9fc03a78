"""Per-path observed statistics, the read-only view diff and compatibility use.

Paths are JSON Pointers into the payload; ``*`` stands for any array element and any value
of an object the Analyzer treats as a map (so ``/properties/*`` is every value of the
``properties`` map). A key that is literally ``*`` is indistinguishable from the wildcard.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schemashift.core.node import Node, Number
from schemashift.core.node_merge import merge_nodes
from schemashift.core.profile_options import ProfileOptions
from schemashift.core.rules import map_view


@dataclass(frozen=True, slots=True)
class PathStats:
    """What was observed at one path.

    ``count`` is the number of values seen there (for an object key: the parent objects
    that had it); ``types`` counts JSON types (``integer`` and ``number`` separately);
    ``distinct`` is the exact value sample or ``None`` once it overflowed; ``formats`` maps
    each format every string matched to the number of strings.
    """

    count: int
    types: dict[str, int]
    nulls: int
    min: Number | None
    max: Number | None
    str_len: tuple[int, int] | None
    distinct: tuple[str | int | float | bool, ...] | None
    formats: dict[str, int] = field(default_factory=dict)
    array_len: tuple[int, int] | None = None
    parent_count: int | None = None


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _stats_of(node: Node, parent_count: int | None) -> PathStats:
    types = {
        "object": node.obj.count if node.obj is not None else 0,
        "array": node.arr.count if node.arr is not None else 0,
        "string": node.strings,
        "integer": node.integers,
        "number": node.floats,
        "boolean": node.booleans,
        "null": node.nulls,
    }
    distinct: tuple[str | int | float | bool, ...] | None = None
    if node.distinct is not None:
        values: list[str | int | float | bool] = sorted(
            node.distinct, key=lambda v: (isinstance(v, str), v)
        )
        if node.trues:
            values.append(True)
        if node.booleans - node.trues:
            values.append(False)
        distinct = tuple(values)
    arr = node.arr
    return PathStats(
        count=node.count,
        types={k: v for k, v in types.items() if v},
        nulls=node.nulls,
        min=node.num_min,
        max=node.num_max,
        str_len=None
        if node.str_min is None or node.str_max is None
        else (node.str_min, node.str_max),
        distinct=distinct,
        formats={f: node.strings for f in node.formats} if node.strings else {},
        array_len=None
        if arr is None or arr.len_min is None or arr.len_max is None
        else (arr.len_min, arr.len_max),
        parent_count=parent_count,
    )


def collect_path_stats(root: Node, options: ProfileOptions) -> dict[str, PathStats]:
    """Every path of a flushed tree, parents before children, keys in sorted order."""
    out: dict[str, PathStats] = {}
    stack: list[tuple[str, Node, str | None, int | None]] = [("", root, None, None)]
    while stack:
        path, node, name, parent_count = stack.pop()
        out[path] = _stats_of(node, parent_count)
        children: list[tuple[str, Node, str | None, int | None]] = []
        # `*` covers map values and array items alike; a path that holds both gets one
        # `*` entry with their merged statistics.
        stars: list[Node] = []
        if node.obj is not None and node.obj.count:
            as_map = map_view(node.obj, name, options)
            if as_map is not None:
                stars.append(as_map[0])
            else:
                count = node.obj.count
                for key in sorted(node.obj.children):
                    child = node.obj.children[key]
                    children.append((f"{path}/{_escape(key)}", child, key, count))
        if node.arr is not None and node.arr.items.count:
            stars.append(node.arr.items)
        if stars:
            star = stars[0] if len(stars) == 1 else merge_nodes(stars[0], stars[1], options)
            children.insert(0, (f"{path}/*", star, None, None))
        stack.extend(reversed(children))
    return out
