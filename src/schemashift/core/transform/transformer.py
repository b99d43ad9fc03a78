"""The compiled transformer: ``transformer(payload)`` and the bytes-in, bytes-out fast path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from schemashift.core.canonical import fingerprint
from schemashift.core.jsonparse import loads_object
from schemashift.core.transform.compiler import SchemaCompiler
from schemashift.core.transform.context import FAIL, Ctx, Node
from schemashift.core.transform.fastpath import FastPath, build_fast_path
from schemashift.core.transform.options import (
    NO_COERCIONS,
    ExtrasPolicy,
    MissingPolicy,
    TransformOptions,
)
from schemashift.core.transform.result import Conformed, Reason, ReasonCode, Rejected
from schemashift.errors import InvalidSchemaError, PayloadError

_ENCODE = msgspec.json.encode
FAST_PATH_AFTER = 16  # fast_path() requests before the typed decoder is built


class Transformer:
    """Conforms payloads to one version of one schema. Build it with :func:`compile_transformer`.

    Calling it never raises on bad data: it returns :class:`Conformed` or :class:`Rejected`.
    Nothing one call does is seen by the next (the typed path's scratch contexts are only
    written when a check fails, and emptied then), so one instance serves any number of
    callers, threads included.
    """

    def __init__(
        self,
        schema: Mapping[str, Any],
        *,
        version: int,
        subject: str | None = None,
        schema_id: int | None = None,
        options: TransformOptions | None = None,
    ) -> None:
        if not isinstance(schema, Mapping):
            raise InvalidSchemaError("the root schema must be a JSON object")
        self.schema: dict[str, Any] = dict(schema)
        self.version = version
        self.subject = subject
        self.schema_id = schema_id
        self.options = options if options is not None else TransformOptions()
        self.fingerprint = fingerprint(self.schema)
        self.metadata: tuple[tuple[str, Any], ...] = tuple(
            (name, value)
            for name, value in zip(
                self.options.metadata_fields, (version, schema_id, subject), strict=True
            )
            if name is not None and value is not None
        )
        ignored = frozenset(name for name, _ in self.metadata)
        compiler = SchemaCompiler(self.schema, self.options)
        self._root: Node = compiler.compile_root(ignored)
        self._check_metadata_fits(compiler)
        self._defaults = compiler.defaults
        self._fast: FastPath | None = None
        # the typed decoder is built on demand (it can cost 100 ms for a large schema, more
        # than a version that is soon replaced conforms): at once for transform_bytes and
        # has_fast_path, after FAST_PATH_AFTER requests for fast_path()
        self._fast_countdown = FAST_PATH_AFTER if self.options.typed_fast_path else 0

    def _build_fast(self) -> FastPath | None:
        if self._fast_countdown > 0:
            self._fast_countdown = 0
            self._fast = build_fast_path(self.schema, self.options, self.metadata, self._defaults)
        return self._fast

    @property
    def has_fast_path(self) -> bool:
        """Whether raw bytes of conforming payloads are decoded as typed structs in C."""
        return self._build_fast() is not None

    def fast_path(self) -> FastPath | None:
        """The typed bytes-in, bytes-out path (``FastPath.transform(raw)`` gives the conformed
        bytes, or None when the payload needs the Python path), once this transformer has
        been asked for it ``FAST_PATH_AFTER`` times; None before, or when the schema has none.
        A stream worker asks per event, so a version replaced after a few events never pays
        for building it."""
        if self._fast_countdown > 0:
            self._fast_countdown -= 1
            if self._fast_countdown == 0:
                self._fast_countdown = 1
                return self._build_fast()
        return self._fast

    def __call__(self, payload: Any) -> Conformed | Rejected:
        """Conform an already-decoded payload (a dict); the input is never modified."""
        if not isinstance(payload, dict):
            return self._rejected(ReasonCode.NOT_AN_OBJECT, "the payload must be a JSON object")
        ctx = Ctx()
        try:
            out = self._root(payload, ctx)
        except RecursionError:
            return self._rejected(ReasonCode.TOO_DEEP, "the payload is nested too deeply")
        if out is FAIL:
            return Rejected(ctx.finish(), self.version)
        for name, value in self.metadata:
            out[name] = value
        return Conformed(out, self.version)

    def transform_json(self, raw: bytes | bytearray | memoryview | str) -> Conformed | Rejected:
        """Parse strictly (``schemashift.core.jsonparse``), then conform."""
        try:
            payload = loads_object(raw, self.options.limits)
        except PayloadError as exc:
            return self._rejected(ReasonCode(exc.code), exc.message)
        return self(payload)

    def transform_bytes(self, raw: bytes | bytearray | memoryview | str) -> bytes | Rejected:
        """Raw JSON bytes in, conformed JSON bytes out: the steady-state fast path.

        A payload the typed decoder accepts costs one C decode and one C encode; anything it
        refuses (coercions, defaults it cannot fill, extras, bad JSON) takes the Python path,
        which gives the same bytes or a rejection with reasons.
        """
        fast = self._build_fast() if self._fast_countdown else self._fast
        if fast is not None and type(raw) is bytes:
            out = fast.transform(raw)
            if out is not None:
                return out
        result = self.transform_json(raw)
        if isinstance(result, Rejected):
            return result
        return _ENCODE(result.payload)

    def _rejected(self, code: ReasonCode, message: str) -> Rejected:
        return Rejected((Reason(code, "", message),), self.version)

    def _check_metadata_fits(self, compiler: SchemaCompiler) -> None:
        # a schema that declares a metadata field must accept the value written into it
        declared = self.schema.get("properties")
        if not isinstance(declared, dict):
            return
        for name, value in self.metadata:
            if name in declared:
                node = compiler.compile(declared[name], f"#/properties/{name}")
                if node(value, Ctx(validate=True)) is FAIL:
                    raise InvalidSchemaError(
                        f"metadata field {name!r} is declared by the schema but {value!r} is "
                        "not valid there; rename or turn off the metadata field"
                    )


def compile_transformer(
    schema: Mapping[str, Any],
    *,
    version: int,
    subject: str | None = None,
    schema_id: int | None = None,
    options: TransformOptions | None = None,
) -> Transformer:
    """Compile ``schema`` (JSON Schema 2020-12) into a :class:`Transformer`.

    Raises :class:`~schemashift.errors.InvalidSchemaError` for a schema it cannot use (remote
    ``$ref``, a pattern that does not compile, an invalid ``default``).
    """
    return Transformer(
        schema, version=version, subject=subject, schema_id=schema_id, options=options
    )


#: What :func:`strict_checker` compiles with: nothing is coerced, filled, defaulted or
#: dropped, and a field the schema does not declare is refused even where the schema is open.
STRICT_OPTIONS = TransformOptions(
    coercions=NO_COERCIONS,
    extras=ExtrasPolicy.REJECT,
    closed_extras=ExtrasPolicy.REJECT,
    missing=MissingPolicy.STRICT,
    use_defaults=False,
    version_field=None,
    typed_fast_path=False,
)


def strict_checker(schema: Mapping[str, Any]) -> Transformer:
    """A transformer that accepts a payload only if it needs nothing from the schema.

    ``Conformed`` means the payload is valid exactly as it is and every field it carries is
    declared; ``Rejected`` lists every reason it is not (a missing required field, a field
    the version does not know, a type, an enum value…). The pipeline uses it to tell a
    payload the current version already describes from one that is drift, even when the
    ordinary transformer could conform it (by a coercion, a ``null`` fill or keeping an extra).
    """
    return Transformer(schema, version=0, options=STRICT_OPTIONS)
