"""Inference over every real payload file of the shared corpus (GitHub and Stripe webhooks).

Pins, per file: 100 % soundness (every payload validates against the schema inferred from
its file, formats checked), independence from order and from split/merge, a valid Avro
export, that map-keyed objects (GitHub ``changes``, Stripe ``metadata``, ids used as keys)
do not explode into per-key properties, and that no enum is single-valued or holds a value
with a format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastavro
import pytest
from jsonschema import Draft202012Validator

from schemashift.core.avro import to_avro
from schemashift.core.formats import detect
from schemashift.core.jsonparse import loads_object
from schemashift.core.profile import Profile
from tests.unit.test_profile_properties import validator_for

pytestmark = pytest.mark.corpus

MAP_NAMES = {"changes", "metadata"}


def load(path: Path) -> list[dict[str, Any]]:
    return [loads_object(line) for line in path.read_bytes().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def inferred(corpus_files: list[Path]) -> dict[Path, tuple[list[dict[str, Any]], Profile]]:
    """Each corpus file's payloads and their profile, computed once for this module."""
    return {
        path: (payloads, Profile().update(payloads))
        for path in corpus_files
        for payloads in [load(path)]
    }


def named_subschemas(schema: Any, names: set[str], path: str = "") -> list[tuple[str, Any]]:
    """Every (path, schema) found under a property whose name is in ``names``."""
    found: list[tuple[str, Any]] = []
    if isinstance(schema, dict):
        for key, sub in schema.get("properties", {}).items():
            if key in names:
                found.append((f"{path}/{key}", sub))
            found += named_subschemas(sub, names, f"{path}/{key}")
        for keyword in ("items", "additionalProperties"):
            found += named_subschemas(schema.get(keyword), names, f"{path}/*")
        for keyword in ("anyOf", "oneOf", "prefixItems"):
            for sub in schema.get(keyword, []):
                found += named_subschemas(sub, names, path)
    return found


def enums_in(schema: Any, path: str = "") -> list[tuple[str, list[Any]]]:
    """Every (path, enum) of a schema, wherever it sits (properties, items, unions)."""
    found: list[tuple[str, list[Any]]] = []
    if isinstance(schema, dict):
        if "enum" in schema:
            found.append((path, schema["enum"]))
        for key, sub in schema.items():
            if key in ("properties", "$defs"):
                for name, prop in sub.items():
                    found += enums_in(prop, f"{path}/{name}")
            elif key in ("items", "additionalProperties"):
                found += enums_in(sub, f"{path}/*")
            elif key in ("anyOf", "oneOf", "prefixItems"):
                for branch in sub:
                    found += enums_in(branch, path)
    return found


def object_branches(schema: Any) -> list[dict[str, Any]]:
    if not isinstance(schema, dict):
        return []
    if "anyOf" in schema:
        return [b for s in schema["anyOf"] for b in object_branches(s)]
    types = schema.get("type")
    is_object = types == "object" or (isinstance(types, list) and "object" in types)
    return [schema] if is_object else []


def test_corpus_is_present(corpus_files: list[Path]) -> None:
    """The corpus holds both vendors (so the tests below cannot pass vacuously)."""
    folders = {p.parent.name for p in corpus_files}
    assert {"github", "stripe"} <= folders
    assert len(corpus_files) >= 70


@pytest.mark.slow
def test_every_payload_validates_against_its_file_schema(
    inferred: dict[Path, tuple[list[dict[str, Any]], Profile]],
) -> None:
    """Soundness 100 %: no payload of any file is rejected by the schema inferred from it."""
    failures: list[str] = []
    for path, (payloads, profile) in inferred.items():
        schema = profile.finish()
        Draft202012Validator.check_schema(schema)
        validator = validator_for(schema)
        for number, payload in enumerate(payloads, start=1):
            for error in validator.iter_errors(payload):
                failures.append(f"{path.name}:{number}: {error.json_path}: {error.message[:120]}")
    assert not failures, "\n".join(failures[:20])


@pytest.mark.slow
def test_order_and_split_do_not_change_the_result(
    inferred: dict[Path, tuple[list[dict[str, Any]], Profile]],
) -> None:
    """Reversed files, and halves merged either way round, give the same schema and profile."""
    for path, (payloads, whole) in inferred.items():
        half = len(payloads) // 2
        left, right = Profile().update(payloads[:half]), Profile().update(payloads[half:])
        assert right.merge(left).to_dict() == whole.to_dict(), path.name
        assert Profile().update(reversed(payloads)).finish() == whole.finish(), path.name


def test_map_keyed_objects_do_not_explode(
    inferred: dict[Path, tuple[list[dict[str, Any]], Profile]],
) -> None:
    """GitHub `changes` and Stripe `metadata` objects are maps, never per-key properties."""
    checked = 0
    for path, (_, profile) in inferred.items():
        schema = profile.finish()
        for where, sub in named_subschemas(schema, MAP_NAMES):
            for branch in object_branches(sub):
                checked += 1
                assert "properties" not in branch, f"{path.name}{where} became a record"
    assert checked >= 20


def test_enums_have_two_values_and_none_with_a_format(
    inferred: dict[Path, tuple[list[dict[str, Any]], Profile]],
) -> None:
    """The enum evidence rule on real data: no enum of any file's schema is single-valued
    (null aside) or holds an e-mail address, URL, timestamp or other format-bearing value,
    and genuine vocabularies (GitHub `action`, Stripe `status`...) are still found."""
    checked = 0
    for path, (_, profile) in inferred.items():
        for where, values in enums_in(profile.finish()):
            strings = [v for v in values if v is not None]
            checked += 1
            assert len(strings) >= 2, f"{path.name}{where}: single-valued enum {values}"
            bearing = [v for v in strings if detect(v)]
            assert not bearing, f"{path.name}{where}: enum with formats {bearing}"
    assert checked >= 50


def test_avro_export_of_every_file_parses(
    inferred: dict[Path, tuple[list[dict[str, Any]], Profile]],
) -> None:
    """Each file's schema exports to an Avro schema fastavro accepts."""
    for path, (_, profile) in inferred.items():
        fastavro.parse_schema(to_avro(profile.finish(), path.stem))


def test_real_formats_and_unions_are_found(
    inferred: dict[Path, tuple[list[dict[str, Any]], Profile]],
) -> None:
    """Real data yields formats (GitHub URLs and timestamps) and tagged unions by `action`."""
    by_name = {f"{p.parent.name}/{p.name}": profile for p, (_, profile) in inferred.items()}
    issues = by_name["github/issues.jsonl"].finish()
    assert {b["properties"]["action"]["const"] for b in issues["oneOf"]} >= {"opened", "edited"}
    repo = issues["properties"]["repository"]["properties"]
    assert repo["html_url"]["format"] == "uri"
    assert "created_at" in repo
