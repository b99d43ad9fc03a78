"""What a subject's stream has shown so far, for the support rule (pure values, no store).

The registry counts the subject's events (``seen_total``, reported by the workers with each
observation, known-shape events included) and, for every subtractive or modifying change an
event showed, *where* in the stream it showed it (the event's position). A change is
**supported** once the subject has seen at least ``min_samples`` events and at least
``min_support`` of its last ``support_window`` events showed it (at least one); until then the
events showing it are ``outlier`` dead letters and the change is *pending*. Positions, not
clocks: the same stream in the same order gives the same decisions on any machine.

A change is named by a key ``"<code> <path>"`` (``"became_optional /email"``).

It also remembers, per object path, the last few keys versions *added* there on their own
(``added``): when an event adds yet another key at a path where it carries none of the
last :data:`FOLD_KEYS` added ones, the keys there do not recur — they are data (ids, names
made per event) — and the object becomes a map instead of gaining a property per event.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from schemashift.registry.config import SubjectConfig

__all__ = ["Evidence", "change_key", "needed_support"]

# positions kept per change: enough for any support test up to this many events
MAX_POSITIONS = 4096
MAX_KEYS = 1024  # changes tracked per subject; the least recently shown go first
FOLD_KEYS = 8  # added keys remembered per object path (the map_min_keys of inference)
MAX_FOLD_PATHS = 256


def change_key(change: Mapping[str, Any]) -> str:
    """The key of a change dict (``Change.to_dict()``): its code and event path."""
    return f"{change.get('code')} {change.get('path', '')}"


def needed_support(config: SubjectConfig, seen_total: int) -> int:
    """How many of the recent events must show a change for it to be supported."""
    recent = min(max(seen_total, 0), config.support_window)
    return max(1, math.ceil(config.min_support * recent - 1e-9))


@dataclass(slots=True)
class Evidence:
    """The support state of one subject; see the module docstring."""

    seen_total: int = 0
    outliers_total: int = 0
    outliers_open: int = 0
    support: dict[str, list[int]] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)
    rejected: dict[str, int] = field(default_factory=dict)
    added: dict[str, list[str]] = field(default_factory=dict)

    def keys_added(self, path: str, keys: Iterable[str]) -> None:
        """A version added ``keys`` as properties of the object at ``path``."""
        recent = self.added.pop(path, [])
        recent.extend(keys)
        self.added[path] = recent[-FOLD_KEYS:]
        while len(self.added) > MAX_FOLD_PATHS:
            del self.added[next(iter(self.added))]

    def keys_do_not_recur(self, path: str, keys: frozenset[str], new: list[str]) -> bool:
        """Whether adding ``new`` at ``path`` looks like map keys: the path had
        :data:`FOLD_KEYS` keys added and the value carries none of them."""
        recent = self.added.get(path, ())
        return len(recent) >= FOLD_KEYS and not keys.intersection(recent)

    def shown(self, key: str, position: int) -> None:
        """Record that the event at ``position`` showed change ``key``."""
        positions = self.support.pop(key, [])
        positions.append(position)
        if len(positions) > MAX_POSITIONS:
            del positions[: len(positions) - MAX_POSITIONS]
        self.support[key] = positions  # re-inserted: the dict keeps recency order
        while len(self.support) > MAX_KEYS:
            oldest = next(iter(self.support))
            del self.support[oldest]
            self.pending.discard(oldest)

    def support_of(self, key: str, config: SubjectConfig) -> int:
        """Events among the last ``support_window`` that showed ``key``."""
        start = self.seen_total - config.support_window
        return sum(1 for p in self.support.get(key, ()) if p > start)

    def supported(self, keys: Iterable[str], config: SubjectConfig) -> bool:
        """Every change in ``keys`` has the support the policy asks for."""
        if self.seen_total < config.min_samples:
            return False
        needed = needed_support(config, self.seen_total)
        return all(self.support_of(key, config) >= needed for key in keys)

    def pending_now_supported(self, config: SubjectConfig) -> bool:
        return any(self.supported((key,), config) for key in self.pending)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seen_total": self.seen_total,
            "outliers_total": self.outliers_total,
            "outliers_open": self.outliers_open,
            "support": self.support,
            "pending": sorted(self.pending),
            "rejected": self.rejected,
            "added": self.added,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Evidence:
        if not data:
            return cls()
        return cls(
            seen_total=int(data.get("seen_total", 0)),
            outliers_total=int(data.get("outliers_total", 0)),
            outliers_open=int(data.get("outliers_open", 0)),
            support={str(k): [int(p) for p in v] for k, v in dict(data.get("support", {})).items()},
            pending={str(k) for k in data.get("pending", ())},
            rejected={str(k): int(v) for k, v in dict(data.get("rejected", {})).items()},
            added={str(k): [str(x) for x in v] for k, v in dict(data.get("added", {})).items()},
        )
