"""The drift score: how much a schema changed, as a number in [0, 1].

The formula and the default weights are documented in ``docs/drift.md``; the weights are data
(``DriftWeights``), so a deployment can tune them. In short, each change *c* gets a weight

    w(c) = min(cap, base[code] × (required_factor if the field was required) × decay^(depth-1))

where depth counts the property names in the change's path (``/a`` → 1, ``/a/*/b`` → 2, the
root → 1). Changes combine like independent probabilities,

    score = 1 − ∏ (1 − w(c)),

which is 0 iff there is no change, stays below 1 however many changes there are (each
w < 1), does not depend on their order, and grows with every change added. Each change's
``contribution`` is its share of the score, ``score × w(c) / Σ w``, so the contributions sum to
the score exactly (up to float rounding, after which the score is their ``math.fsum``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

#: Default base weight of each change code (see docs/drift.md for the reasoning).
DEFAULT_BASE: Mapping[str, float] = MappingProxyType(
    {
        "type_changed": 0.6,
        "property_removed": 0.4,
        "type_narrowed": 0.4,
        "record_to_map": 0.35,
        "map_to_record": 0.35,
        "items_changed": 0.35,
        "became_required": 0.3,
        "nullability_removed": 0.3,
        "const_changed": 0.3,
        "enum_changed": 0.25,
        "additional_properties_closed": 0.25,
        "type_widened": 0.2,
        "nullability_added": 0.2,
        "format_changed": 0.2,
        "constraint_tightened": 0.2,
        "property_added": 0.15,
        "became_optional": 0.15,
        "constraint_loosened": 0.1,
        "additional_properties_opened": 0.1,
    }
)


@dataclass(frozen=True, slots=True)
class DriftWeights:
    """The tunable data of the score (defaults in ``DEFAULT_BASE``)."""

    base: Mapping[str, float] = field(default_factory=lambda: DEFAULT_BASE)
    #: multiplier for removing, adding, or changing a field that is (or was) required
    required_factor: float = 1.5
    #: each level of nesting multiplies the weight by this
    depth_decay: float = 0.5
    #: no single change weighs more than this (keeps the score below 1)
    cap: float = 0.9
    #: weight of a code missing from ``base``
    default: float = 0.2

    def __post_init__(self) -> None:
        if not 0 < self.depth_decay <= 1:
            raise ValueError("depth_decay must be in (0, 1]")
        if not 0 < self.cap < 1:
            raise ValueError("cap must be in (0, 1)")
        if any(not w > 0 for w in self.base.values()) or self.default <= 0:
            raise ValueError("weights must be positive")
        if self.required_factor < 1:
            raise ValueError("required_factor must be at least 1")

    def weight(self, code: str, path: str, *, required: bool = False) -> float:
        """The weight w(c) of one change (strictly between 0 and 1)."""
        depth = max(1, sum(1 for token in path.split("/")[1:] if token != "*"))
        raw = self.base.get(code, self.default)
        raw *= self.required_factor if required else 1.0
        raw *= self.depth_decay ** (depth - 1)
        return min(self.cap, raw)


def combine(weights: Sequence[float]) -> tuple[float, tuple[float, ...]]:
    """The score of changes with these weights, and each change's contribution (same order).

    Weights are combined in sorted order so the result does not depend on the input order
    even in the last bit.
    """
    if not weights:
        return 0.0, ()
    remaining = 1.0
    for w in sorted(weights):
        remaining *= 1.0 - w
    raw = 1.0 - remaining
    total = math.fsum(weights)
    contributions = tuple(raw * w / total for w in weights)
    score = min(1.0, math.fsum(sorted(contributions)))
    return score, contributions
