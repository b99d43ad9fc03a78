"""The exception tree of schemashift.

Exceptions mean misuse or I/O failure. Findings about data (changes, incompatibilities,
rejections, malformed events) are *values*, never exceptions.

    SchemaShiftError
    ├── InvalidSchemaError        a schema that is not valid JSON Schema, or uses what we refuse
    │                             (remote ``$ref``, catastrophic patterns, …)
    ├── PayloadError              a payload that cannot be parsed (carries a stable ``code``)
    ├── RegistryError             the registry refused an operation (carries ``error_code``)
    │   ├── SubjectNotFoundError
    │   ├── VersionNotFoundError
    │   ├── SchemaNotFoundError
    │   ├── IncompatibleSchemaError
    │   ├── VersionGoneError      asked for a version past its sunset (HTTP 410)
    │   └── RegistryModeError     READONLY / IMPORT violations
    ├── StoreError                the store could not be reached or failed (retryable)
    └── BusError                  the bus could not be reached or failed (retryable)
"""

from __future__ import annotations


class SchemaShiftError(Exception):
    """Base class of every exception schemashift raises on purpose."""


class InvalidSchemaError(SchemaShiftError):
    """A schema is not usable: invalid JSON Schema, a remote ``$ref``, a refused pattern."""


class PayloadError(SchemaShiftError):
    """A payload could not be parsed; ``code`` is a stable machine-readable reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class RegistryError(SchemaShiftError):
    """The registry refused an operation. ``error_code`` follows Confluent's numbering."""

    http_status = 500
    error_code = 50001

    def __init__(self, message: str, *, error_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if error_code is not None:
            self.error_code = error_code


class SubjectNotFoundError(RegistryError):
    http_status = 404
    error_code = 40401


class VersionNotFoundError(RegistryError):
    http_status = 404
    error_code = 40402


class SchemaNotFoundError(RegistryError):
    http_status = 404
    error_code = 40403


class IncompatibleSchemaError(RegistryError):
    http_status = 409
    error_code = 409


class VersionGoneError(RegistryError):
    http_status = 410
    error_code = 41001


class RegistryModeError(RegistryError):
    http_status = 422
    error_code = 42205


class StoreError(SchemaShiftError):
    """The store failed or could not be reached; callers may retry."""


class BusError(SchemaShiftError):
    """The bus failed or could not be reached; callers may retry."""
