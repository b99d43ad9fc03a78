"""The mergeable profile of a stream of event payloads (the Analyzer's state).

>>> p = Profile()
>>> for payload in ({"id": 1, "tags": {"a": "x"}}, {"id": 2, "note": None}):
...     p.add(payload)
>>> p.finish()["required"]
['id']

A profile keeps, per path, counts of presence, nulls and each JSON type, numeric and string
ranges, surviving string formats, a bounded distinct-value sketch, array lengths and key-set
statistics (docs/inference.md). Memory is O(schema): objects with ever-new keys are folded
into maps at ``max_object_keys``, and every sample and sketch is capped.

``merge`` equals profiling the concatenated stream, so profiles can be built per partition,
persisted with ``to_dict`` and combined later; the finished schema never depends on the
order of payloads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from schemashift.core.emit import document
from schemashift.core.ingest import make_adder
from schemashift.core.node import Node
from schemashift.core.node_merge import flush_tree, merge_nodes
from schemashift.core.path_stats import PathStats, collect_path_stats
from schemashift.core.profile_codec import node_from_dict, node_to_dict
from schemashift.core.profile_options import ProfileOptions

__all__ = ["PathStats", "Profile", "ProfileOptions"]

PROFILE_FORMAT = 1


class Profile:
    """Per-path statistics of the payloads added so far; see the module docstring."""

    __slots__ = ("_add", "_drain", "_flush_at", "_flush_every", "_root", "count", "options")

    def __init__(self, options: ProfileOptions | None = None) -> None:
        self.options = options if options is not None else ProfileOptions()
        self.count = 0
        self._root = Node()
        self._add, self._drain = make_adder(self.options)
        self._flush_every = self.options.flush_every
        # The count at which the buffered scalars are next summarised.
        self._flush_at = self._flush_every

    def add(self, payload: Mapping[str, Any]) -> None:
        """Profile one decoded payload (a JSON object).

        A value JSON cannot hold (a set, bytes, a date) raises TypeError; that is misuse,
        and the profile may then have counted part of the payload.
        """
        if type(payload) is not dict:
            if not isinstance(payload, Mapping):
                raise TypeError(f"a payload must be a JSON object, got {type(payload).__name__}")
            payload = dict(payload)
        self._add(self._root, payload)
        self.count += 1
        if self.count >= self._flush_at:
            self._flush()

    def update(self, payloads: Iterable[Mapping[str, Any]]) -> Profile:
        """Add every payload; returns ``self`` for chaining."""
        add = self.add
        for payload in payloads:
            add(payload)
        return self

    def merge(self, other: Profile) -> Profile:
        """A new profile of both streams together; ``self`` and ``other`` are unchanged."""
        if not isinstance(other, Profile):
            raise TypeError(f"can only merge a Profile, got {type(other).__name__}")
        if other.options != self.options:
            raise ValueError("cannot merge profiles built with different options")
        self._flush()
        other._flush()
        merged = Profile(self.options)
        merged._root = merge_nodes(self._root, other._root, self.options)
        merged.count = self.count + other.count
        return merged

    def finish(self) -> dict[str, Any]:
        """The inferred JSON Schema (draft 2020-12) of every payload added so far."""
        self._flush()
        return document(self._root, self.options)

    to_schema = finish

    def path_stats(self) -> dict[str, PathStats]:
        """Observed statistics per JSON Pointer path (``*`` for array items and map values)."""
        self._flush()
        return collect_path_stats(self._root, self.options)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe snapshot; :meth:`from_dict` restores an equal profile."""
        self._flush()
        return {
            "format": PROFILE_FORMAT,
            "count": self.count,
            "options": self.options.to_dict(),
            "root": node_to_dict(self._root),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        if data.get("format") != PROFILE_FORMAT:
            raise ValueError(f"unsupported profile format {data.get('format')!r}")
        profile = cls(ProfileOptions.from_dict(dict(data["options"])))
        profile.count = int(data["count"])
        profile._root = node_from_dict(data["root"])
        return profile

    def _flush(self) -> None:
        self._flush_at = self.count + self._flush_every
        self._drain()
        flush_tree(self._root, self.options)

    def __repr__(self) -> str:
        return f"Profile(count={self.count})"
