"""The Transformer: compiled, validating conformance of payloads to a schema version.

See docs/transform.md for every coercion, policy and the metadata written.
"""

from __future__ import annotations

from schemashift.core.transform.cache import TransformerCache
from schemashift.core.transform.cast import cast
from schemashift.core.transform.options import (
    ALL_COERCIONS,
    NO_COERCIONS,
    Coercion,
    ExtrasPolicy,
    MissingPolicy,
    TransformOptions,
)
from schemashift.core.transform.result import Conformed, Reason, ReasonCode, Rejected
from schemashift.core.transform.transformer import (
    STRICT_OPTIONS,
    Transformer,
    compile_transformer,
    strict_checker,
)
from schemashift.core.transform.wire import dataschema_url, decode_confluent, encode_confluent

__all__ = [
    "ALL_COERCIONS",
    "NO_COERCIONS",
    "STRICT_OPTIONS",
    "Coercion",
    "Conformed",
    "ExtrasPolicy",
    "MissingPolicy",
    "Reason",
    "ReasonCode",
    "Rejected",
    "TransformOptions",
    "Transformer",
    "TransformerCache",
    "cast",
    "compile_transformer",
    "dataschema_url",
    "decode_confluent",
    "encode_confluent",
    "strict_checker",
]
