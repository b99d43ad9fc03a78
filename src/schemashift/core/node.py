"""The statistics a profile keeps per position in the payload, and how they summarise.

A :class:`Node` stands for one path (``/order/line_items/*/sku``). Scalars arriving at a
node are only *appended* to the buffer of their JSON type on the hot path; :meth:`Node.flush` later folds a whole
batch into the counters with C-level builtins (``Counter``, ``min``, ``max``, ``map``), which
is several times cheaper than updating every counter per value.

Every statistic is exactly mergeable, so profiling a stream in pieces and merging equals
profiling it whole:

* counts, min/max, string-length range — sums and extremes;
* surviving formats — the formats *every* string matched; merge is intersection;
* the distinct sketch — the exact set of values while at most ``distinct_limit`` values of
  at most ``distinct_max_length`` characters were seen, else ``None``; merge is a bounded
  union;
* beside it, ``repeated`` — the strings of the sketch seen more than once (``None`` exactly
  when the sketch is), the enum rule's evidence that a value recurs; merge is the union of
  the parts' sets plus the strings in more than one part's sketch;
* object key sets (:class:`KeysetStat`) — exact counts per distinct set of keys, with the
  values of candidate discriminators, up to ``keyset_limit`` sets, else ``None``;
* a map folded at ``max_object_keys`` keys keeps one value node and the AND of key classes.

Numbers use one representation for equal values (an integral float below 2**53 is stored as
an int), so the result never depends on whether ``1`` or ``1.0`` came first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from schemashift.core.formats import FORMATS, LAYOUT_FORMATS, surviving

if TYPE_CHECKING:
    from schemashift.core.shape import Plan

# Below this magnitude int hashes are the identity, so batch counting via a hash table is
# safe; larger numbers (e.g. multiples of 2**61 - 1, which all hash to 0) are counted by a
# bounded linear loop instead, which costs at most distinct_limit comparisons per value.
_SAFE_HASH = 2**60
_EXACT_FLOAT = 2**53
# seen_twice scans for second occurrences when a batch has at least this many values per
# distinct value (so few values are seen once, each costing a scan to the end), else it
# hashes them; 16 measured best on the corpus's batches (8 and 32 within 5 %).
_SCAN_RATIO = 16

_NONE = type(None)
SCALAR_TYPES = frozenset({str, int, float, bool, _NONE})

Number = int | float
Distinct = set[str | int | float]
# The repeated strings of a node where none has repeated yet (shared: never mutated).
NOTHING_REPEATED: frozenset[str] = frozenset()


def canonical_number(value: Number) -> Number:
    """One representation per value: integral floats that are exact ints become ints."""
    if type(value) is float and value.is_integer() and -_EXACT_FLOAT < value < _EXACT_FLOAT:
        return int(value)
    return value


class KeysetStat:
    """How many objects at a path had exactly one set of keys, and their tag values."""

    __slots__ = ("count", "tags")

    def __init__(self) -> None:
        self.count = 0
        # discriminator key -> string value -> objects of this key set with that value
        self.tags: dict[str, dict[str, int]] = {}


class ShapeEntry:
    """Cache entry for one key order at an object path: the precompiled path of a shape."""

    __slots__ = ("children", "hits", "plans", "stat", "tag_slots", "walk")

    def __init__(
        self,
        children: list[Node],
        stat: KeysetStat,
        tag_slots: tuple[tuple[str, dict[str, int]], ...],
    ) -> None:
        self.children = children
        self.stat = stat
        self.tag_slots = tag_slots
        self.hits = 0
        # value types -> routing plan (core/shape.py); a cache, never a statistic
        self.plans: dict[tuple[type, ...], Plan] = {}
        # Compiled once the shape recurs (see core/shape.py); None until then.
        self.walk: Callable[[dict[str, Any]], None] | None = None


class ObjectStats:
    """Statistics of the objects seen at one path."""

    __slots__ = (
        "children",
        "count",
        "dead_tags",
        "key_mask",
        "keysets",
        "last_entry",
        "last_keys",
        "shapes",
        "sink",
        "values",
    )

    def __init__(self) -> None:
        self.count = 0
        self.children: dict[str, Node] = {}
        # Set once the object is folded into a map: every value of every key lands here.
        self.values: Node | None = None
        # AND of the key classes of every key (maintained only once folded).
        self.key_mask = 0
        self.keysets: dict[frozenset[str], KeysetStat] | None = {}
        self.dead_tags: set[str] = set()
        # Performance cache (not a statistic): key tuple -> precompiled children.
        self.shapes: dict[tuple[str, ...], ShapeEntry] = {}
        # The entry of the previous object, tried first: comparing a key tuple with an
        # identical one is a third of the cost of hashing it for the dictionary.
        self.last_keys: tuple[str, ...] | None = None
        self.last_entry: ShapeEntry | None = None
        # Where entries count once key sets overflowed; never read.
        self.sink = KeysetStat()

    def forget_shapes(self) -> None:
        """Drop the cached entries (their key-set or tag counters are being replaced)."""
        self.shapes = {}
        self.last_keys = None
        self.last_entry = None


# (item buffers, position buffers): where each value of a fixed-length scalar array goes.
ArrayRoute = tuple[list[list[Any]], list[list[Any]]]


class ArrayStats:
    """Statistics of the arrays seen at one path."""

    __slots__ = (
        "count",
        "items",
        "len_max",
        "len_min",
        "lens",
        "positions",
        "routes",
        "tuple_len",
    )

    def __init__(self) -> None:
        self.count = 0
        self.len_min: int | None = None
        self.len_max: int | None = None
        # Lengths of arrays not yet folded into count/len_min/len_max (see Node.flush).
        self.lens: list[int] = []
        self.items = Node()
        # Tuple tracking: alive while every array had the same length and only scalars.
        self.tuple_len = -1
        self.positions: list[Node] | None = []
        # While tuple tracking is alive, per tuple of value types: the item buffers and the
        # position buffers (a cache, emptied when tracking dies).
        self.routes: dict[tuple[type, ...], ArrayRoute] = {}


class Node:
    """Statistics of every value seen at one path."""

    __slots__ = (
        "arr",
        "bbuf",
        "booleans",
        "distinct",
        "fbuf",
        "floats",
        "formats",
        "ibuf",
        "integers",
        "nulls",
        "num_max",
        "num_min",
        "obj",
        "repeated",
        "sbuf",
        "scalars",
        "str_max",
        "str_min",
        "strings",
        "trues",
        "zbuf",
    )

    def __init__(self) -> None:
        # Scalars wait in one buffer per JSON type until the next flush. Buffers are made on
        # first use (buffer_of): a node is created for every new path and most paths see one
        # type, so first-sight work and garbage-collector pressure stay low.
        self.sbuf: list[Any] | None = None
        self.ibuf: list[Any] | None = None
        self.fbuf: list[Any] | None = None
        self.bbuf: list[Any] | None = None
        self.zbuf: list[Any] | None = None
        self.scalars = 0
        self.nulls = 0
        self.booleans = 0
        self.trues = 0
        self.integers = 0
        self.floats = 0
        self.num_min: Number | None = None
        self.num_max: Number | None = None
        self.strings = 0
        self.str_min: int | None = None
        self.str_max: int | None = None
        self.formats: tuple[str, ...] = FORMATS
        self.distinct: Distinct | None = set()
        # The strings of `distinct` seen more than once; None exactly when `distinct` is.
        # A shared empty frozenset until a first value repeats: most nodes never hold a
        # repeated string (objects, arrays, numbers, ids), and an own empty set per node
        # cost allocations and garbage-collector traversals on first sight.
        self.repeated: set[str] | frozenset[str] | None = NOTHING_REPEATED
        self.obj: ObjectStats | None = None
        self.arr: ArrayStats | None = None

    @property
    def count(self) -> int:
        """Values seen at this path (containers are counted by their stats, off the hot path)."""
        total = self.scalars
        if self.obj is not None:
            total += self.obj.count
        if self.arr is not None:
            total += self.arr.count
        return total

    def flush(self, limit: int, max_length: int) -> None:
        """Fold the buffered scalars into the counters.

        Buffers are cleared in place, never replaced: compiled shapes hold their ``append``.
        """
        if self.sbuf:
            self._flush_strings(self.sbuf, limit, max_length)
            self.sbuf.clear()
        if self.ibuf:
            self._flush_numbers(self.ibuf, True, limit)
            self.ibuf.clear()
        if self.fbuf:
            self._flush_numbers(self.fbuf, False, limit)
            self.fbuf.clear()
        if self.bbuf:
            self.scalars += len(self.bbuf)
            self.booleans += len(self.bbuf)
            self.trues += sum(self.bbuf)
            self.bbuf.clear()
        if self.zbuf:
            self.scalars += len(self.zbuf)
            self.nulls += len(self.zbuf)
            self.zbuf.clear()
        arr = self.arr
        if arr is not None and arr.lens:
            lens = arr.lens
            arr.count += len(lens)
            lo, hi = min(lens), max(lens)
            arr.len_min = lo if arr.len_min is None else min(arr.len_min, lo)
            arr.len_max = hi if arr.len_max is None else max(arr.len_max, hi)
            lens.clear()

    def buffer_for(self, value: Any) -> list[Any]:
        """The buffer a scalar goes to; a TypeError for anything JSON cannot hold."""
        return self.buffer_of(type(value))

    def buffer_of(self, kind: type) -> list[Any]:
        """The buffer of one scalar type, made on first use (cleared in place, never replaced:
        plans and compiled shapes hold it)."""
        if kind is str:
            if self.sbuf is None:
                self.sbuf = []
            return self.sbuf
        if kind is int:
            if self.ibuf is None:
                self.ibuf = []
            return self.ibuf
        if kind is float:
            if self.fbuf is None:
                self.fbuf = []
            return self.fbuf
        if kind is bool:
            if self.bbuf is None:
                self.bbuf = []
            return self.bbuf
        if kind is _NONE:
            if self.zbuf is None:
                self.zbuf = []
            return self.zbuf
        raise TypeError(f"not a decoded JSON value: {kind.__name__}")

    def _flush_strings(self, values: list[str], limit: int, max_length: int) -> None:
        n = len(values)
        self.scalars += n
        self.strings += n
        repeated = self.repeated
        if repeated is None:  # the sketch overflowed
            self._string_lengths(set(map(len, values)))
            formats = self.formats
            if not formats:  # only the length range was left to update
                return
            if LAYOUT_FORMATS.issuperset(formats):
                # ids and timestamps: fresh strings, rarely repeated, checked by layout at
                # ~20-100 ns each; hashing them to deduplicate would cost more than it saves
                self.formats = surviving(formats, values)
            else:
                # Any order will do: the result is whether every string matched.
                self.formats = surviving(formats, list(set(values)))
            return
        # Lengths, formats and the sketch depend only on the distinct values, and streams
        # repeat strings a lot (statuses, URLs, names): deduplicate once, in C. Values
        # already in the sketch have had their lengths counted and passed every surviving
        # format when first seen (formats only ever drop out), so only new ones matter.
        # A value already known as repeated can change nothing more, so the steady state
        # is one C-level subset test against those (a subset of the sketch); a value sends
        # at most two batches down the slow path: its first sighting and its first repeat.
        if repeated.issuperset(values):
            return
        distinct = self.distinct
        assert distinct is not None  # None together with repeated
        unique = fresh = set(values)
        if distinct:
            again = unique & distinct  # seen in an earlier batch and again now
            if again:
                if not isinstance(repeated, set):
                    repeated = self.repeated = set()
                repeated.update(again)
                fresh = unique - again
                if not fresh:
                    return
        hi = self._string_lengths(set(map(len, fresh)))
        if self.formats:
            self.formats = surviving(self.formats, list(fresh))
        if hi > max_length or len(distinct) + len(fresh) > limit:
            self.distinct = self.repeated = None
            return
        distinct.update(fresh)
        if len(unique) < n:  # some value came twice within this batch
            if not isinstance(repeated, set):
                repeated = self.repeated = set()
            if len(unique) == 1:  # one value, n times: nothing to count
                repeated.update(unique)
            else:
                repeated.update(seen_twice(values, unique, fresh))

    def _string_lengths(self, lengths: set[int]) -> int:
        """Widen the length range to a batch's lengths; returns the batch's longest.

        Lengths come as a set (``set(map(len, batch))``): one C pass building a small set
        costs half as much as the two passes of ``min(map(len, …))``/``max(map(len, …))``.
        """
        lo, hi = min(lengths), max(lengths)
        if self.str_min is None or lo < self.str_min:
            self.str_min = lo
        if self.str_max is None or hi > self.str_max:
            self.str_max = hi
        return hi

    def _flush_numbers(self, values: list[Any], integers: bool, limit: int) -> None:
        n = len(values)
        self.scalars += n
        if integers:
            self.integers += n
        else:
            self.floats += n
        lo, hi = min(values), max(values)
        self.num_min = lo if self.num_min is None else min_number(self.num_min, lo)
        self.num_max = hi if self.num_max is None else max_number(self.num_max, hi)
        self.num_min = canonical_number(self.num_min)
        self.num_max = canonical_number(self.num_max)
        if self.distinct is None:
            return
        if lo > -_SAFE_HASH and hi < _SAFE_HASH:
            if integers:  # ints are their own canonical form: one C-level update
                distinct = self.distinct
                distinct.update(values)
                self.distinct = None if len(distinct) > limit else distinct
            else:
                self.distinct = add_values(self.distinct, values, limit)
        else:
            self.distinct = add_values_linear(self.distinct, values, limit)
        if self.distinct is None:  # the strings' statistic goes with the sketch
            self.repeated = None


def seen_twice(values: list[str], unique: set[str], among: set[str]) -> list[str]:
    """Values that occur at least twice in ``values`` (whose set is ``unique``): every such
    value of ``among``, possibly with others of ``unique``.

    Equal strings of decoded payloads are distinct objects, so every comparison of equal
    values is a memcmp, and counting (``Counter``, ``list.count``) costs several times a
    ``set(values)``. With many occurrences per value (an enum's batch), each value's
    second occurrence comes early: ``list.index`` from just past the first finds it after
    a few comparisons. With few, ``values`` without the first occurrence of each value
    holds exactly the later occurrences, and hashing those is cheaper than scanning for
    values seen once. (Replayed on the corpus's batches, this measured a third to a half
    fewer instructions than either method alone or a ``Counter``.)
    """
    if len(unique) * _SCAN_RATIO > len(values):
        rest = values.copy()
        for value in unique:
            rest.remove(value)
        return rest
    twice: list[str] = []
    index = values.index
    for value in among:
        try:
            index(value, index(value) + 1)
        except ValueError:  # seen once in this batch
            continue
        twice.append(value)
    return twice


def min_number(a: Number, b: Number) -> Number:
    return b if b < a else a


def max_number(a: Number, b: Number) -> Number:
    return b if b > a else a


def add_values(into: Distinct, values: Iterable[Any], limit: int) -> Distinct | None:
    """Add values to a sketch; None once it would hold more than ``limit``.

    Numbers are stored canonically (see :func:`canonical_number`), so ``{1}`` and ``{1.0}``
    merge to the same set whichever came first.
    """
    for value in set(values):
        into.add(canonical_number(value) if type(value) is float else value)
    return None if len(into) > limit else into


def add_values_linear(into: Distinct, values: Sequence[Any], limit: int) -> Distinct | None:
    """Like :func:`add_values` for numbers whose hashes may collide: stops at overflow."""
    for value in values:
        key = canonical_number(value)
        if key not in into:
            if len(into) >= limit:
                return None
            into.add(key)
    return into


def walk_nodes(root: Node) -> list[Node]:
    """Every node of a tree (iterative, so deep payloads cannot exhaust the stack)."""
    out: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        out.append(node)
        if node.obj is not None:
            stack.extend(node.obj.children.values())
            if node.obj.values is not None:
                stack.append(node.obj.values)
        if node.arr is not None:
            stack.append(node.arr.items)
            if node.arr.positions:
                stack.extend(node.arr.positions)
    return out
