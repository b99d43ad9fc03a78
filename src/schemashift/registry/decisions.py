"""The registry's decisions as pure functions: values in, values out, no store, no clock."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from schemashift.registry.config import Compatibility, SubjectConfig
from schemashift.registry.records import ConsumerContract, Decision
from schemashift.registry.refusals import InvalidVersionError

# Changes that cannot break a consumer reading the changed field: it gains a field, or its
# values become a subset of what they were. Everything else (removal, any retyping — widening
# too, since a reader of integers chokes on a string —, becoming optional or nullable,
# enum/format/constraint relaxations) can.
NON_BREAKING_CODES = frozenset(
    {
        "property_added",
        "became_required",
        "nullability_removed",
        "constraint_tightened",
        "additional_properties_closed",
        "additional_properties_opened",
    }
)
BREAKING_CLASSES = frozenset({"subtractive", "modification"})

LATEST = -1
_VERSION_TEXT = re.compile(r"-?[0-9]{1,10}")  # ASCII digits only: "¹".isdigit() is True


def parse_version_id(raw: str | int) -> int:
    """``latest`` or ``-1`` → :data:`LATEST`; a positive integer → itself; else 42202."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and raw.lower() == "latest":
        return LATEST
    elif isinstance(raw, str) and _VERSION_TEXT.fullmatch(raw):
        value = int(raw)
    else:
        raise InvalidVersionError(
            f"The specified version '{raw}' is not a valid version id. Allowed values are"
            ' between [1, 2^31-1] and the string "latest"'
        )
    if value == LATEST:
        return LATEST
    if not 1 <= value <= 2**31 - 1:
        raise InvalidVersionError(
            f"The specified version '{raw}' is not a valid version id. Allowed values are"
            ' between [1, 2^31-1] and the string "latest"'
        )
    return value


def compatibility_targets(
    mode: Compatibility, earlier: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The earlier schemas (oldest first) a new one must be checked against under ``mode``."""
    if mode is Compatibility.NONE or not earlier:
        return []
    if mode.transitive:
        return list(earlier)
    return [earlier[-1]]


def sunset_deadline(superseded_at: datetime | None, sunset_seconds: int | None) -> datetime | None:
    """When a version stops being servable; ``None`` = never (latest, or sunset switched off)."""
    if superseded_at is None or sunset_seconds is None:
        return None
    return superseded_at + timedelta(seconds=sunset_seconds)


def is_gone(superseded_at: datetime | None, sunset_seconds: int | None, now: datetime) -> bool:
    deadline = sunset_deadline(superseded_at, sunset_seconds)
    return deadline is not None and now >= deadline


def _overlaps(change_path: str, field: str) -> bool:
    """True when one JSON Pointer is the other or an ancestor of it."""
    a, b = change_path.rstrip("/"), field.rstrip("/")
    if a == b:
        return True
    return a.startswith(b + "/") or b.startswith(a + "/") or a == "" or b == ""


def _can_break(change: Mapping[str, Any]) -> bool:
    code = change.get("code")
    if code is not None:
        return str(code) not in NON_BREAKING_CODES
    return str(change.get("class", change.get("change_class", ""))) in BREAKING_CLASSES


def consumer_conflicts(
    changes: Iterable[Mapping[str, Any]], consumers: Iterable[ConsumerContract]
) -> tuple[str, ...]:
    """The consumers (sorted) reading a field that a possibly breaking change touches."""
    breaking = [str(c.get("path", "")) for c in changes if _can_break(c)]
    hit = {
        contract.consumer
        for contract in consumers
        if any(_overlaps(path, field) for path in breaking for field in contract.fields)
    }
    return tuple(sorted(hit))


@dataclass(frozen=True, slots=True)
class ObserveDecision:
    decision: Decision
    reasons: tuple[str, ...] = ()


def decide_first_version(config: SubjectConfig) -> ObserveDecision:
    """A subject's first version, once the caller holds enough events (or its deadline passed)."""
    if not config.auto_register:
        return ObserveDecision(Decision.QUARANTINED, ("auto-register is off for this subject",))
    return ObserveDecision(Decision.REGISTERED)


def decide_drift(
    *,
    score: float,
    config: SubjectConfig,
    compatible: bool,
    incompatibilities: Sequence[str] = (),
    conflicting_consumers: Sequence[str] = (),
) -> ObserveDecision:
    """Drift that has the support it needs (registry/evidence.py): ignore, register or quarantine.

    A score at or under the threshold is never acted on; anything the mode forbids, that
    breaks a declared consumer, or that auto-register may not take alone goes to quarantine
    for a person to decide.
    """
    if score <= config.drift_threshold:
        return ObserveDecision(Decision.NONE)
    reasons: list[str] = []
    if not compatible:
        reasons.append(f"not {config.compatibility.value} compatible with the registered versions")
        reasons.extend(incompatibilities)
    if conflicting_consumers:
        reasons.append(
            "removes or changes fields read by declared consumers: "
            + ", ".join(conflicting_consumers)
        )
    if not config.auto_register:
        reasons.append("auto-register is off for this subject")
    if reasons:
        return ObserveDecision(Decision.QUARANTINED, tuple(reasons))
    return ObserveDecision(Decision.REGISTERED)
