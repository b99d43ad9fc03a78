"""Where the shared data lives, and the rule for missing real components.

On a developer's laptop a missing component (the shared corpus, PostgreSQL, NATS, chromium)
skips its tests with a clear message; under ``CI=true`` the same absence fails them, because a
skipped integration suite is not a green run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = REPO_ROOT.parent / "shared"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> NoReturn:
    """Skip on a laptop, fail in CI."""
    if in_ci():
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def shared_dir() -> Path:
    if not (SHARED_DIR / "corpus").is_dir():
        unavailable(f"shared data not found at {SHARED_DIR} (expected beside the repository)")
    return SHARED_DIR


def corpus_files() -> list[Path]:
    """Every payload file of the shared corpus (JSON Lines), sorted."""
    root = shared_dir() / "corpus"
    return sorted(p for p in root.glob("*/*.jsonl") if p.parent.name != "provenance")
