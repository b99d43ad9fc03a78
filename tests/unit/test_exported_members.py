"""The curated public API: every name in schemashift.__all__ resolves."""

from __future__ import annotations

import pytest

import schemashift


@pytest.mark.parametrize("name", schemashift.__all__)
def test_public_name_resolves(name: str) -> None:
    assert getattr(schemashift, name) is not None


def test_unknown_name_raises_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = schemashift.definitely_not_exported  # type: ignore[attr-defined]
