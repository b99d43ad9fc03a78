"""A cache of compiled transformers that the caller owns (no module-level state)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from schemashift.core.canonical import fingerprint
from schemashift.core.transform.options import TransformOptions
from schemashift.core.transform.transformer import Transformer

CacheKey = tuple[str, int, str | None, int | None, TransformOptions]


class TransformerCache:
    """Compiles each ``(schema fingerprint, version, subject, id, options)`` once.

    Least-recently-used entries beyond ``max_entries`` are evicted. Not thread-safe by
    itself: a multi-threaded caller guards ``get`` with its own lock (compiling twice is
    harmless, only wasted work).
    """

    def __init__(self, max_entries: int = 1024) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._entries: OrderedDict[CacheKey, Transformer] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(
        self,
        schema: Mapping[str, Any],
        *,
        version: int,
        subject: str | None = None,
        schema_id: int | None = None,
        options: TransformOptions | None = None,
        schema_fingerprint: str | None = None,
    ) -> Transformer:
        """The transformer for these arguments, compiled on first use.

        Pass ``schema_fingerprint`` when it is known (the registry stores it) to skip hashing
        the schema on every call.
        """
        resolved = options if options is not None else TransformOptions()
        key: CacheKey = (
            schema_fingerprint if schema_fingerprint is not None else fingerprint(schema),
            version,
            subject,
            schema_id,
            resolved,
        )
        entry = self._entries.get(key)
        if entry is not None:
            self.hits += 1
            self._entries.move_to_end(key)
            return entry
        self.misses += 1
        entry = Transformer(
            schema, version=version, subject=subject, schema_id=schema_id, options=resolved
        )
        self._entries[key] = entry
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return entry

    def clear(self) -> None:
        self._entries.clear()
