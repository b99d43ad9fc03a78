"""Classes of object keys, for map detection and ``propertyNames``.

A key class is a regular expression every key of a map may share: numeric ids, UUIDs,
hex digests, ``<topic>-<partition>`` names (Kafka ``records``). A profile keeps, per object path, the bitmask of
classes that *every* key seen so far belongs to; the mask of two profiles merges by AND,
so it is exact under merge. Keys of a map that all fall in an id-like class are strong map
evidence, and the class becomes the map's ``propertyNames`` pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# (name, pattern). Order matters: the first class in the mask names the map's keys. Only
# id-like classes are tracked: a key outside all of them zeroes the mask, and from then on
# keys cost nothing to classify. (`line_1`-style field names are deliberately not ids.)
KEY_CLASSES: tuple[tuple[str, str], ...] = (
    ("integer", "^(0|[1-9][0-9]*)$"),
    ("uuid", "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
    ("hex", "^[0-9a-f]{8,}$"),
    ("name-number", "^[A-Za-z0-9_.]+[-:][0-9]+$"),
)

# Matched with fullmatch on the unanchored body: Python's ``$`` also matches before a final
# newline, ECMA-262's does not, and the emitted pattern must mean the same to both.
_COMPILED = tuple(re.compile(pattern[1:-1]) for _, pattern in KEY_CLASSES)
ALL_CLASSES = (1 << len(KEY_CLASSES)) - 1


def key_mask(key: str, within: int = ALL_CLASSES) -> int:
    """Bitmask of the classes (restricted to ``within``) that ``key`` belongs to."""
    mask = 0
    for bit, pattern in enumerate(_COMPILED):
        flag = 1 << bit
        if within & flag and pattern.fullmatch(key) is not None:
            mask |= flag
    return mask


def keys_mask(keys: Iterable[str], mask: int = ALL_CLASSES) -> int:
    """AND of :func:`key_mask` over ``keys``, starting from ``mask``."""
    for key in keys:
        if not mask:
            break
        mask &= key_mask(key, mask)
    return mask


def is_id_like(mask: int) -> bool:
    """Whether every key belongs to a class of generated ids (not a field name)."""
    return bool(mask)


def pattern_of(mask: int) -> str | None:
    """The ``propertyNames`` pattern for a mask: the first class every key shares."""
    for bit, (_, pattern) in enumerate(KEY_CLASSES):
        if mask & (1 << bit):
            return pattern
    return None
