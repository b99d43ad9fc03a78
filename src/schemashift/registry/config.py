"""Per-subject evolution policy with global defaults, and the registry modes.

A subject's stored configuration is a *patch*: every field may be unset, meaning "inherit
the global value". The global configuration is itself a patch over :data:`DEFAULT_CONFIG`,
so an operator can change one default without restating the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any

from schemashift.core.compat.model import CompatibilityMode
from schemashift.registry.refusals import InvalidConfigError, InvalidModeError

# The registry speaks the compatibility checker's modes; one enum, two names.
Compatibility = CompatibilityMode


class Mode(StrEnum):
    """What a subject (or the whole registry) accepts."""

    READWRITE = "READWRITE"
    READONLY = "READONLY"
    IMPORT = "IMPORT"


def parse_compatibility(value: object) -> Compatibility:
    if isinstance(value, str):
        try:
            return Compatibility(value.upper())
        except ValueError:
            pass
    choices = ", ".join(c.value for c in Compatibility)
    raise InvalidConfigError(f"Invalid compatibility level {value!r}; expected one of {choices}")


def parse_mode(value: object) -> Mode:
    if isinstance(value, str):
        try:
            return Mode(value.upper())
        except ValueError:
            pass
    choices = ", ".join(m.value for m in Mode)
    raise InvalidModeError(f"Invalid mode {value!r}; expected one of {choices}")


@dataclass(frozen=True, slots=True)
class SubjectConfig:
    """The effective evolution policy of one subject.

    * ``compatibility`` — what a new version must be compatible with.
    * ``drift_threshold`` — observed drift with a score at or below this is ignored.
    * ``min_samples`` — payloads a new subject needs before its first version (the pipeline
      registers it earlier, from whatever it holds, when its hold deadline passes), and the
      events a subject must have seen before a subtractive or modifying drift may change it.
    * ``min_support`` — the share of the subject's recent events (the last
      ``support_window``) that must show a subtractive or modifying change before it may
      change the schema; rarer events showing it are ``outlier`` dead letters (additive drift
      needs no support: it registers on first sight). See docs/pipeline.md.
    * ``auto_register`` — whether allowed drift becomes a version without a person.
    * ``sunset_seconds`` — how long a superseded version stays servable; ``None`` = forever.
    """

    compatibility: Compatibility = Compatibility.BACKWARD
    drift_threshold: float = 0.0
    min_samples: int = 10
    auto_register: bool = True
    sunset_seconds: int | None = 7 * 24 * 3600
    min_support: float = 0.01
    support_window: int = 1000

    def __post_init__(self) -> None:
        validate_fields(
            drift_threshold=self.drift_threshold,
            min_samples=self.min_samples,
            sunset_seconds=self.sunset_seconds,
            min_support=self.min_support,
            support_window=self.support_window,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "compatibility": self.compatibility.value,
            "drift_threshold": self.drift_threshold,
            "min_samples": self.min_samples,
            "auto_register": self.auto_register,
            "sunset_seconds": self.sunset_seconds,
            "min_support": self.min_support,
            "support_window": self.support_window,
        }


_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class ConfigPatch:
    """Stored configuration of a subject (or the global one): ``None`` fields inherit.

    ``sunset_seconds`` needs a way to say "forever" distinct from "inherit"; a stored
    negative value (``FOREVER``) means forever.
    """

    compatibility: Compatibility | None = None
    drift_threshold: float | None = None
    min_samples: int | None = None
    auto_register: bool | None = None
    sunset_seconds: int | None = None
    min_support: float | None = None
    support_window: int | None = None

    FOREVER = -1

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    def apply_to(self, base: SubjectConfig) -> SubjectConfig:
        changes: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if f.name == "sunset_seconds" and value < 0:
                value = None
            changes[f.name] = value
        return replace(base, **changes)

    def overlay(self, other: ConfigPatch) -> ConfigPatch:
        """This patch with every field ``other`` sets replaced."""
        changes = {
            f.name: getattr(other, f.name)
            for f in fields(other)
            if getattr(other, f.name) is not None
        }
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, Compatibility):
                value = value.value
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConfigPatch:
        """Validate a JSON object from the API or the store; unknown keys are refused."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidConfigError(f"unknown configuration keys: {', '.join(unknown)}")
        compat = data.get("compatibility")
        threshold = data.get("drift_threshold")
        min_samples = data.get("min_samples")
        auto = data.get("auto_register")
        support = data.get("min_support")
        window = data.get("support_window")
        sunset = data.get("sunset_seconds", _UNSET)
        if threshold is not None and (
            isinstance(threshold, bool) or not isinstance(threshold, int | float)
        ):
            raise InvalidConfigError("drift_threshold must be a number in [0, 1]")
        if min_samples is not None and (
            isinstance(min_samples, bool) or not isinstance(min_samples, int)
        ):
            raise InvalidConfigError("min_samples must be an integer >= 1")
        if auto is not None and not isinstance(auto, bool):
            raise InvalidConfigError("auto_register must be true or false")
        if support is not None and (
            isinstance(support, bool) or not isinstance(support, int | float)
        ):
            raise InvalidConfigError("min_support must be a number in [0, 1]")
        if window is not None and (isinstance(window, bool) or not isinstance(window, int)):
            raise InvalidConfigError("support_window must be an integer >= 1")
        if sunset is _UNSET:
            sunset_value: int | None = None
        elif sunset is None:
            sunset_value = cls.FOREVER  # an explicit null means "never sunset"
        elif isinstance(sunset, bool) or not isinstance(sunset, int):
            raise InvalidConfigError("sunset_seconds must be an integer >= 0 or null (forever)")
        else:
            sunset_value = sunset
        patch = cls(
            compatibility=None if compat is None else parse_compatibility(compat),
            drift_threshold=None if threshold is None else float(threshold),
            min_samples=min_samples,
            auto_register=auto,
            sunset_seconds=sunset_value,
            min_support=None if support is None else float(support),
            support_window=window,
        )
        validate_fields(
            drift_threshold=patch.drift_threshold,
            min_samples=patch.min_samples,
            min_support=patch.min_support,
            support_window=patch.support_window,
            sunset_seconds=None
            if patch.sunset_seconds in (None, cls.FOREVER)
            else patch.sunset_seconds,
        )
        return patch


def validate_fields(
    *,
    drift_threshold: float | None,
    min_samples: int | None,
    sunset_seconds: int | None,
    min_support: float | None = None,
    support_window: int | None = None,
) -> None:
    if min_support is not None and (
        not math.isfinite(min_support) or not 0.0 <= min_support <= 1.0
    ):
        raise InvalidConfigError(f"min_support must be in [0, 1], got {min_support}")
    if support_window is not None and not 1 <= support_window <= 1_000_000_000:
        raise InvalidConfigError(f"support_window must be between 1 and 1e9, got {support_window}")
    if drift_threshold is not None and (
        not math.isfinite(drift_threshold) or not 0.0 <= drift_threshold <= 1.0
    ):
        raise InvalidConfigError(f"drift_threshold must be in [0, 1], got {drift_threshold}")
    if min_samples is not None and not 1 <= min_samples <= 1_000_000_000:
        raise InvalidConfigError(f"min_samples must be between 1 and 1e9, got {min_samples}")
    if sunset_seconds is not None and not 0 <= sunset_seconds <= 100 * 365 * 86400:
        raise InvalidConfigError(
            f"sunset_seconds must be between 0 and 100 years, got {sunset_seconds}"
        )


DEFAULT_CONFIG = SubjectConfig()
