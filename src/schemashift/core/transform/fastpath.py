"""Placeholder: typed fast path (filled in below)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemashift.core.transform.options import TransformOptions


class FastPath:
    def transform(self, raw: bytes) -> bytes | None:
        return None


def build_fast_path(
    schema: Mapping[str, Any], options: TransformOptions, metadata: tuple[tuple[str, Any], ...]
) -> FastPath | None:
    return None
