"""What a transformer returns: a conformed payload, or a rejection with its reasons.

Bad data is never an exception. Every reason carries a stable :class:`ReasonCode`, the JSON
Pointer of the offending value in the *input* payload, and a sentence for humans.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ReasonCode(StrEnum):
    """Stable, machine-readable rejection codes (also used as dead-letter reasons)."""

    # the bytes could not be parsed (mirrors schemashift.core.jsonparse.ParseCode)
    MALFORMED_JSON = "malformed_json"
    INVALID_UTF8 = "invalid_utf8"
    LONE_SURROGATE = "lone_surrogate"
    NAN_OR_INFINITY = "nan_or_infinity"
    NUMBER_OUT_OF_RANGE = "number_out_of_range"
    INTEGER_TOO_LONG = "integer_too_long"
    DUPLICATE_KEY = "duplicate_key"
    TOO_DEEP = "too_deep"
    TOO_LARGE = "too_large"
    TOO_MANY_KEYS = "too_many_keys"
    NOT_AN_OBJECT = "not_an_object"
    # a value is not JSON at all (a Python payload holding a set, a NaN float, ...)
    NOT_JSON = "not_json"
    # the payload does not fit the schema and no enabled lossless coercion fixes it
    TYPE_MISMATCH = "type_mismatch"
    REQUIRED_MISSING = "required_missing"
    EXTRA_FIELD = "extra_field"
    ENUM_MISMATCH = "enum_mismatch"
    CONST_MISMATCH = "const_mismatch"
    OUT_OF_RANGE = "out_of_range"
    NOT_MULTIPLE_OF = "not_multiple_of"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    PATTERN_MISMATCH = "pattern_mismatch"
    TOO_FEW_ITEMS = "too_few_items"
    TOO_MANY_ITEMS = "too_many_items"
    ITEMS_NOT_UNIQUE = "items_not_unique"
    CONTAINS_MISMATCH = "contains_mismatch"
    TOO_FEW_PROPERTIES = "too_few_properties"
    TOO_MANY_PROPERTIES = "too_many_properties"
    DEPENDENCY_MISSING = "dependency_missing"
    PROPERTY_NAME_INVALID = "property_name_invalid"
    NO_BRANCH_MATCHES = "no_branch_matches"
    AMBIGUOUS_BRANCHES = "ambiguous_branches"
    MATCHES_FORBIDDEN_SCHEMA = "matches_forbidden_schema"
    CONDITION_FAILED = "condition_failed"
    FALSE_SCHEMA = "false_schema"


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason a payload was rejected: ``code``, JSON Pointer ``path``, ``message``."""

    code: ReasonCode
    path: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": str(self.code), "path": self.path, "message": self.message}


@dataclass(frozen=True, slots=True)
class Conformed:
    """A payload that is valid under version ``version`` of the schema (metadata included)."""

    payload: dict[str, Any]
    version: int

    @property
    def ok(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Rejected:
    """A payload that cannot be made valid without loss; never emitted, dead-lettered instead."""

    reasons: tuple[Reason, ...]
    version: int

    def __post_init__(self) -> None:
        if not self.reasons:
            raise ValueError("a rejection needs at least one reason")

    @property
    def ok(self) -> bool:
        return False

    @property
    def code(self) -> ReasonCode:
        """The first reason's code: the one-word summary for a dead-letter header."""
        return self.reasons[0].code

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "reasons": [r.to_dict() for r in self.reasons]}
