"""The knobs of inference, with the evidence rules they parameterise (docs/inference.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

DEFAULT_MAP_NAMES: frozenset[str] = frozenset(
    {
        "metadata",
        "labels",
        "tags",
        "headers",
        "attributes",
        "annotations",
        "properties",
        "changes",
        "params",
        "env",
        "extra",
    }
)

DEFAULT_TAG_NAMES: tuple[str, ...] = (
    "type",
    "kind",
    "action",
    "event",
    "event_type",
    "eventType",
    "object",
    "op",
    "operation",
    "@type",
    "__typename",
)


@dataclass(frozen=True, slots=True)
class ProfileOptions:
    """Options of a :class:`~schemashift.core.profile.Profile`.

    Two profiles merge only when their options are equal: the bounded statistics (distinct
    sketch, key cap, key-set cap) depend on them.
    """

    # A key is required when present in at least this share of its parent objects.
    # 1.0 (the default) is the only value for which every payload validates.
    required_threshold: float = 1.0
    # `format` needs every string to match and at least this many strings.
    format_min_count: int = 3
    # `enum` needs this many strings, at most `enum_max_values` distinct values of at most
    # `enum_max_length` characters, and distinct <= enum_max_ratio * observations; besides,
    # with no knob: two values or more, at most half of them seen once, none with a format.
    enum_min_count: int = 20
    enum_max_values: int = 12
    enum_max_length: int = 32
    enum_max_ratio: float = 0.25
    # The distinct-value sketch keeps exact counts for up to this many values of at most
    # `distinct_max_length` characters; beyond that it is "overflowed" (None).
    distinct_limit: int = 32
    distinct_max_length: int = 200
    # An object path with more distinct keys than this is folded into a map (memory bound).
    max_object_keys: int = 256
    # Recurrence rule for maps: at least `map_min_keys` distinct keys, each present on
    # average in at most `map_max_presence` of the objects, values of one shape.
    map_min_keys: int = 8
    map_max_presence: float = 0.25
    # Keys under these names become maps as soon as their values share one shape.
    map_names: frozenset[str] = field(default=DEFAULT_MAP_NAMES)
    # Tagged unions: candidate discriminator names, branch cap, the minimum number of
    # objects, and the minimum average number of keys the union tightens per branch.
    tag_names: tuple[str, ...] = DEFAULT_TAG_NAMES
    tag_max_branches: int = 16
    tag_min_count: int = 10
    tag_min_gain: float = 2.0
    # Arrays of one fixed length (2..tuple_max_length) of scalars seen at least
    # `tuple_min_count` times with differing per-position schemas become `prefixItems`.
    tuple_max_length: int = 8
    tuple_min_count: int = 5
    # Distinct key sets tracked per object path (for dependentRequired and tagged unions).
    keyset_limit: int = 64
    # dependentRequired: the optional key must have been seen this many times.
    dependent_min_count: int = 5
    # Performance only: scalar values are buffered and summarised every this many payloads,
    # so at most this many payloads' scalars are kept alive between summaries (lower it
    # for very large payloads).
    flush_every: int = 256

    def __post_init__(self) -> None:
        if not 0.0 < self.required_threshold <= 1.0:
            raise ValueError("required_threshold must be in (0, 1]")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int) and not isinstance(value, bool) and value < 1:
                raise ValueError(f"{f.name} must be at least 1")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["map_names"] = sorted(self.map_names)
        data["tag_names"] = list(self.tag_names)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProfileOptions:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "map_names" in values:
            values["map_names"] = frozenset(values["map_names"])
        if "tag_names" in values:
            values["tag_names"] = tuple(values["tag_names"])
        return cls(**values)
