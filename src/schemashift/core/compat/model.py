"""Values of the compatibility checker: modes, policies, findings, results."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class CompatibilityMode(StrEnum):
    """Confluent's compatibility modes (BACKWARD = data written with old is valid under new)."""

    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def transitive(self) -> bool:
        return self.value.endswith("_TRANSITIVE")

    @property
    def backward(self) -> bool:
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        return self.value.startswith(("FORWARD", "FULL"))


class Policy(StrEnum):
    """How the writer's *undeclared* properties (an open content model) are treated.

    - ``strict``: an open writer may have emitted any value under any undeclared name, so a
      reader that declares a new property (or closes the model) can reject old data. Sound.
    - ``lenient``: a producer emits only the properties its schema declares; undeclared
      names under an *implicit* open model (no ``additionalProperties`` keyword) are assumed
      absent. Explicit ``additionalProperties: true`` or a schema is still honoured. Not sound
      for producers that do emit undeclared properties — use ``observed`` to know.
    - ``observed``: like ``strict``, except that the profile of the data actually seen (the
      writer's data) is evidence: an undeclared name never observed, or observed only with
      values the reader accepts, is not a finding; nor is a reader constraint the writer
      lacks when every value seen at that path meets it (the exact distinct sample validated
      one by one; every string matching a ``format``; the extremes seen within bounds and
      lengths; a property present in every object seen; only accepted types seen); nor is
      any finding when the reader *is* the profile's inferred schema (every profiled payload
      validates against it). Sound for everything the profile covers; paths with no
      observation, property names and disjointness proofs use no evidence.
    """

    STRICT = "strict"
    LENIENT = "lenient"
    OBSERVED = "observed"


class FindingCode(StrEnum):
    """Stable codes of incompatibilities (what the reader may reject)."""

    READER_REJECTS_ALL = "reader_rejects_all"
    TYPE_NARROWED = "type_narrowed"
    VALUE_REJECTED = "value_rejected"
    ENUM_RESTRICTED = "enum_restricted"
    CONST_RESTRICTED = "const_restricted"
    MINIMUM_RAISED = "minimum_raised"
    MAXIMUM_LOWERED = "maximum_lowered"
    MULTIPLE_OF_CHANGED = "multiple_of_changed"
    MIN_LENGTH_RAISED = "min_length_raised"
    MAX_LENGTH_LOWERED = "max_length_lowered"
    PATTERN_CHANGED = "pattern_changed"
    FORMAT_CHANGED = "format_changed"
    REQUIRED_ADDED = "required_added"
    PROPERTY_REJECTED = "property_rejected"
    ADDITIONAL_PROPERTIES_NARROWED = "additional_properties_narrowed"
    MIN_PROPERTIES_RAISED = "min_properties_raised"
    MAX_PROPERTIES_LOWERED = "max_properties_lowered"
    PROPERTY_NAMES_NARROWED = "property_names_narrowed"
    DEPENDENT_REQUIRED_ADDED = "dependent_required_added"
    MIN_ITEMS_RAISED = "min_items_raised"
    MAX_ITEMS_LOWERED = "max_items_lowered"
    UNIQUE_ITEMS_ADDED = "unique_items_added"
    CONTAINS_ADDED = "contains_added"
    ANY_OF_NO_BRANCH = "any_of_no_branch"
    ONE_OF_AMBIGUOUS = "one_of_ambiguous"
    NOT_OVERLAPS = "not_overlaps"
    CONDITIONAL_UNPROVEN = "conditional_unproven"
    UNSUPPORTED_KEYWORD = "unsupported_keyword"
    TOO_COMPLEX = "too_complex"


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason the reader may reject data the writer allows.

    ``path`` is the location in the event (JSON Pointer, ``*`` for any array element or map
    value); a finding is a value, never an exception.
    """

    path: str
    code: FindingCode
    message: str
    direction: str = ""  # "backward" / "forward" in a FULL check, "" otherwise

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "code": str(self.code), "message": self.message}
        if self.direction:
            data["direction"] = self.direction
        return data


@dataclass(frozen=True, slots=True)
class CompatibilityResult:
    """The verdict: ``compatible`` exactly when there are no findings."""

    compatible: bool
    findings: tuple[Finding, ...] = ()

    def __bool__(self) -> bool:
        return self.compatible

    def to_dict(self) -> dict[str, Any]:
        return {"compatible": self.compatible, "findings": [f.to_dict() for f in self.findings]}
