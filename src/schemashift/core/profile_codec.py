"""JSON-safe persistence of node trees (``Profile.to_dict`` / ``Profile.from_dict``).

The encoding is canonical: keys, key sets, tag values and distinct values are sorted, so
two equal profiles (for instance a merge and the profile of the concatenated stream)
encode to equal dictionaries. Performance caches are not persisted.

``repeated`` (the strings of the distinct sketch seen more than once) was added to the
format without a new version number: a node persisted before it has no such key and
decodes with *no* value known to be repeated. That is the conservative reading — the old
profile cannot prove that any value recurred, so the enum rule withholds an enum there
until a value is seen again (merging with a newer profile that saw it makes it repeated)
rather than keeping an enum learnt from values seen once.
"""

from __future__ import annotations

from typing import Any

from schemashift.core.node import ArrayStats, KeysetStat, Node, ObjectStats

_SCALARS = (
    "scalars",
    "nulls",
    "booleans",
    "trues",
    "integers",
    "floats",
    "num_min",
    "num_max",
    "strings",
    "str_min",
    "str_max",
)


def _sort_key(value: Any) -> tuple[bool, Any]:
    return (isinstance(value, str), value)


def node_to_dict(node: Node) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(node, name) for name in _SCALARS}
    data["formats"] = list(node.formats)
    data["distinct"] = None if node.distinct is None else sorted(node.distinct, key=_sort_key)
    data["repeated"] = None if node.repeated is None else sorted(node.repeated)
    data["object"] = None if node.obj is None else _object_to_dict(node.obj)
    data["array"] = None if node.arr is None else _array_to_dict(node.arr)
    return data


def _object_to_dict(stats: ObjectStats) -> dict[str, Any]:
    data: dict[str, Any] = {"count": stats.count}
    if stats.values is not None:
        data["map"] = {"values": node_to_dict(stats.values), "key_mask": stats.key_mask}
        return data
    data["children"] = {k: node_to_dict(stats.children[k]) for k in sorted(stats.children)}
    if stats.keysets is None:
        data["keysets"] = None
    else:
        rows = []
        for key_set in sorted(stats.keysets, key=sorted):
            stat = stats.keysets[key_set]
            tags = {
                tag: {v: counts[v] for v in sorted(counts)}
                for tag, counts in sorted(stat.tags.items())
                if counts and tag not in stats.dead_tags
            }
            rows.append({"keys": sorted(key_set), "count": stat.count, "tags": tags})
        data["keysets"] = rows
        data["dead_tags"] = sorted(stats.dead_tags)
    return data


def _array_to_dict(stats: ArrayStats) -> dict[str, Any]:
    return {
        "count": stats.count,
        "len_min": stats.len_min,
        "len_max": stats.len_max,
        "items": node_to_dict(stats.items),
        "tuple": None
        if stats.positions is None
        else {"length": stats.tuple_len, "positions": [node_to_dict(p) for p in stats.positions]},
    }


def node_from_dict(data: dict[str, Any]) -> Node:
    node = Node()
    for name in _SCALARS:
        setattr(node, name, data[name])
    node.formats = tuple(data["formats"])
    distinct = data["distinct"]
    node.distinct = None if distinct is None else set(distinct)
    # Missing in profiles persisted before it: nothing known to be repeated (see above).
    repeated = data.get("repeated")
    node.repeated = None if distinct is None else set(repeated or ())
    if data["object"] is not None:
        node.obj = _object_from_dict(data["object"])
    if data["array"] is not None:
        node.arr = _array_from_dict(data["array"])
    return node


def _object_from_dict(data: dict[str, Any]) -> ObjectStats:
    stats = ObjectStats()
    stats.count = int(data["count"])
    if "map" in data:
        stats.values = node_from_dict(data["map"]["values"])
        stats.key_mask = int(data["map"]["key_mask"])
        stats.keysets = None
        return stats
    stats.children = {k: node_from_dict(v) for k, v in data["children"].items()}
    rows = data.get("keysets")
    if rows is None:
        stats.keysets = None
        return stats
    keysets: dict[frozenset[str], KeysetStat] = {}
    for row in rows:
        stat = KeysetStat()
        stat.count = int(row["count"])
        stat.tags = {tag: dict(counts) for tag, counts in row["tags"].items()}
        keysets[frozenset(row["keys"])] = stat
    stats.keysets = keysets
    stats.dead_tags = set(data.get("dead_tags", ()))
    return stats


def _array_from_dict(data: dict[str, Any]) -> ArrayStats:
    stats = ArrayStats()
    stats.count = int(data["count"])
    stats.len_min = data["len_min"]
    stats.len_max = data["len_max"]
    stats.items = node_from_dict(data["items"])
    tup = data["tuple"]
    if tup is None:
        stats.positions = None
    else:
        stats.tuple_len = int(tup["length"])
        stats.positions = [node_from_dict(p) for p in tup["positions"]]
    return stats
