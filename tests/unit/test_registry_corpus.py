"""Auto-registration on real data: feeding corpus files through ``Registry.observe`` in
batches under the default configuration registers versions as inference grows more
confident (formats, enums, bounds, tagged unions appear) and quarantines nothing that
every payload seen still validates against."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from schemashift.registry.records import Decision
from schemashift.registry.testing import memory_registry
from tests.support.environment import shared_dir, unavailable

FILES = ["github/push.jsonl", "github/pull_request.jsonl", "stripe/event.jsonl"]
BATCH = 10


def payloads(relative: str) -> list[dict[str, Any]]:
    path: Path = shared_dir() / "corpus" / relative
    if not path.is_file():
        unavailable(f"corpus file {relative} is missing")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.parametrize("relative", FILES)
def test_corpus_feed_registers_versions_and_quarantines_nothing_compatible(
    relative: str,
) -> None:
    """Batches of real events register a first version and later ones; a batch is only
    quarantined if some payload seen so far fails the proposed schema (it never does here:
    the proposal is inferred from all of them), so no quarantine at all."""
    rows = payloads(relative)
    registry = memory_registry()
    decisions: list[Decision] = []
    for start in range(0, len(rows), BATCH):
        result = registry.observe("feed", rows[start : start + BATCH])
        decisions.append(result.decision)
        if result.decision is Decision.QUARANTINED:
            item = registry.get_quarantine(result.quarantine_id or 0)
            check = Draft202012Validator(item.schema, format_checker=FormatChecker())
            invalid = [p for p in rows[: start + BATCH] if not check.is_valid(p)]
            assert invalid, (
                f"batch {start}: quarantined though backward compatible for the data seen: {result.reasons[:3]}"
            )
    assert Decision.QUARANTINED not in decisions
    versions = registry.list_versions("feed")
    assert len(versions) >= 2, decisions  # inference grew more confident and it registered
