"""Hostile input, REST bodies first: every refusal is a clear 4xx and the process stays up.

Covers the issue's list: 100,000-deep nesting, 5,000- and 1,000,000-digit integers, 2**63
and -80888888888888888888 kept exact, NaN/Infinity/1e999/lone surrogates/duplicate keys/
invalid UTF-8, 32,000 integers that collide in Python's hash, bodies over the size limit,
``$ref`` to the cloud metadata address, a local file or a loopback port (zero outbound
connections, asserted with an audit hook and a real listener), ``$ref`` cycles and long
chains, catastrophic regexes, and nothing named in a schema imported or executed.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from schemashift.api.app import create_app
from schemashift.core.jsonparse import DuplicateKeys, ParseCode, ParseLimits, loads
from schemashift.core.profile import Profile
from schemashift.core.transform import Conformed, compile_transformer
from schemashift.errors import PayloadError
from schemashift.registry.service import Registry
from schemashift.security.limits import install_body_limit

BIG = 2**63
NEGATIVE = -80888888888888888888
MERSENNE_61 = 2**61 - 1  # Python hashes every multiple of it to 0
DEEP_ARRAY = b"[" * 100_000
DEEP_OBJECT = b'{"a":' * 100_000
LONG_5K = "9" * 5_000
LONG_1M = "7" * 1_000_000

# ------------------------------------------------------------------ outbound-access guard

_RECORDERS: list[list[tuple[str, str]]] = []
_HOOK_INSTALLED = False
_WATCHED = {
    "socket.connect",
    "socket.getaddrinfo",
    "urllib.Request",
    "subprocess.Popen",
    "os.system",
}
EVIL_MODULE = "schemashift_hostile_probe"


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _RECORDERS:
        return
    if event in _WATCHED:
        seen = (event, repr(args)[:200])
    elif event == "open" and args and isinstance(args[0], str) and args[0].startswith("/etc/"):
        seen = (event, args[0])
    elif event == "import" and args and str(args[0]).startswith(EVIL_MODULE):
        seen = (event, str(args[0]))
    else:
        return
    for recorder in _RECORDERS:
        recorder.append(seen)


@contextmanager
def outbound_recorder() -> Iterator[list[tuple[str, str]]]:
    """Record every socket connect, DNS lookup, URL request, process, /etc read, probe import.

    An audit hook sees these in every thread, including the app's worker threads, and
    cannot be bypassed from Python code. It cannot be removed either, so it is installed
    once and is inert while no recorder is active.
    """
    global _HOOK_INSTALLED
    if not _HOOK_INSTALLED:
        sys.addaudithook(_audit)
        _HOOK_INSTALLED = True
    events: list[tuple[str, str]] = []
    _RECORDERS.append(events)
    try:
        yield events
    finally:
        _RECORDERS.remove(events)


class LoopbackListener:
    """A real listening socket on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.port = int(self.sock.getsockname()[1])
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture()
def listener() -> Iterator[LoopbackListener]:
    server = LoopbackListener()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    registry = Registry.from_url(f"sqlite:///{tmp_path / 'registry.db'}")
    app = create_app(registry, state={"sunset_sweep_seconds": 0})
    install_body_limit(app, max_bytes=1_048_576)
    try:
        with TestClient(app, raise_server_exceptions=False) as test_client:
            yield test_client
    finally:
        registry.close()


def register(client: TestClient, subject: str, schema: Any) -> Any:
    return client.post(f"/subjects/{subject}/versions", json={"schema": json.dumps(schema)})


# ------------------------------------------------------------------ parser and core


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (DEEP_ARRAY, ParseCode.TOO_DEEP),
        (DEEP_OBJECT, ParseCode.TOO_DEEP),
        (b'{"n":' + LONG_5K.encode() + b"}", ParseCode.INTEGER_TOO_LONG),
        (b'{"n":' + LONG_1M.encode() + b"}", ParseCode.INTEGER_TOO_LONG),
        (b'{"n":-' + LONG_1M.encode() + b"}", ParseCode.INTEGER_TOO_LONG),
        (b'{"n":NaN}', ParseCode.NAN_OR_INFINITY),
        (b'{"n":-Infinity}', ParseCode.NAN_OR_INFINITY),
        (b'{"n":1e999}', ParseCode.NUMBER_OUT_OF_RANGE),
        (b'{"s":"\\ud800"}', ParseCode.LONE_SURROGATE),
        (b'{"a":1,"a":2}', ParseCode.DUPLICATE_KEY),
        (b'{"a" :1, "a" :2}', ParseCode.DUPLICATE_KEY),
        (b'{"s":"\xff\xfe"}', ParseCode.INVALID_UTF8),
        (b'{"s":"\xed\xa0\x80"}', ParseCode.INVALID_UTF8),  # a surrogate encoded in UTF-8
    ],
)
def test_the_strict_parser_refuses_each_hostile_payload_with_its_code(
    raw: bytes, code: ParseCode
) -> None:
    """Each hostile document is a PayloadError with a stable code, never RecursionError.
    (Repeated keys are refused under the reject policy, which request bodies use; event
    payloads keep the last value by default.)"""
    with pytest.raises(PayloadError) as refused:
        loads(raw, ParseLimits(duplicate_keys=DuplicateKeys.REJECT))
    assert refused.value.code == code


def test_huge_integers_stay_exact_in_the_analyzer_and_the_transformer() -> None:
    """2**63 and -80888888888888888888 are profiled, inferred and conformed without wrapping."""
    payloads = [loads(b'{"n": 9223372036854775808}'), loads(b'{"n": -80888888888888888888}')]
    assert payloads[0]["n"] == BIG and payloads[1]["n"] == NEGATIVE
    profile = Profile().update(payloads)
    stats = profile.path_stats()["/n"]
    assert (stats.min, stats.max) == (NEGATIVE, BIG)
    assert profile.finish()["properties"]["n"]["type"] == "integer"
    transformer = compile_transformer(
        {"type": "object", "properties": {"n": {"type": "integer"}}}, version=1
    )
    for value in (BIG, NEGATIVE):
        result = transformer({"n": value})
        assert isinstance(result, Conformed) and result.payload["n"] == value
        out = transformer.transform_bytes(json.dumps({"n": value}).encode())
        assert isinstance(out, bytes) and json.loads(out)["n"] == value
        assert str(value).encode() in out


@pytest.mark.timeout(10)
def test_hash_colliding_integers_are_profiled_in_bounded_work() -> None:
    """32,000 multiples of 2**61-1 (all hash to 0) cost the Analyzer well under a second.

    A distinct-value set that grew without bound would compare every new value with every
    earlier one (~5·10⁸ comparisons); the bounded sketch keeps the work linear.
    """
    import time

    values = [k * MERSENNE_61 for k in range(1, 32_001)]
    assert len({hash(v) for v in values}) == 1
    started = time.perf_counter()
    in_one = Profile()
    in_one.add({"values": values})
    per_event = Profile().update({"v": v} for v in values)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"{elapsed:.2f}s for 64,000 colliding integers"
    assert per_event.path_stats()["/v"].count == 32_000
    assert per_event.path_stats()["/v"].max == values[-1]


# ------------------------------------------------------------------ REST bodies


@pytest.mark.parametrize(
    "body",
    [
        DEEP_ARRAY,
        DEEP_OBJECT,
        b'{"schema": "{}", "n": ' + LONG_5K.encode() + b"}",
        b'{"schema": "{}", "n": ' + LONG_1M.encode() + b"}",
        b'{"schema": NaN}',
        b'{"schema": "{}", "x": Infinity}',
        b'{"schema": "{}", "x": 1e999}',
        b'{"schema": "\\ud800"}',
        b'{"schema": "{}", "schema": "{}"}',
        b'{"schema": "\xff"}',
        b"",
        b"[]",
        b'"just a string"',
    ],
)
def test_hostile_registration_bodies_get_a_clear_4xx(client: TestClient, body: bytes) -> None:
    """Malformed or hostile bodies are refused with a Confluent-style error, never a 5xx."""
    response = client.post(
        "/subjects/hostile/versions", content=body, headers={"Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text[:300]
    assert isinstance(response.json()["error_code"], int)
    assert client.get("/subjects").status_code == 200  # still serving


@pytest.mark.parametrize(
    "schema_text",
    [
        "[" * 100_000,
        '{"a":' * 100_000,
        '{"maximum": ' + LONG_5K + "}",
        '{"maximum": NaN}',
        '{"maximum": 1e999}',
        '{"type": "object", "type": "string"}',
        '{"title": "\\udc00"}',
    ],
)
def test_hostile_schema_texts_are_invalid_schemas(client: TestClient, schema_text: str) -> None:
    """A hostile schema *inside* a valid body is 422 / 42201 (invalid schema)."""
    response = client.post("/subjects/hostile/versions", json={"schema": schema_text})
    assert response.status_code == 422, response.text[:300]
    assert response.json()["error_code"] == 42201


def test_a_body_over_the_size_limit_is_413(client: TestClient) -> None:
    """Declared or streamed, a body over the limit is refused with 413 before being parsed."""
    big = b'{"schema": "' + b" " * 2_000_000 + b'"}'
    assert client.post("/subjects/big/versions", content=big).status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b" " * 65_536

    streamed = client.post("/subjects/big/versions", content=chunks())
    assert streamed.status_code == 413
    assert client.get("/subjects").status_code == 200


# ------------------------------------------------------------------ schemas


def ssrf_schemas(port: int) -> list[dict[str, Any]]:
    return [
        {"$ref": "http://169.254.169.254/latest/meta-data/iam/security-credentials/"},
        {"$ref": "file:///etc/passwd"},
        {"$ref": f"http://127.0.0.1:{port}/schema.json"},
        {"$ref": f"http://localhost:{port}/schema.json#/definitions/x"},
        {"$ref": f"http://[::1]:{port}/schema.json"},
        {"type": "object", "properties": {"a": {"$ref": f"http://127.0.0.1:{port}/a.json"}}},
        {"$id": f"http://127.0.0.1:{port}/root.json", "$ref": "other.json"},
        {"$defs": {"x": {"$ref": "file:///etc/passwd#/x"}}, "$ref": "#/$defs/x"},
        {"allOf": [{"$ref": f"https://127.0.0.1:{port}/x"}]},
        {"$dynamicRef": f"http://127.0.0.1:{port}/dyn#meta"},
    ]


@pytest.mark.parametrize("index", range(10))
def test_remote_refs_make_zero_outbound_connections_and_are_422(
    client: TestClient, listener: LoopbackListener, index: int
) -> None:
    """A `$ref` to the metadata service, a local file or a loopback port: 422, nothing fetched."""
    schema = ssrf_schemas(listener.port)[index]
    with outbound_recorder() as events:
        registered = register(client, "ssrf", schema)
        checked = client.post("/subjects/ssrf", json={"schema": json.dumps(schema)})
    assert registered.status_code == 422, registered.text[:300]
    assert registered.json()["error_code"] == 42201
    assert checked.status_code in (404, 422)
    assert events == [], f"outbound access attempted: {events}"
    assert listener.accepted == 0


def test_a_remote_metaschema_is_never_fetched(
    client: TestClient, listener: LoopbackListener
) -> None:
    """`$schema` naming a URL on a loopback port is not fetched (and not a 5xx)."""
    schema = {"$schema": f"http://127.0.0.1:{listener.port}/meta", "type": "object"}
    with outbound_recorder() as events:
        response = register(client, "meta", schema)
    assert response.status_code < 500
    assert events == [] and listener.accepted == 0


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "schema",
    [
        {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"},
        {"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"},
        {"$ref": "#"},
        {
            "$defs": {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(2_000)}
            | {"d2000": {"type": "string"}},
            "$ref": "#/$defs/d0",
        },
        {"$defs": {"missing": {"$ref": "#/$defs/nowhere"}}, "$ref": "#/$defs/missing"},
    ],
    ids=["two-cycle", "self-cycle", "root-cycle", "chain-2000", "dangling"],
)
def test_ref_cycles_and_long_chains_end_with_an_answer(
    client: TestClient, schema: dict[str, Any]
) -> None:
    """Cycles, a 2,000-long chain and a dangling ref all end, with a 2xx or a 422 — never 5xx."""
    response = register(client, "cycles", schema)
    assert response.status_code in (200, 422), response.text[:300]
    assert client.get("/subjects").status_code == 200


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "pattern": "(a+)+$"},
        {"type": "string", "pattern": "^(a|aa)+$"},
        {"type": "string", "pattern": "(x+x+)+y"},
        {"type": "object", "patternProperties": {"(a+)+$": {"type": "string"}}},
        {
            "type": "object",
            "properties": {
                "deep": {"type": "array", "items": {"type": "string", "pattern": "^([a-z]+)*@"}}
            },
        },
    ],
    ids=[
        "nested-plus",
        "overlapping-alternation",
        "adjacent-plus",
        "pattern-properties",
        "in-items",
    ],
)
def test_catastrophic_patterns_are_refused_at_registration(
    client: TestClient, schema: dict[str, Any]
) -> None:
    """Exponential-backtracking patterns are a 422 at registration, so no request ever runs them."""
    response = register(client, "regex", schema)
    assert response.status_code == 422, response.text[:300]
    assert "pattern" in response.json()["message"]


def test_nothing_named_in_a_schema_is_imported_or_executed(
    client: TestClient, tmp_path: Path
) -> None:
    """Module names in `format`, `$id`, `title` and vendor keywords are never imported or run."""
    probe = tmp_path / f"{EVIL_MODULE}.py"
    marker = tmp_path / "executed"
    probe.write_text(f"open({str(marker)!r}, 'w').close()\n")
    sys.path.insert(0, str(tmp_path))
    try:
        schema = {
            "$id": f"python://{EVIL_MODULE}",
            "title": f"__import__('{EVIL_MODULE}')",
            "type": "object",
            "properties": {
                "a": {"type": "string", "format": EVIL_MODULE},
                "b": {
                    "type": "string",
                    "x-python-type": f"{EVIL_MODULE}.Thing",
                    "javaType": EVIL_MODULE,
                },
                "c": {"default": f"{{{{ __import__('{EVIL_MODULE}') }}}}", "type": "string"},
            },
        }
        with outbound_recorder() as events:
            response = register(client, "imports", schema)
            client.get("/subjects/imports/versions/latest")
        assert response.status_code < 500
        assert events == [] and not marker.exists()
        assert EVIL_MODULE not in sys.modules
    finally:
        sys.path.remove(str(tmp_path))


@pytest.mark.parametrize("value", [BIG, NEGATIVE, 2**64, -(2**63) - 1])
def test_observing_integers_beyond_64_bits_is_not_a_server_error(
    client: TestClient, value: int
) -> None:
    """Drift observation stores the profile (with min/max) exactly: no 5xx for big integers."""
    body = '{"payloads": [' + ",".join(f'{{"n": {value}}}' for _ in range(20)) + "]}"
    response = client.post(
        "/v1/subjects/big/observe",
        content=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text[:300]
    stored = client.get("/subjects/big/versions/latest/schema")
    assert stored.status_code == 200 and stored.json()["properties"]["n"]["type"] == "integer"


def test_schema_keywords_beyond_64_bits_are_stored_exactly(client: TestClient) -> None:
    """`maximum: 2**63`, `minimum: -80888888888888888888` read back digit for digit."""
    schema_text = '{"type":"integer","maximum":9223372036854775808,"minimum":-80888888888888888888}'
    assert client.post("/subjects/bounds/versions", json={"schema": schema_text}).status_code == 200
    raw = client.get("/subjects/bounds/versions/1/schema").content
    assert b"9223372036854775808" in raw and b"-80888888888888888888" in raw
