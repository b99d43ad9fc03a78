"""Property names JSON allows but msgspec cannot rename still transform (Python path)."""

from __future__ import annotations

import pytest

from schemashift import compile_transformer
from schemashift.core.transform import Conformed


@pytest.mark.parametrize("name", ['a"b', "a\\b", "a\x01b", "\x1f"])
def test_awkward_property_names_compile_and_conform(name: str) -> None:
    """A quote, backslash or control character in a property name must not make
    compile_transformer raise (it once did, from msgspec.defstruct's rename check)."""
    schema = {"type": "object", "properties": {name: {"type": "integer"}}, "required": [name]}
    transformer = compile_transformer(schema, version=1)
    assert not transformer.has_fast_path
    result = transformer({name: "42"})
    assert isinstance(result, Conformed)
    assert result.payload[name] == 42
