"""Access control for the HTTP API: who may call it, and what each caller may do.

* :mod:`~schemashift.security.config` — the auth config file (users, tokens, grants);
* :mod:`~schemashift.security.hashing` — scrypt password hashes, token hashes;
* :mod:`~schemashift.security.patterns` — anchored subject patterns;
* :mod:`~schemashift.security.policy` — which right each route needs;
* :mod:`~schemashift.security.middleware` — ``install_auth(app, config)``;
* :mod:`~schemashift.security.exposure` — ``require_auth_for_host`` for ``serve``;
* ``python -m schemashift.security.hash`` — produce hashes for the config file.

See docs/security.md for the threat model and what is guaranteed.
"""

from __future__ import annotations

from schemashift.security.config import (
    AuthConfig,
    AuthConfigError,
    Principal,
    Right,
    load_auth_config,
    parse_auth_config,
)
from schemashift.security.exposure import InsecureExposureError, is_loopback, require_auth_for_host
from schemashift.security.hashing import hash_password, hash_token, new_token, verify_password
from schemashift.security.middleware import AuthMiddleware, install_auth

__all__ = [
    "AuthConfig",
    "AuthConfigError",
    "AuthMiddleware",
    "InsecureExposureError",
    "Principal",
    "Right",
    "hash_password",
    "hash_token",
    "install_auth",
    "is_loopback",
    "load_auth_config",
    "new_token",
    "parse_auth_config",
    "require_auth_for_host",
    "verify_password",
]
