"""The registry's refusals beyond the base tree in :mod:`schemashift.errors`.

Each carries Confluent's ``error_code`` and the HTTP status the API answers with::

    RegistryError
    ├── SubjectNotFoundError          404 40401
    │   └── SubjectSoftDeletedError   404 40404  (soft-deleted; permanent=true removes it)
    ├── SubjectNotSoftDeletedError    404 40405  (permanent delete needs a soft delete first)
    ├── VersionNotFoundError          404 40402
    │   └── VersionSoftDeletedError   404 40406
    ├── VersionNotSoftDeletedError    404 40407
    ├── ConfigNotFoundError           404 40408  (no subject-level compatibility set)
    ├── ModeNotFoundError             404 40409  (no subject-level mode set)
    ├── QuarantineNotFoundError       404 40410
    ├── DeadLetterNotFoundError       404 40412
    ├── QuarantineClosedError         409 40901  (already accepted or rejected)
    ├── InvalidVersionError           422 42202
    ├── InvalidConfigError            422 42203
    ├── InvalidModeError              422 42204
    ├── RegistryModeError             422 42205  (READONLY / IMPORT / not permitted)
    ├── ReferenceExistsError          422 42206
    └── InvalidRequestError           422 42208  (bad subject name, consumer fields, …)
"""

from __future__ import annotations

from schemashift.errors import RegistryError, SubjectNotFoundError, VersionNotFoundError


class SubjectSoftDeletedError(SubjectNotFoundError):
    error_code = 40404


class SubjectNotSoftDeletedError(RegistryError):
    http_status = 404
    error_code = 40405


class VersionSoftDeletedError(VersionNotFoundError):
    error_code = 40406


class VersionNotSoftDeletedError(RegistryError):
    http_status = 404
    error_code = 40407


class ConfigNotFoundError(RegistryError):
    http_status = 404
    error_code = 40408


class ModeNotFoundError(RegistryError):
    http_status = 404
    error_code = 40409


class QuarantineNotFoundError(RegistryError):
    http_status = 404
    error_code = 40410


class DeadLetterNotFoundError(RegistryError):
    http_status = 404
    error_code = 40412


class QuarantineClosedError(RegistryError):
    http_status = 409
    error_code = 40901


class InvalidVersionError(RegistryError):
    """A version id that is neither a positive integer nor ``latest``."""

    http_status = 422
    error_code = 42202


class InvalidConfigError(RegistryError):
    """A configuration value out of range (Confluent: invalid compatibility level)."""

    http_status = 422
    error_code = 42203


class InvalidModeError(RegistryError):
    http_status = 422
    error_code = 42204


class ReferenceExistsError(RegistryError):
    http_status = 422
    error_code = 42206


class InvalidRequestError(RegistryError):
    http_status = 422
    error_code = 42208
