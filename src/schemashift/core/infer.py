"""One-call inference: payloads in, JSON Schema 2020-12 out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from schemashift.core.profile import Profile, ProfileOptions


def infer(
    payloads: Iterable[Mapping[str, Any]], options: ProfileOptions | None = None
) -> dict[str, Any]:
    """The schema every payload validates against (see docs/inference.md for the rules)."""
    return Profile(options).update(payloads).finish()
