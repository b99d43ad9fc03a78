"""The steady state in C: typed decode of raw bytes, re-encode, metadata appended.

Typed decoders are tried in turn: the *strict* one accepts only payloads that are already
valid (its walker at most fills defaults); the *lenient* ones also accept values that an
enabled coercion may fix (first numbers, booleans and times sent as text or epochs, then
also numbers sent for text), and their walkers mend exactly those. When all refuse, ``transform`` returns ``None`` and the caller takes the Python path, which gives
the same bytes or a rejection with reasons.

What keeps the typed paths as strict as ``schemashift.core.jsonparse``:

* duplicate keys: when the re-encoded payload is byte for byte the input (a producer that
  writes compact JSON in the schema's order, the usual steady state), the input has one
  value per key, decided by one ``memcmp``. Otherwise: a decoded struct keeps one value per key, so a duplicate makes the output
  shorter by at least the duplicate's colon. Every key has exactly one colon token, and
  string contents are copied, so without duplicates the output has exactly the input's
  colons plus those the walker added. Counting one byte is a C ``memchr`` loop. The one way
  an extra colon can appear, a ``\\u003a`` escape, is looked for only when the input has a
  backslash at all.
* limits: the byte size; the key count (at most the colon count); the nesting depth, which
  the types bound, and inside a value typed ``Any`` the walker measures (against the limit
  minus the deepest typed level, so a payload near the limit takes the Python path).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import msgspec

from schemashift.core.transform.fasttypes import FastType, FastTypeBuilder
from schemashift.core.transform.options import TransformOptions
from schemashift.core.transform.walkers import Refused, Unsupported

_REFUSALS: Final = (
    msgspec.ValidationError,
    msgspec.DecodeError,
    UnicodeDecodeError,
    RecursionError,
    Refused,
)


# Payloads a lenient decoder goes first for, before the strict one gets the next try: a
# producer that always needs coercions pays a refused strict decode once per this many
# events, one that sent a single untidy payload returns to the strict path this soon.
_RETRY_STRICT_AFTER = 64


class _Decoder:
    __slots__ = ("decode", "walker")

    def __init__(self, built: FastType) -> None:
        self.decode: Callable[[bytes], Any] = msgspec.json.Decoder(built.annotation).decode
        self.walker = built.walker


class FastPath:
    """Typed decoders built from the schema; ``None`` from ``transform`` means "slow path"."""

    def __init__(
        self,
        decoders: list[_Decoder],
        options: TransformOptions,
        metadata: tuple[tuple[str, Any], ...],
    ) -> None:
        self._decoders = decoders
        # Which decoder to try first. Any decoder that accepts a payload gives the same bytes
        # (a lenient one accepts more, and its walker mends only what the strict one would
        # have refused; property-tested), so the order only decides the cost.
        self._first = 0
        self._lenient_run = 0
        self._encode = msgspec.json.encode
        limits = options.limits
        self._max_bytes = limits.max_bytes
        self._max_keys = limits.max_keys
        self._check_duplicates = limits.reject_duplicate_keys
        meta = msgspec.json.encode(dict(metadata)) if metadata else b""
        self._meta_alone = meta
        self._meta_tail = b"," + meta[1:] if metadata else b""

    def transform(self, raw: bytes) -> bytes | None:
        max_bytes = self._max_bytes
        if max_bytes is not None and len(raw) > max_bytes:
            return None
        decoders = self._decoders
        if self._first:
            # a lenient decoder is slower on tidy payloads: after a while, strict first again
            self._lenient_run += 1
            if self._lenient_run >= _RETRY_STRICT_AFTER:
                self._first = self._lenient_run = 0
        first = decoders[self._first]
        try:
            # the decoder that took the last payload, inline: the steady state pays no loop
            # and no extra call, and a producer that always needs a coercion does not pay a
            # refused strict decode (and its exception) for every event
            value = first.decode(raw)
            walker = first.walker
            added = walker(value) if walker is not None else 0
        except _REFUSALS:
            for index, decoder in enumerate(decoders):
                if decoder is first:
                    continue
                try:
                    value = decoder.decode(raw)
                    added = decoder.walker(value) if decoder.walker is not None else 0
                    self._first = index
                    break
                except _REFUSALS:
                    continue
            else:
                return None
        body = self._encode(value)
        max_keys = self._max_keys
        if body == raw and (max_keys is None or len(raw) <= 4 * max_keys):
            # the input is byte for byte the encoding of what was decoded, which has one value
            # per key, so it has no duplicate; and every key takes at least 4 bytes ("":0,)
            pass
        else:
            colons = raw.count(b":")
            if max_keys is not None and colons > max_keys:
                return None  # perhaps too many keys: the Python path counts them exactly
            if self._check_duplicates and (
                colons + added != body.count(b":")
                or (raw.find(b"\\") != -1 and (b"\\u003a" in raw or b"\\u003A" in raw))
            ):
                return None
        tail = self._meta_tail
        if not tail:
            return body
        if len(body) == 2:  # b"{}"
            return self._meta_alone
        return body[:-1] + tail


def build_fast_path(
    schema: Mapping[str, Any],
    options: TransformOptions,
    metadata: tuple[tuple[str, Any], ...],
    defaults: dict[int, Any] | None = None,
) -> FastPath | None:
    """The typed fast path for ``schema``, or ``None`` when it uses what msgspec cannot check."""
    ignored = frozenset(name for name, _ in metadata)
    decoders: list[_Decoder] = []
    widened = 0
    for lenient in (0, 1, 2):
        builder = FastTypeBuilder(dict(schema), options, ignored, lenient, defaults)
        try:
            built = builder.build_root()
        except Unsupported:
            if lenient:
                break
            return None
        if lenient and builder.widened == widened:
            continue  # nothing more was widened: it would refuse what the one before refuses
        widened = builder.widened
        try:
            decoders.append(_Decoder(built))
        except (TypeError, ValueError):
            # msgspec refused the types (a combination it does not support): Python path
            if lenient:
                break
            return None
    return FastPath(decoders, options, metadata)
