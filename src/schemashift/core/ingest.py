"""The hot path: walking one decoded payload into a tree of :class:`Node` statistics.

Steady state is a payload whose objects have key orders seen before. For those, one tuple
of the keys finds a :class:`ShapeEntry` whose ``children`` list is aligned with
``obj.values()`` (the previous object's entry is tried first, by comparing key tuples), so
there is no per-key dictionary lookup: a plan for the tuple of value types keeps the values
as one row that the flush transposes into the scalar buffers, and narrow shapes that keep
recurring get a walker (core/shape.py). Arrays and map values of scalars are routed to
their buffers with plain code for a handful of values and in C beyond that. New key orders
take the slow path once, which may create children, count a new key set, or fold an object
with too many keys into a map.

Small collections decide much of the cost: ``map()``, ``any()`` and ``set(map(...))`` take
~150 ns to set up, more than a plain loop spends on two to five values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from schemashift.core.keypatterns import ALL_CLASSES, keys_mask
from schemashift.core.node import (
    SCALAR_TYPES,
    ArrayStats,
    KeysetStat,
    Node,
    ObjectStats,
    ShapeEntry,
)
from schemashift.core.node_merge import fold_children
from schemashift.core.profile_options import ProfileOptions
from schemashift.core.shape import (
    MAX_PLANS,
    Plan,
    ShapeCompiler,
    make_plan,
)

# Key orders cached per object path; more only costs the slow path, not correctness.
SHAPE_CACHE_SIZE = 64
# Narrow shapes (at most MAX_WALKER_KEYS keys) get a walker on their COMPILE_AFTER-th
# occurrence. Walkers come from factories compiled once at import (core/shape.py), so making
# one costs a closure, and a few sightings are enough to tell a recurring shape; for wide
# records a plan's row is as fast as a walker.
COMPILE_AFTER = 4

AddObject = Callable[[Node, dict[str, Any]], None]

_append = list.append


_SHORT_ARRAY = 4
# Type combinations of short arrays routed per array path; more take the loop.
MAX_ARRAY_ROUTES = 16


class Adder(NamedTuple):
    """The walk of one profile: ``add(root, payload)``, and ``drain()``, which must run
    before the tree's buffers are read (it moves rows held by plans into them)."""

    add: AddObject
    drain: Callable[[], None]


def make_adder(options: ProfileOptions) -> Adder:
    """Compile the walk for one set of options."""
    max_keys = options.max_object_keys
    # Plans holding rows not yet moved into their buffers.
    pending: list[Plan] = []

    def drain() -> None:
        for plan in pending:
            plan.drain()
        pending.clear()

    keyset_limit = options.keyset_limit
    tag_names = frozenset(options.tag_names)
    tuple_max = options.tuple_max_length

    def add_object(node: Node, obj: dict[str, Any]) -> None:
        stats = node.obj
        if stats is None:
            stats = node.obj = ObjectStats()
        stats.count += 1
        if stats.values is not None:
            add_to_map(stats, obj)
            return
        keys = tuple(obj)
        if keys == stats.last_keys:
            entry = stats.last_entry
            assert entry is not None
        else:
            entry = stats.shapes.get(keys)
            if entry is None:
                entry = new_shape(stats, keys)
                if entry is None:  # folded into a map just now
                    add_to_map(stats, obj)
                    return
                if keys not in stats.shapes:
                    # A key order past the cache (a map's, before it is folded): it will not
                    # be looked up again, so a plan would be made for nothing.
                    entry.stat.count += 1
                    walk_generic(entry.children, tuple(obj.values()))
                    if entry.tag_slots:
                        count_tags(stats, entry, obj)
                    return
            stats.last_keys = keys
            stats.last_entry = entry
        entry.stat.count += 1
        walk = entry.walk
        if walk is not None:
            walk(obj)
        else:
            values = tuple(obj.values())
            types = tuple(map(type, values))
            plan = entry.plans.get(types)
            if plan is None and len(entry.plans) < MAX_PLANS:
                plan = entry.plans[types] = make_plan(entry.children, types)
            if plan is None:
                walk_generic(entry.children, values)
            else:
                # The scalars wait as one row until the next flush (Plan.drain).
                if plan.buffers:
                    flat = plan.flat
                    if not flat:
                        pending.append(plan)
                    flat.extend(values)
                for index, child in plan.objects:
                    add_object(child, values[index])
                for index, child in plan.arrays:
                    add_array(child, values[index])
            entry.hits += 1
            if entry.hits == COMPILE_AFTER:  # None for a shape wider than the walkers
                entry.walk = compiler.compile(entry.children, types)
        if entry.tag_slots:
            count_tags(stats, entry, obj)

    def count_tags(stats: ObjectStats, entry: ShapeEntry, obj: dict[str, Any]) -> None:
        for tag, counts in entry.tag_slots:
            value = obj[tag]
            if type(value) is str:
                counts[value] = counts.get(value, 0) + 1
            else:
                stats.dead_tags.add(tag)

    def walk_generic(children: list[Node], values: tuple[Any, ...]) -> None:
        for child, value in zip(children, values, strict=True):
            add_value(child, value)

    def add_to_map(stats: ObjectStats, obj: dict[str, Any]) -> None:
        values = stats.values
        assert values is not None
        if stats.key_mask:
            stats.key_mask = keys_mask(obj, stats.key_mask)
        if not obj:
            return
        # Most maps hold scalars of one type (metadata, labels): extend from the view. The
        # type test is a plain loop: maps are small, and set(map(type, ...)) costs more to
        # set up than a loop over a handful of values.
        view = obj.values()
        rest = iter(view)
        kind = type(next(rest))
        for value in rest:
            if type(value) is not kind:
                add_many(values, list(view))
                return
        if kind in SCALAR_TYPES:
            values.buffer_of(kind).extend(view)
        else:
            add_many(values, list(view))

    def add_value(node: Node, value: Any) -> None:
        kind = type(value)
        if kind is dict:
            add_object(node, value)
        elif kind is list:
            add_array(node, value)
        else:
            node.buffer_of(kind).append(value)

    def add_many(node: Node, values: list[Any]) -> None:
        """Several values at one node: scalars routed to their buffers in C."""
        if not values:
            return
        if type(values[0]) is dict:  # arrays of records: no type set, each record is checked
            add_records(node, values)
            return
        kinds = set(map(type, values))
        if kinds <= SCALAR_TYPES:
            if len(kinds) == 1:
                node.buffer_of(kinds.pop()).extend(values)
            else:
                routes = {kind: node.buffer_of(kind) for kind in kinds}
                any(map(_append, map(routes.__getitem__, map(type, values)), values))
        else:
            for value in values:
                add_value(node, value)

    def add_records(items: Node, records: list[Any]) -> None:
        """Arrays of records (and whatever else they hold): a record of a compiled shape
        without tags is walked inline."""
        objects = items.obj
        for value in records:
            if objects is not None and objects.values is None and type(value) is dict:
                keys = tuple(value)
                if keys == objects.last_keys:
                    entry = objects.last_entry
                else:
                    entry = objects.shapes.get(keys)
                if entry is not None and entry.walk is not None and not entry.tag_slots:
                    objects.count += 1
                    entry.stat.count += 1
                    entry.walk(value)
                    continue
            add_value(items, value)
            objects = items.obj  # the slow path may have made it or folded it into a map

    def add_array(node: Node, arr: list[Any]) -> None:
        stats = node.arr
        if stats is None:
            stats = node.arr = ArrayStats()
        n = len(arr)
        stats.lens.append(n)
        items = stats.items
        if n > _SHORT_ARRAY:
            if stats.positions is not None:
                track_tuple(stats, arr, n)
            add_many(items, arr)
            return
        if stats.positions is not None:
            # Tuple tracking is alive (coordinates, pairs: every array so far had this length
            # and only scalars): a type tuple seen before routes each value to its item and
            # position buffers. Plain code, pairs unrolled: on two to four values, map() and
            # any() cost more to set up (~150 ns each) than they save.
            if n == 2:
                first, second = arr
                kinds: tuple[type, ...] = (type(first), type(second))
                route = stats.routes.get(kinds)
                if route is not None:
                    item_buffers, position_buffers = route
                    item_buffers[0].append(first)
                    item_buffers[1].append(second)
                    position_buffers[0].append(first)
                    position_buffers[1].append(second)
                    return
            else:
                kinds = tuple(map(type, arr))
                route = stats.routes.get(kinds)
                if route is not None:
                    for value, item_buffer, position_buffer in zip(arr, *route, strict=True):
                        item_buffer.append(value)
                        position_buffer.append(value)
                    return
            track_tuple(stats, arr, n)
            positions = stats.positions
            if positions is not None and len(stats.routes) < MAX_ARRAY_ROUTES:
                buffers = list(map(items.buffer_of, kinds))  # TypeError for a non-JSON value
                any(map(_append, buffers, arr))
                stats.routes[kinds] = (buffers, list(map(Node.buffer_of, positions, kinds)))
                return
        # Other short arrays (tags of varying length, a line item or two): a plain loop beats
        # building type tuples or sets.
        for value in arr:
            kind = type(value)
            if kind is str:
                (items.sbuf or items.buffer_of(str)).append(value)
            elif kind is dict:
                add_object(items, value)
            elif kind is list:
                add_array(items, value)
            else:
                items.buffer_of(kind).append(value)

    compiler = ShapeCompiler(add_object, add_array, add_value)

    def track_tuple(stats: ArrayStats, arr: list[Any], n: int) -> None:
        if stats.tuple_len == -1:
            stats.tuple_len = n
            if n > tuple_max:
                end_tuple(stats)
                return
            stats.positions = [Node() for _ in range(n)]
        elif n != stats.tuple_len:
            end_tuple(stats)
            return
        positions = stats.positions
        assert positions is not None
        kinds = tuple(map(type, arr))
        if dict in kinds or list in kinds:
            end_tuple(stats)
            return
        any(map(_append, map(Node.buffer_of, positions, kinds), arr))

    def end_tuple(stats: ArrayStats) -> None:
        stats.positions = None
        stats.routes = {}  # cached routes append to the positions too

    def new_shape(stats: ObjectStats, keys: tuple[str, ...]) -> ShapeEntry | None:
        children = stats.children
        fresh = [k for k in keys if k not in children]
        if fresh and len(children) + len(fresh) > max_keys:
            fold(stats)
            return None
        for key in fresh:
            children[key] = Node()
        stat = keyset_stat(stats, keys)
        if stat is stats.sink or tag_names.isdisjoint(keys):
            slots: tuple[tuple[str, dict[str, int]], ...] = ()
        else:
            slots = tuple(
                (key, stat.tags.setdefault(key, {}))
                for key in keys
                if key in tag_names and key not in stats.dead_tags
            )
        entry = ShapeEntry([children[k] for k in keys], stat, slots)
        if len(stats.shapes) < SHAPE_CACHE_SIZE:
            stats.shapes[keys] = entry
        return entry

    def keyset_stat(stats: ObjectStats, keys: tuple[str, ...]) -> KeysetStat:
        keysets = stats.keysets
        if keysets is None:
            return stats.sink
        key_set = frozenset(keys)
        stat = keysets.get(key_set)
        if stat is None:
            if len(keysets) >= keyset_limit:
                drop_keysets(stats)
                return stats.sink
            stat = keysets[key_set] = KeysetStat()
        return stat

    def fold(stats: ObjectStats) -> None:
        drain()  # the children are merged into one node: their buffers must be complete
        stats.key_mask = keys_mask(stats.children, ALL_CLASSES)
        stats.values = fold_children(list(stats.children.values()), options)
        stats.children = {}
        drop_keysets(stats)

    return Adder(add_object, drain)


def drop_keysets(stats: ObjectStats) -> None:
    """Key-set statistics overflowed (or the object became a map): stop tracking them."""
    stats.keysets = None
    stats.forget_shapes()
    stats.dead_tags = set()
