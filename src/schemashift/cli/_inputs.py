"""Reading a CLI side: a JSON Schema file, or a JSON Lines sample file inferred on the fly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemashift.core.jsonparse import DEFAULT_LIMITS, DuplicateKeys, ParseLimits, loads
from schemashift.errors import PayloadError

SAMPLE_SUFFIXES = (".jsonl", ".ndjson")

# A schema file refuses a repeated key: which of its two values would the schema mean? Sample
# lines are event payloads and keep the last value (DEFAULT_LIMITS), as infer and the worker do.
SCHEMA_LIMITS = ParseLimits(duplicate_keys=DuplicateKeys.REJECT)


class InputError(Exception):
    """A command-line input that cannot be used (the command exits with 2)."""


@dataclass(frozen=True)
class Side:
    schema: Any
    profile: Any = None  # the Profile of the samples, when the side was a sample file
    count: int | None = None


def read_side(path_text: str) -> Side:
    path = Path(path_text)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path_text}: {exc.strerror or exc}") from None
    if path.suffix.lower() not in SAMPLE_SUFFIXES:
        try:
            schema = loads(data, SCHEMA_LIMITS)
        except PayloadError as exc:
            if b"\n" not in data.strip():
                raise InputError(f"{path_text}: not JSON ({exc.message})") from None
        else:
            if not isinstance(schema, dict | bool):
                raise InputError(f"{path_text}: a schema must be a JSON object or boolean")
            return Side(schema)
    return _samples(path_text, data)


def _samples(path_text: str, data: bytes) -> Side:
    from schemashift.core.profile import Profile

    profile = Profile()
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            payload = loads(line, DEFAULT_LIMITS)
        except PayloadError as exc:
            raise InputError(f"{path_text}:{number}: {exc.message}") from None
        if not isinstance(payload, dict):
            raise InputError(f"{path_text}:{number}: a payload must be a JSON object")
        profile.add(payload)
    if profile.count == 0:
        raise InputError(f"{path_text}: no payloads")
    return Side(profile.finish(), profile, profile.count)
