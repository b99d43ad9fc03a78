"""schemashift: learn, version, enforce and propagate the schemas of event streams.

The public names below are imported lazily, so ``import schemashift`` stays cheap and a
command that only infers schemas never loads the HTTP or bus stacks.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # Analyzer
    "Profile": "schemashift.core.profile",
    "ProfileOptions": "schemashift.core.profile",
    "infer": "schemashift.core.infer",
    "to_avro": "schemashift.core.avro",
    # Diff, drift and compatibility
    "diff": "schemashift.core.diff",
    "DriftReport": "schemashift.core.diff",
    "Change": "schemashift.core.diff",
    "ChangeCode": "schemashift.core.diff",
    "ChangeClass": "schemashift.core.diff",
    "DriftWeights": "schemashift.core.drift",
    "check_compatibility": "schemashift.core.compat",
    "CompatibilityResult": "schemashift.core.compat",
    "CompatibilityMode": "schemashift.core.compat",
    "Finding": "schemashift.core.compat",
    # Transformer
    "compile_transformer": "schemashift.core.transform",
    "Transformer": "schemashift.core.transform",
    "TransformOptions": "schemashift.core.transform",
    "Conformed": "schemashift.core.transform",
    "Rejected": "schemashift.core.transform",
    "cast": "schemashift.core.transform",
    "TransformerCache": "schemashift.core.transform",
    "Reason": "schemashift.core.transform",
    "ReasonCode": "schemashift.core.transform",
    "Coercion": "schemashift.core.transform",
    "ExtrasPolicy": "schemashift.core.transform",
    "MissingPolicy": "schemashift.core.transform",
    "dataschema_url": "schemashift.core.transform",
    "encode_confluent": "schemashift.core.transform",
    "decode_confluent": "schemashift.core.transform",
    # Canonical form
    "canonical_text": "schemashift.core.canonical",
    "fingerprint": "schemashift.core.canonical",
    # Strict parsing
    "loads": "schemashift.core.jsonparse",
    "ParseLimits": "schemashift.core.jsonparse",
    # Services
    "Registry": "schemashift.registry.service",
    "SubjectConfig": "schemashift.registry.config",
    "ConfigPatch": "schemashift.registry.config",
    "install_auth": "schemashift.security",
    "load_auth_config": "schemashift.security",
    "Subscriber": "schemashift.pipeline.subscriber",
    "SchemaUpdate": "schemashift.pipeline.envelope",
    "Worker": "schemashift.pipeline.worker",
    "OutboxRelay": "schemashift.pipeline.relay",
    "connect_bus": "schemashift.bus",
    "MemoryBus": "schemashift.bus",
    "verify_signature": "schemashift.webhooks.verify",
    "SignatureError": "schemashift.webhooks.verify",
    # Errors
    "SchemaShiftError": "schemashift.errors",
    "InvalidSchemaError": "schemashift.errors",
    "PayloadError": "schemashift.errors",
    "RegistryError": "schemashift.errors",
    "StoreError": "schemashift.errors",
    "BusError": "schemashift.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'schemashift' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
