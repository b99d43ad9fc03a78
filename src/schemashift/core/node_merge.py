"""Exact merging of node trees, flushing, and the bounded-statistics housekeeping.

``merge_nodes(a, b)`` builds a new tree and leaves both inputs' statistics untouched (it
only flushes their buffers, which changes no observable value). Merging is associative and
commutative because every statistic is a sum, an extreme, an intersection, a union or an
AND (the repeated strings: a union, plus what two parts' sketches share), and every cap
(distinct values, keys, key sets, tag values) is decided on the union.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from schemashift.core.formats import FORMATS
from schemashift.core.keypatterns import ALL_CLASSES, keys_mask
from schemashift.core.node import (
    ArrayStats,
    Distinct,
    KeysetStat,
    Node,
    ObjectStats,
    add_values,
    max_number,
    min_number,
    walk_nodes,
)
from schemashift.core.profile_options import ProfileOptions


def flush_tree(root: Node, options: ProfileOptions) -> None:
    """Fold every buffered scalar into its counters and enforce the tag caps."""
    limit, max_length = options.distinct_limit, options.distinct_max_length
    for node in walk_nodes(root):
        node.flush(limit, max_length)
        if node.obj is not None and node.obj.keysets is not None:
            normalize_tags(node.obj, options)


def normalize_tags(stats: ObjectStats, options: ProfileOptions) -> None:
    """Kill discriminator candidates with a non-string value or too many distinct values."""
    keysets = stats.keysets
    if keysets is None:
        return
    seen: dict[str, set[str]] = {}
    for stat in keysets.values():
        for tag, counts in stat.tags.items():
            seen.setdefault(tag, set()).update(counts)
    dead = set(stats.dead_tags)
    dead.update(tag for tag, values in seen.items() if len(values) > options.tag_max_branches)
    if not dead & set(seen):
        stats.dead_tags = dead
        return
    for stat in keysets.values():
        for tag in dead:
            stat.tags.pop(tag, None)
    stats.dead_tags = dead
    stats.forget_shapes()  # cached entries point at the dropped tag counters


def merge_nodes(a: Node | None, b: Node | None, options: ProfileOptions) -> Node:
    """A new node holding the statistics of ``a`` and ``b`` together."""
    return merge_node_list([n for n in (a, b) if n is not None], options)


def merge_node_list(parts: Sequence[Node], options: ProfileOptions) -> Node:
    """A new node holding the statistics of every node of ``parts`` together.

    One pass over all parts, so folding a path's 256 children into a map builds one node
    (and one merged subtree per child path) rather than 256 intermediate ones.
    """
    out = Node()
    limit = options.distinct_limit
    for n in parts:
        n.flush(limit, options.distinct_max_length)
    distinct: Distinct | None = set()
    repeated: set[str] | None = set()
    formats = FORMATS
    for n in parts:
        out.scalars += n.scalars
        out.nulls += n.nulls
        out.booleans += n.booleans
        out.trues += n.trues
        out.integers += n.integers
        out.floats += n.floats
        out.strings += n.strings
        if n.num_min is not None:
            out.num_min = n.num_min if out.num_min is None else min_number(out.num_min, n.num_min)
        if n.num_max is not None:
            out.num_max = n.num_max if out.num_max is None else max_number(out.num_max, n.num_max)
        if n.str_min is not None:
            out.str_min = n.str_min if out.str_min is None else min(out.str_min, n.str_min)
        if n.str_max is not None:
            out.str_max = n.str_max if out.str_max is None else max(out.str_max, n.str_max)
        formats = tuple(f for f in formats if f in n.formats)
        if distinct is not None and repeated is not None:
            # over the cap stays over it (None): the next parts are not collected
            if n.distinct is None or n.repeated is None:
                distinct = repeated = None
            else:
                # A string is seen more than once in the whole stream when some part saw it
                # twice, or when two parts saw it (then it is in an earlier part's sketch).
                # Maps fold hundreds of parts: the common empty cases cost no Python loop.
                if n.repeated:
                    repeated.update(n.repeated)
                both = distinct.intersection(n.distinct) if distinct else None
                if both:
                    repeated.update(v for v in both if type(v) is str)
                distinct = add_values(distinct, n.distinct, limit)
                if distinct is None:
                    repeated = None
    out.formats = formats
    out.distinct = distinct
    out.repeated = repeated
    objects = [n.obj for n in parts if n.obj is not None]
    if objects:
        out.obj = merge_objects(objects, options)
    arrays = [n.arr for n in parts if n.arr is not None]
    if arrays:
        out.arr = merge_arrays(arrays, options)
    return out


def fold_children(children: Iterable[Node], options: ProfileOptions) -> Node:
    """One node with the statistics of every child: the value node of a map."""
    return merge_node_list(list(children), options)


def _map_parts(stats: ObjectStats, options: ProfileOptions) -> tuple[Node, int]:
    if stats.values is not None:
        return stats.values, stats.key_mask
    return fold_children(stats.children.values(), options), keys_mask(stats.children, ALL_CLASSES)


def merge_objects(parts: list[ObjectStats], options: ProfileOptions) -> ObjectStats:
    out = ObjectStats()
    out.count = sum(p.count for p in parts)
    keys: set[str] = set()
    for p in parts:
        keys.update(p.children)
    if any(p.values is not None for p in parts) or len(keys) > options.max_object_keys:
        value_nodes: list[Node] = []
        mask = ALL_CLASSES
        for p in parts:
            node, part_mask = _map_parts(p, options)
            value_nodes.append(node)
            mask &= part_mask
        values = merge_node_list(value_nodes, options)
        out.values, out.key_mask, out.keysets = values, mask, None
        return out
    for key in sorted(keys):
        nodes = [p.children[key] for p in parts if key in p.children]
        out.children[key] = merge_node_list(nodes, options)
    out.keysets = _merge_keysets(parts, options)
    out.dead_tags = set().union(*(p.dead_tags for p in parts))
    if out.keysets is None:
        out.dead_tags = set()
    normalize_tags(out, options)
    return out


def _merge_keysets(
    parts: list[ObjectStats], options: ProfileOptions
) -> dict[frozenset[str], KeysetStat] | None:
    out: dict[frozenset[str], KeysetStat] = {}
    for p in parts:
        if p.keysets is None:
            return None
        for key_set, stat in p.keysets.items():
            target = out.get(key_set)
            if target is None:
                target = out[key_set] = KeysetStat()
            target.count += stat.count
            for tag, counts in stat.tags.items():
                into = target.tags.setdefault(tag, {})
                for value, n in counts.items():
                    into[value] = into.get(value, 0) + n
    if len(out) > options.keyset_limit:
        return None
    for stat in out.values():  # a key set whose tag counter never filled carries no tag
        stat.tags = {tag: counts for tag, counts in stat.tags.items() if counts}
    return out


def merge_arrays(parts: list[ArrayStats], options: ProfileOptions) -> ArrayStats:
    out = ArrayStats()
    out.count = sum(p.count for p in parts)
    lows = [p.len_min for p in parts if p.len_min is not None]
    highs = [p.len_max for p in parts if p.len_max is not None]
    out.len_min = min(lows) if lows else None
    out.len_max = max(highs) if highs else None
    out.items = merge_node_list([p.items for p in parts], options)
    lengths = {p.tuple_len for p in parts if p.tuple_len != -1}
    if any(p.positions is None for p in parts) or len(lengths) > 1:
        out.positions = None
        out.tuple_len = lengths.pop() if len(lengths) == 1 else max(lengths, default=-1)
        return out
    out.tuple_len = lengths.pop() if lengths else -1
    tracked = [p.positions for p in parts if p.positions]
    out.positions = [
        merge_node_list([positions[i] for positions in tracked], options)
        for i in range(max(out.tuple_len, 0))
    ]
    return out
