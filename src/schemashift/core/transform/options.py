"""How a transformer conforms payloads: coercions, missing and extra fields, metadata.

Every choice is a field of the frozen, hashable :class:`TransformOptions`, so compiled
transformers can be cached by ``(schema fingerprint, options)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from schemashift.core.jsonparse import DEFAULT_LIMITS, ParseLimits


class Coercion(StrEnum):
    """The lossless coercions; each can be switched off (see docs/transform.md)."""

    STRING_TO_INTEGER = "string_to_integer"  # "42" -> 42 (integer grammar only, no "042")
    STRING_TO_NUMBER = "string_to_number"  # "4.5" -> 4.5 when the double keeps every digit
    NUMBER_TO_STRING = "number_to_string"  # 42 -> "42", 4.5 -> "4.5"
    FLOAT_TO_INTEGER = "float_to_integer"  # 1.0 -> 1 (integral doubles up to 2**53)
    STRING_TO_BOOLEAN = "string_to_boolean"  # "true"/"false" -> true/false
    EPOCH_TO_DATETIME = "epoch_to_datetime"  # 1700000000 / 1700000000000 -> RFC 3339


ALL_COERCIONS: frozenset[Coercion] = frozenset(Coercion)


class ExtrasPolicy(StrEnum):
    """What happens to a field the schema does not declare."""

    KEEP = "keep"
    DROP = "drop"
    REJECT = "reject"


class MissingPolicy(StrEnum):
    """What happens to a declared field the payload lacks (after ``default`` is tried).

    * ``OMIT``: an optional field stays absent; a required one becomes ``null`` when the
      schema allows null, else the payload is rejected.
    * ``FILL``: every absent declared field becomes ``null`` where allowed; required fields
      that cannot be filled are rejected, optional ones stay absent.
    * ``REJECT``: like ``FILL``, but an absent optional field that cannot be filled is
      rejected too (every declared field must be present in the output).
    * ``STRICT``: nothing is filled, not even ``default`` or ``null``: an absent required
      field is rejected, an absent optional one stays absent (the payload as it is must be
      valid; used by :func:`~schemashift.core.transform.strict_checker`).
    """

    OMIT = "omit"
    FILL = "fill"
    REJECT = "reject"
    STRICT = "strict"


@dataclass(frozen=True, slots=True)
class TransformOptions:
    """The knobs of a transformer. Defaults are what a stream pipeline wants.

    ``extras`` applies where the schema allows undeclared fields (``additionalProperties``
    absent or ``true``); ``closed_extras`` where it forbids them (``false``) and can only be
    ``DROP`` or ``REJECT``, because keeping them would emit an invalid payload. Map entries
    described by an ``additionalProperties`` or ``patternProperties`` schema are not extras:
    they are conformed to that schema.

    Metadata fields are written at the top level of every conformed payload, after its own
    fields; ``None`` turns one off. The schema id and subject are off by default because the
    envelope (CloudEvents ``dataschema``, the Confluent wire header) already carries them.
    """

    coercions: frozenset[Coercion] = ALL_COERCIONS
    extras: ExtrasPolicy = ExtrasPolicy.KEEP
    closed_extras: ExtrasPolicy = ExtrasPolicy.DROP
    missing: MissingPolicy = MissingPolicy.OMIT
    use_defaults: bool = True
    version_field: str | None = "schemaVersion"
    schema_id_field: str | None = None
    subject_field: str | None = None
    limits: ParseLimits = DEFAULT_LIMITS
    typed_fast_path: bool = True

    def __post_init__(self) -> None:
        # accept the enums' string values too ("drop"), and store the enum members, so the
        # compiled code can compare by identity and equal options hash equal
        object.__setattr__(self, "extras", ExtrasPolicy(self.extras))
        object.__setattr__(self, "closed_extras", ExtrasPolicy(self.closed_extras))
        object.__setattr__(self, "missing", MissingPolicy(self.missing))
        object.__setattr__(self, "coercions", frozenset(Coercion(c) for c in self.coercions))
        if self.closed_extras is ExtrasPolicy.KEEP:
            raise ValueError("closed_extras cannot be KEEP: the output would be invalid")
        names = [n for n in self.metadata_fields if n is not None]
        if len(set(names)) != len(names):
            raise ValueError(f"metadata field names must differ, got {names}")

    @property
    def metadata_fields(self) -> tuple[str | None, str | None, str | None]:
        return (self.version_field, self.schema_id_field, self.subject_field)

    def allows(self, coercion: Coercion) -> bool:
        return coercion in self.coercions


NO_COERCIONS: frozenset[Coercion] = frozenset()
