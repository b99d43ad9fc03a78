"""Envelopes around conformed payloads: the Confluent wire format and CloudEvents ``dataschema``.

Confluent framing is what Kafka serializers of Confluent Schema Registry write: one magic
byte ``0x00``, the global schema id as a 4-byte big-endian unsigned integer, then the
payload (here: JSON). Reading a frame that does not start that way is a
:class:`~schemashift.errors.PayloadError` with a stable code, like any unparseable payload.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final
from urllib.parse import quote

from schemashift.errors import PayloadError

MAGIC_BYTE: Final = 0
HEADER_SIZE: Final = 5
MAX_SCHEMA_ID: Final = 2**32 - 1


class FrameCode(StrEnum):
    TOO_SHORT = "frame_too_short"
    BAD_MAGIC = "frame_bad_magic"


def encode_confluent(schema_id: int, payload: bytes) -> bytes:
    """``0x00`` + the schema id (4 bytes, big-endian) + ``payload``."""
    if not 0 <= schema_id <= MAX_SCHEMA_ID:
        raise ValueError(f"schema id {schema_id} does not fit 4 unsigned bytes")
    return bytes([MAGIC_BYTE]) + schema_id.to_bytes(4, "big") + payload


def decode_confluent(frame: bytes | bytearray | memoryview) -> tuple[int, bytes]:
    """(schema id, payload bytes) of a Confluent frame; PayloadError when it is not one."""
    data = bytes(frame)
    if len(data) < HEADER_SIZE:
        raise PayloadError(FrameCode.TOO_SHORT, f"a frame needs {HEADER_SIZE} header bytes")
    if data[0] != MAGIC_BYTE:
        raise PayloadError(
            FrameCode.BAD_MAGIC, f"a frame starts with byte 0x00, not 0x{data[0]:02x}"
        )
    return int.from_bytes(data[1:HEADER_SIZE], "big"), data[HEADER_SIZE:]


def dataschema_url(registry_url: str, subject: str, version: int) -> str:
    """CloudEvents ``dataschema``: ``<registry>/subjects/<subject>/versions/<n>/schema``.

    The subject is percent-encoded as one path segment (``github/push`` becomes
    ``github%2Fpush``), as Confluent's REST API expects it.
    """
    if version < 1:
        raise ValueError("versions start at 1")
    return (
        f"{registry_url.rstrip('/')}/subjects/{quote(subject, safe='')}/versions/{version}/schema"
    )
