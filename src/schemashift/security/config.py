"""The auth config file: who may authenticate, and what each principal may do.

TOML (``.toml``) or JSON (any other suffix), for example::

    realm = "schemashift"        # shown in the browser's login prompt
    public_metrics = false       # true: /metrics answers without credentials

    [[users]]                    # HTTP Basic
    name = "alice"
    password = "$scrypt$n=16384,r=8,p=1$…$…"   # python -m schemashift.security.hash
    grants = [
      { subjects = "orders.*", rights = ["read", "write"] },
      { subjects = "*",        rights = ["read"] },
    ]

    [[tokens]]                   # Authorization: Bearer <token>
    name = "ingest-bot"
    token = "$sha256$…"          # python -m schemashift.security.hash --new-token
    grants = [{ subjects = "*", rights = ["write"] }]

Rights are independent (list every one a principal needs): ``read`` (get schemas, versions,
lists, lookups, compatibility checks), ``write`` (register versions, observe, ingest, accept
quarantined drift) and ``admin`` (config, mode, deletes, webhooks). Operations that name no
subject (global config and mode, webhooks, ingest without ``?subject=``, the UI pages) need
the right on ``*``. Unknown keys are refused: a typo in a security file must not silently
widen or narrow access.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from schemashift.errors import SchemaShiftError
from schemashift.security.hashing import CredentialFormatError, parse_password_hash, token_digest
from schemashift.security.patterns import PatternError, SubjectPattern


class AuthConfigError(SchemaShiftError):
    """The auth config file is missing, malformed or unsafe."""


class Right(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Grant:
    pattern: SubjectPattern
    rights: frozenset[Right]


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated identity and its grants."""

    name: str
    kind: str  # "user" or "token"
    grants: tuple[Grant, ...]

    def may(self, right: Right, subject: str) -> bool:
        """Whether some grant gives ``right`` on the (decoded) subject name."""
        return any(right in g.rights and g.pattern.matches(subject) for g in self.grants)

    def may_globally(self, right: Right) -> bool:
        """Whether a grant on ``*`` gives ``right``: needed where no subject is named."""
        return any(right in g.rights and g.pattern.is_global for g in self.grants)


@dataclass(frozen=True, slots=True)
class UserEntry:
    principal: Principal
    password_hash: str


@dataclass(frozen=True, slots=True)
class TokenEntry:
    principal: Principal
    digest: bytes


@dataclass(frozen=True, slots=True)
class AuthConfig:
    users: Mapping[str, UserEntry]
    tokens: tuple[TokenEntry, ...]
    realm: str = "schemashift"
    public_metrics: bool = False


def load_auth_config(path: str | Path) -> AuthConfig:
    """Read and validate an auth config file (TOML for ``.toml``, JSON otherwise)."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise AuthConfigError(f"cannot read auth config {file}: {exc}") from None
    try:
        data: Any = (
            tomllib.loads(raw.decode("utf-8")) if file.suffix == ".toml" else json.loads(raw)
        )
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise AuthConfigError(f"auth config {file} is not valid: {exc}") from None
    return parse_auth_config(data)


def parse_auth_config(data: Any) -> AuthConfig:
    """Validate the decoded config document (see the module docstring for its shape)."""
    doc = _mapping(data, "auth config", {"realm", "public_metrics", "users", "tokens"})
    realm = doc.get("realm", "schemashift")
    if not isinstance(realm, str) or not realm or '"' in realm or "\\" in realm:
        raise AuthConfigError("realm must be a non-empty string without quotes or backslashes")
    public_metrics = doc.get("public_metrics", False)
    if not isinstance(public_metrics, bool):
        raise AuthConfigError("public_metrics must be true or false")
    users: dict[str, UserEntry] = {}
    for item in _sequence(doc.get("users", []), "users"):
        entry = _mapping(item, "user", {"name", "password", "grants"})
        name = _name(entry, "user")
        if ":" in name:
            raise AuthConfigError(f"user name {name!r} contains ':' (HTTP Basic splits on it)")
        if name in users:
            raise AuthConfigError(f"user {name!r} is defined twice")
        password = entry.get("password")
        if not isinstance(password, str):
            raise AuthConfigError(f"user {name!r} needs a password hash")
        try:
            parse_password_hash(password)  # refuse plain-text or unsafe hashes at load time
        except CredentialFormatError as exc:
            raise AuthConfigError(f"user {name!r}: {exc}") from None
        users[name] = UserEntry(Principal(name, "user", _grants(entry, name)), password)
    tokens: list[TokenEntry] = []
    for item in _sequence(doc.get("tokens", []), "tokens"):
        entry = _mapping(item, "token", {"name", "token", "grants"})
        name = _name(entry, "token")
        stored = entry.get("token")
        if not isinstance(stored, str):
            raise AuthConfigError(f"token {name!r} needs a token hash")
        try:
            digest = token_digest(stored)
        except CredentialFormatError as exc:
            raise AuthConfigError(f"token {name!r}: {exc}") from None
        tokens.append(TokenEntry(Principal(name, "token", _grants(entry, name)), digest))
    if not users and not tokens:
        raise AuthConfigError("auth config defines no users and no tokens: nobody could log in")
    return AuthConfig(users=users, tokens=tuple(tokens), realm=realm, public_metrics=public_metrics)


def _grants(entry: Mapping[str, Any], owner: str) -> tuple[Grant, ...]:
    grants: list[Grant] = []
    for item in _sequence(entry.get("grants", []), f"grants of {owner!r}"):
        grant = _mapping(item, f"grant of {owner!r}", {"subjects", "rights"})
        subjects = grant.get("subjects")
        if not isinstance(subjects, str):
            raise AuthConfigError(f"a grant of {owner!r} needs 'subjects' (a pattern)")
        rights = _sequence(grant.get("rights"), f"rights of {owner!r}")
        try:
            parsed = frozenset(Right(r) for r in rights)
        except ValueError:
            raise AuthConfigError(
                f"rights of {owner!r} must be among read, write, admin; got {rights!r}"
            ) from None
        try:
            pattern = SubjectPattern.parse(subjects)
        except PatternError as exc:
            raise AuthConfigError(f"grant of {owner!r}: {exc}") from None
        grants.append(Grant(pattern, parsed))
    return tuple(grants)


def _mapping(value: Any, what: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise AuthConfigError(f"{what} must be a table/object")
    unknown = set(value) - allowed
    if unknown:
        raise AuthConfigError(f"unknown keys in {what}: {sorted(unknown)}")
    return value


def _sequence(value: Any, what: str) -> Sequence[Any]:
    if not isinstance(value, list):
        raise AuthConfigError(f"{what} must be a list")
    return value


def _name(entry: Mapping[str, Any], what: str) -> str:
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise AuthConfigError(f"every {what} needs a non-empty 'name'")
    return name
