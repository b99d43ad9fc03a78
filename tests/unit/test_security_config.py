"""The auth config file and the Authenticator built from it."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from schemashift.security.authenticate import MAX_HEADER_LENGTH, Authenticator
from schemashift.security.config import (
    AuthConfigError,
    Right,
    load_auth_config,
    parse_auth_config,
)
from schemashift.security.hashing import ScryptParameters, hash_password, hash_token

FAST = ScryptParameters(n=16, r=1, p=1)
TOKEN = "tok-0123456789abcdef0123456789abcdef"


def document() -> dict[str, Any]:
    return {
        "realm": "test",
        "users": [
            {
                "name": "alice",
                "password": hash_password("wonderland", params=FAST),
                "grants": [
                    {"subjects": "orders.*", "rights": ["read", "write"]},
                    {"subjects": "payments", "rights": ["read"]},
                ],
            },
            {
                "name": "root",
                "password": hash_password("toor", params=FAST),
                "grants": [{"subjects": "*", "rights": ["read", "write", "admin"]}],
            },
        ],
        "tokens": [
            {
                "name": "bot",
                "token": hash_token(TOKEN),
                "grants": [{"subjects": "*", "rights": ["write"]}],
            }
        ],
    }


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_grants_are_per_right_and_per_pattern() -> None:
    """Rights are independent and reach only the subjects their pattern names."""
    alice = parse_auth_config(document()).users["alice"].principal
    assert alice.may(Right.READ, "orders.created") and alice.may(Right.WRITE, "orders.paid")
    assert alice.may(Right.READ, "payments") and not alice.may(Right.WRITE, "payments")
    assert not alice.may(Right.READ, "orders") and not alice.may(Right.READ, "payments-secret")
    assert not alice.may(Right.ADMIN, "orders.created")
    assert not alice.may_globally(Right.READ)


def test_toml_and_json_files_load_the_same(tmp_path: Path) -> None:
    """Both file formats give the same users, tokens and rights."""
    doc = document()
    json_file = tmp_path / "auth.json"
    json_file.write_text(json.dumps(doc))
    alice, root = doc["users"]
    toml_file = tmp_path / "auth.toml"
    toml_file.write_text(
        'realm = "test"\n'
        "[[users]]\n"
        f'name = "alice"\npassword = "{alice["password"]}"\n'
        'grants = [{ subjects = "orders.*", rights = ["read", "write"] },'
        ' { subjects = "payments", rights = ["read"] }]\n'
        "[[users]]\n"
        f'name = "root"\npassword = "{root["password"]}"\n'
        'grants = [{ subjects = "*", rights = ["read", "write", "admin"] }]\n'
        "[[tokens]]\n"
        f'name = "bot"\ntoken = "{doc["tokens"][0]["token"]}"\n'
        'grants = [{ subjects = "*", rights = ["write"] }]\n'
    )
    from_json = load_auth_config(json_file)
    from_toml = load_auth_config(toml_file)
    assert from_json == from_toml


def mutate(change: Any) -> dict[str, Any]:
    doc = document()
    change(doc)
    return doc


@pytest.mark.parametrize(
    "doc",
    [
        mutate(lambda d: d.update(unknown=True)),
        mutate(lambda d: d["users"][0].update(pasword="typo")),
        mutate(lambda d: d["users"][0].update(password="wonderland")),  # plain text
        mutate(lambda d: d["users"][0].update(name="al:ice")),
        mutate(lambda d: d["users"].append(d["users"][0])),
        mutate(lambda d: d["users"][0]["grants"].append({"subjects": "x", "rights": ["own"]})),
        mutate(lambda d: d["users"][0]["grants"].append({"subjects": "re:(", "rights": ["read"]})),
        mutate(lambda d: d["users"][0]["grants"].append({"subjects": "", "rights": ["read"]})),
        mutate(lambda d: d["tokens"][0].update(token=TOKEN)),  # plain-text token
        mutate(lambda d: d.update(realm='a"b')),
        mutate(lambda d: d.update(public_metrics="yes")),
        {"users": [], "tokens": []},
        [],
    ],
)
def test_unsafe_or_mistyped_configs_are_refused(doc: Any) -> None:
    """Typos, plain-text secrets, bad rights and patterns fail loudly at load time."""
    with pytest.raises(AuthConfigError):
        parse_auth_config(doc)


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    """A missing or malformed file is an AuthConfigError, not a crash."""
    with pytest.raises(AuthConfigError):
        load_auth_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("users = [")
    with pytest.raises(AuthConfigError):
        load_auth_config(bad)


@pytest.fixture(scope="module")
def authenticator() -> Authenticator:
    return Authenticator(parse_auth_config(document()))


def test_basic_and_bearer_credentials_authenticate(authenticator: Authenticator) -> None:
    """The right password or token gives the principal; scheme names are case-insensitive."""
    alice = authenticator.authenticate(basic("alice", "wonderland"))
    assert alice is not None and alice.name == "alice"
    assert authenticator.authenticate(basic("alice", "wonderland")) == alice  # cached path
    bot = authenticator.authenticate(f"bearer {TOKEN}")
    assert bot is not None and bot.name == "bot" and bot.kind == "token"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        basic("alice", "wrong"),
        basic("alice", "wonderland "),
        basic("nobody", "wonderland"),
        basic("ALICE", "wonderland"),
        "Basic not-base64!",
        "Basic " + base64.b64encode(b"alice").decode(),  # no colon
        "Basic " + base64.b64encode(b"alice:\xff").decode(),  # not UTF-8
        "Bearer ",
        "Bearer " + TOKEN[:-1],
        "Digest username=alice",
        "Basic " + "A" * MAX_HEADER_LENGTH,
    ],
)
def test_wrong_or_malformed_credentials_authenticate_nobody(
    authenticator: Authenticator, header: str | None
) -> None:
    """Every wrong, partial or malformed credential gives None, never an exception."""
    assert authenticator.authenticate(header) is None


def test_a_wrong_password_is_not_cached_as_a_right_one(authenticator: Authenticator) -> None:
    """After a success, a different password for the same user still fails."""
    assert authenticator.authenticate(basic("root", "toor")) is not None
    assert authenticator.authenticate(basic("root", "toor2")) is None


def test_cached_answers_need_no_scrypt_and_unknown_ones_say_so() -> None:
    """`cached` decides bearer tokens and seen Basic credentials, and defers unseen ones."""
    authenticator = Authenticator(parse_auth_config(document()))
    assert authenticator.cached(basic("alice", "wonderland")) == (False, None)
    alice = authenticator.authenticate(basic("alice", "wonderland"))
    assert authenticator.cached(basic("alice", "wonderland")) == (True, alice)
    assert authenticator.authenticate(basic("alice", "nope")) is None
    assert authenticator.cached(basic("alice", "nope")) == (True, None)  # failures remembered
    decided, bot = authenticator.cached(f"Bearer {TOKEN}")
    assert decided and bot is not None and bot.name == "bot"
    assert authenticator.cached("Digest x") == (True, None)


def test_a_burst_of_one_credential_is_checked_once() -> None:
    """Fifty threads presenting the same new password cause one scrypt run, not fifty."""
    import threading
    from unittest import mock

    from schemashift.security import authenticate as module

    authenticator = Authenticator(parse_auth_config(document()))
    calls = 0
    real = module.verify_password

    def counting(password: str, stored: str) -> bool:
        nonlocal calls
        calls += 1
        return real(password, stored)

    results: list[object] = []
    with mock.patch.object(module, "verify_password", counting):
        threads = [
            threading.Thread(
                target=lambda: results.append(authenticator.authenticate(basic("root", "toor")))
            )
            for _ in range(50)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert calls == 1
    assert len(results) == 50 and all(r is not None for r in results)
