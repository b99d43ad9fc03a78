"""What the ``observed`` policy knows about the writer's data: a profile's per-path statistics.

The checker walks schema paths (literal names, tuple indexes, ``*`` for array items and for
"any other name"); a profile writes ``*`` for array items and map values. A lookup therefore
takes the union over every profile path that could denote the same place — segments equal,
or ``*`` on either side — so the facts it returns describe a *superset* of the values there.
Every proof below is "all values in that superset satisfy the reader", which is sound for the
data the profile covers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemashift.core.compat.writer import categories
from schemashift.core.schema import SchemaDocument, SchemaNode

_SCALARS = frozenset({"null", "boolean", "integer", "fraction", "string"})


def _get(stats: Any, name: str, default: Any = None) -> Any:
    if isinstance(stats, Mapping):
        return stats.get(name, default)
    return getattr(stats, name, default)


@dataclass(frozen=True, slots=True)
class Seen:
    """The union of what was observed at the profile paths matching one checker path."""

    types: frozenset[str]  # checker categories, "null" included when nulls were seen
    values: tuple[Any, ...] | None  # every value seen, when all were scalars and are known
    strings: int  # how many strings were seen
    formats: Mapping[str, int]  # format → strings matching it (present only if all did)
    low: int | float | None  # smallest number seen
    high: int | float | None  # largest number seen
    str_len: tuple[int, int] | None  # shortest and longest string seen

    def has_format(self, name: str) -> bool:
        """Whether every observed string matched format ``name`` (no strings: vacuous)."""
        return self.strings == 0 or self.formats.get(name, 0) >= self.strings


@dataclass(frozen=True, slots=True)
class _Path:
    segments: tuple[str, ...]
    stats: Any
    types: frozenset[str]


class Observations:
    """Per-path facts from ``Profile.path_stats()`` (or any mapping of the same shape)."""

    def __init__(self, path_stats: Mapping[str, Any]) -> None:
        self._paths: list[_Path] = []
        self._by_key: dict[str, Any] = dict(path_stats)
        for key, stats in path_stats.items():
            seen = _get(stats, "types") or {}
            names = {name for name, count in seen.items() if count}
            if _get(stats, "nulls", 0):
                names.add("null")
            if not names:
                continue  # a path with no value (an empty profile's root) is no evidence
            self._paths.append(_Path(segments(key), stats, categories(frozenset(names))))

    @classmethod
    def from_types(cls, observed: Mapping[str, frozenset[str]]) -> Observations:
        """Observations that know only the type categories per path."""
        return cls(
            {
                k: {"types": {t: 1 for t in v if t != "null"}, "nulls": int("null" in v)}
                for k, v in observed.items()
            }
        )

    def _matching(self, path: str) -> list[_Path]:
        wanted = segments(path)
        return [p for p in self._paths if _matches(p.segments, wanted)]

    def types_at(self, path: str) -> frozenset[str] | None:
        """The type categories seen at ``path``, or ``None`` if nothing was."""
        found = self._matching(path)
        if not found:
            return None
        out: frozenset[str] = frozenset()
        for p in found:
            out |= p.types
        return out

    def at(self, path: str) -> Seen | None:
        """Everything seen at ``path`` (a union over matching profile paths), or ``None``."""
        found = self._matching(path)
        if not found:
            return None
        types: set[str] = set()
        values: list[Any] | None = []
        strings = 0
        formats: dict[str, int] | None = None
        lows: list[Any] = []
        highs: list[Any] = []
        shortest: list[int] = []
        longest: list[int] = []
        for p in found:
            types |= p.types
            stats = p.stats
            count = int((_get(stats, "types") or {}).get("string", 0))
            strings += count
            mine = dict(_get(stats, "formats") or {}) if count else None
            if mine is not None:
                formats = (
                    mine
                    if formats is None
                    else {k: formats[k] + v for k, v in mine.items() if k in formats}
                )
            if _get(stats, "min") is not None:
                lows.append(_get(stats, "min"))
            if _get(stats, "max") is not None:
                highs.append(_get(stats, "max"))
            lengths = _get(stats, "str_len")
            if lengths is not None:
                shortest.append(int(lengths[0]))
                longest.append(int(lengths[1]))
            distinct = _get(stats, "distinct")
            if values is not None:
                if not p.types <= _SCALARS:
                    values = None
                elif distinct is not None:
                    values.extend(distinct)
                    if "null" in p.types:
                        values.append(None)
                elif p.types <= {"null"}:
                    values.append(None)
                else:
                    values = None
        return Seen(
            types=frozenset(types),
            values=None if values is None else tuple(values),
            strings=strings,
            formats=formats or {},
            low=min(lows) if lows else None,
            high=max(highs) if highs else None,
            str_len=(min(shortest), max(longest)) if shortest else None,
        )

    def always_has(self, path: str, name: str) -> bool:
        """Whether every object observed at ``path`` had property ``name`` (objects seen
        as maps, whose names are not kept, prove nothing)."""
        found = [p for p in self._matching(path) if "object" in p.types]
        if not found:
            return False
        token = name.replace("~", "~0").replace("/", "~1")
        for p in found:
            objects = int((_get(p.stats, "types") or {}).get("object", 0))
            key = "/".join(("", *p.segments, token))
            child = self._by_key.get(key)
            if child is None or int(_get(child, "count", 0)) < objects:
                return False
        return True

    def below(self, path: str) -> bool:
        """Whether something was observed at or below ``path``."""
        wanted = segments(path)
        return any(
            len(p.segments) >= len(wanted) and _matches(p.segments[: len(wanted)], wanted)
            for p in self._paths
        )

    def children(self, path: str) -> set[str]:
        """Names (escaped; ``*`` for map values) observed directly under ``path``."""
        wanted = segments(path)
        return {
            p.segments[-1]
            for p in self._paths
            if len(p.segments) == len(wanted) + 1 and _matches(p.segments[:-1], wanted)
        }


def segments(path: str) -> tuple[str, ...]:
    return tuple(path.split("/")[1:]) if path else ()


def _matches(observed: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    return len(observed) == len(wanted) and all(
        o == w or o == "*" or w == "*" for o, w in zip(observed, wanted, strict=True)
    )


def formats_within(document: SchemaDocument, node: SchemaNode) -> set[str]:
    """Every ``format`` written anywhere inside the node's raw text (over-approximation: a
    format in a branch that does not apply is still required to hold)."""
    found: set[str] = set()
    stack: list[Any] = [document.raw_at(node.pointer)]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("format"), str):
                found.add(item["format"])
            if "$ref" in item or "$dynamicRef" in item:
                found.add("\0unresolved")  # a format behind a reference is not looked up
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
