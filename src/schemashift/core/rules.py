"""The evidence rules of inference: small pure decisions over finished node statistics.

Each rule is stated in docs/inference.md; the numbers are :class:`ProfileOptions` fields.
Every rule only reads statistics that merge exactly, so a decision never depends on the
order of payloads or on how the stream was split.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from schemashift.core.formats import detect
from schemashift.core.keypatterns import ALL_CLASSES, is_id_like, keys_mask
from schemashift.core.node import KeysetStat, Node, ObjectStats
from schemashift.core.node_merge import fold_children
from schemashift.core.profile_options import ProfileOptions

Keysets = dict[frozenset[str], KeysetStat]

_TOKEN = re.compile(r"[^\s]*[A-Za-z][^\s]*")


def value_kinds(node: Node) -> set[str]:
    """The non-null JSON kinds seen at a node; integer and number count as one kind."""
    kinds: set[str] = set()
    if node.strings:
        kinds.add("string")
    if node.integers or node.floats:
        kinds.add("number")
    if node.booleans:
        kinds.add("boolean")
    if node.obj is not None and node.obj.count:
        kinds.add("object")
    if node.arr is not None and node.arr.count:
        kinds.add("array")
    return kinds


def format_of(node: Node, options: ProfileOptions) -> str | None:
    """Every string matched the format, and there were at least ``format_min_count``."""
    if node.strings >= options.format_min_count and node.formats:
        return node.formats[0]
    return None


_IDENTIFIER_NAME = re.compile(
    r"""(?i:id|ids|uuid|guid)                            # the whole name
      | .*[_\-.](?i:id|ids|uuid|guid)                    # snake, kebab or dotted suffix
      | .*[a-z0-9](?:Id|ID|Ids|IDs|Uuid|UUID|Guid|GUID)  # camelCase suffix
    """,
    re.X,
)


def names_an_identifier(name: str | None) -> bool:
    """``id``, ``uuid``, ``customer_id``, ``orderId``, ``node-uuid``: a field named as an
    identifier holds ids, so a small vocabulary seen so far is no evidence of a closed set."""
    return name is not None and _IDENTIFIER_NAME.fullmatch(name) is not None


def enum_of(node: Node, options: ProfileOptions) -> list[str] | None:
    """Many observations of a few distinct short tokens, each seen repeatedly, none a format.

    Tokens have no whitespace and at least one letter, which keeps numeric ids and free
    text out of enums. The rest is evidence that the set is closed rather than a sample:
    one value is a constant seen so far, not a vocabulary (``currency: usd``); a value with
    a format (an e-mail address, a URL, a timestamp) comes from an open set even where
    other values at the path have none; and a set most of whose values were seen once is a
    sample of an open one, however often its few common values recur.
    """
    distinct, repeated = node.distinct, node.repeated
    if distinct is None or repeated is None or node.strings < options.enum_min_count:
        return None
    if node.formats or node.str_max is None or node.str_max > options.enum_max_length:
        return None
    values = sorted(v for v in distinct if isinstance(v, str))
    if not 2 <= len(values) <= options.enum_max_values:
        return None
    if len(values) > options.enum_max_ratio * node.strings:
        return None
    once = set(values).difference(repeated)
    if 2 * len(once) > len(values):  # more than half of the values were seen only once
        return None
    if not all(_TOKEN.fullmatch(v) for v in values):
        return None
    if any(detect(v) for v in values):  # at most enum_max_values strict detector runs
        return None
    return values


def required_keys(stats: ObjectStats, options: ProfileOptions) -> list[str]:
    """Keys present in (at least the threshold share of) every parent object."""
    needed = options.required_threshold * stats.count
    return sorted(k for k, child in stats.children.items() if child.count >= needed)


def _shared_shape(children: list[Node]) -> bool:
    kinds: set[str] = set()
    for child in children:
        kinds |= value_kinds(child)
        if len(kinds) > 1:  # most records mix kinds: stop at the first disagreement
            return False
    if not kinds:
        return False
    if kinds != {"object"}:
        return True
    # Object values share a shape when their keys overlap: the union of their key sets is
    # at most twice the largest one ({"from": …} values of GitHub `changes` qualify).
    union: set[str] = set()
    largest = 1
    for child in children:
        if child.obj is None:
            continue
        keys = child.obj.children.keys() if child.obj.values is None else {"*"}
        union.update(keys)
        largest = max(largest, len(keys))
    return len(union) <= 2 * largest


def map_view(
    stats: ObjectStats, name: str | None, options: ProfileOptions
) -> tuple[Node, int] | None:
    """(value node, key-class mask) when the objects at this path are a map, else None.

    A map is (1) an object folded at ``max_object_keys``, or an object whose values share
    one shape and (2) whose keys all look like generated ids (two keys or more), or (3)
    that sits under a conventional map name (``metadata``, ``labels``, ``changes``…), or
    (4) whose keys recur rarely: at least ``map_min_keys`` distinct keys, each present on
    average in at most ``map_max_presence`` of the objects.
    """
    if stats.values is not None:
        return stats.values, stats.key_mask
    children = list(stats.children.values())
    if not children or not _shared_shape(children):
        return None
    mask = keys_mask(stats.children, ALL_CLASSES)
    distinct = len(children)
    presence = sum(c.count for c in children) / (distinct * max(stats.count, 1))
    if (
        (is_id_like(mask) and distinct >= 2)
        or (name is not None and name in options.map_names)
        or (distinct >= options.map_min_keys and presence <= options.map_max_presence)
    ):
        return fold_children(children, options), mask
    return None


def dependent_required(
    keysets: Keysets, required: set[str], options: ProfileOptions
) -> dict[str, list[str]]:
    """For each optional key seen often enough, the other optional keys always beside it."""
    optional: set[str] = set()
    for key_set in keysets:
        optional |= key_set
    optional -= required
    out: dict[str, list[str]] = {}
    for key in sorted(optional):
        together: set[str] | None = None
        seen = 0
        for key_set, stat in keysets.items():
            if key in key_set:
                seen += stat.count
                together = set(key_set) if together is None else together & key_set
        if together is None or seen < options.dependent_min_count:
            continue
        together -= required | {key}
        if together:
            out[key] = sorted(together)
    return out


@dataclass(frozen=True, slots=True)
class Branch:
    value: str
    count: int
    keys: frozenset[str]
    required: frozenset[str]
    keysets: Keysets


@dataclass(frozen=True, slots=True)
class TaggedUnion:
    tag: str
    branches: tuple[Branch, ...]
    gain: float


def tagged_union(
    stats: ObjectStats, required: list[str], options: ProfileOptions
) -> TaggedUnion | None:
    """The discriminator whose value best predicts the key set, if it tightens enough.

    A candidate (a key named in ``tag_names``) must be a string in every object, with 2 to
    ``tag_max_branches`` values over at least ``tag_min_count`` objects. Its gain is the
    average, weighted by branch size, of the keys a branch requires beyond the flat
    ``required``; the union is used when gain >= ``tag_min_gain``.
    """
    keysets = stats.keysets
    if keysets is None or stats.count < options.tag_min_count:
        return None
    flat_keys = set(stats.children)
    flat_required = set(required)
    best: TaggedUnion | None = None
    for tag in sorted(flat_keys & set(options.tag_names)):
        if tag in stats.dead_tags or tag not in flat_required:
            continue
        branches = _branches(keysets, tag)
        if branches is None or not 2 <= len(branches) <= options.tag_max_branches:
            continue
        if sum(b.count for b in branches) != stats.count:
            continue
        gain = (
            sum(
                b.count * (len(flat_keys - b.keys) + len(b.required - flat_required))
                for b in branches
            )
            / stats.count
        )
        if gain >= options.tag_min_gain and (best is None or gain > best.gain):
            best = TaggedUnion(tag, branches, gain)
    return best


def _branches(keysets: Keysets, tag: str) -> tuple[Branch, ...] | None:
    by_value: dict[str, Keysets] = {}
    for key_set, stat in keysets.items():
        counts = stat.tags.get(tag)
        if counts is None:
            return None
        for value, n in counts.items():
            sub = KeysetStat()
            sub.count = n
            by_value.setdefault(value, {})[key_set] = sub
    out = []
    for value in sorted(by_value):
        sets = by_value[value]
        keys: set[str] = set()
        common: set[str] | None = None
        for key_set in sets:
            keys |= key_set
            common = set(key_set) if common is None else common & key_set
        out.append(
            Branch(
                value=value,
                count=sum(s.count for s in sets.values()),
                keys=frozenset(keys),
                required=frozenset(common or ()),
                keysets=sets,
            )
        )
    return tuple(out)
