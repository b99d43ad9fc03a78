"""Property-based fuzzing of the whole OpenAPI document: no request gets a server error, and
every answer is what the document says — a documented status code, the documented content
type (``application/vnd.schemaregistry.v1+json``), a body valid under the documented response
schema (the route's model, or the ``{"error_code", "message"}`` error model) and headers.

schemathesis generates requests for every documented operation (path parameters, query
strings, bodies — valid and invalid) and sends them to the ASGI app over a real registry:
SQLite in memory, and PostgreSQL (which refuses what SQLite tolerates, such as NUL characters
or integers past 64 bits). A bounded run: a few examples per operation.

One check is left out: *positive data acceptance* (a schema-valid request must not get a
4xx). The registry's bodies carry JSON Schemas as text and its paths carry subjects and
version ids that may not exist; such requests are schema-valid and rightly refused with the
documented 404/409/422, which is what the conformance checks verify.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from schemashift.api.app import create_app
from schemashift.api.media import SCHEMA_REGISTRY_JSON
from schemashift.bus import MemoryBus
from schemashift.registry.dead_letters import DeadLetter
from schemashift.registry.service import Registry
from schemashift.registry.testing import ManualClock

schemathesis = pytest.importorskip("schemathesis")

pytestmark = pytest.mark.slow

BOUNDED = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


def dead_letter(n: int, subject: str | None) -> DeadLetter:
    return DeadLetter(
        msg_id=f"SCHEMASHIFT_RAW:{n}",
        subject=subject,
        reason="type_mismatch",
        message="not conformable",
        path="/id",
        details=(),
        quarantine_id=None,
        headers={"ce-id": str(n)},
        data=b'{"id": 1}',
        raw_subject="schemashift.raw.in",
        raw_seq=n,
        time=ManualClock().now,
    )


def _app(db_url: str) -> tuple[Any, Registry]:
    registry = Registry.from_url(db_url, clock=ManualClock())
    registry.register("orders", {"type": "object", "properties": {"id": {"type": "string"}}})
    registry.register("shop/orders", {"type": "object"})
    registry.record_dead_letters([dead_letter(n, s) for n, s in enumerate(["orders", None, "x"])])
    # a server always has a bus (replays publish to it); the in-process one needs no server
    state = {"sunset_sweep_seconds": 0, "bus": MemoryBus()}
    return create_app(registry, state=state), registry


def _check(case: Any) -> None:
    """All of schemathesis's checks (server errors, status codes, content types, response
    schemas and headers conformance) but positive data acceptance (see the module doc)."""
    from schemathesis.checks import positive_data_acceptance

    response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error_code", "message"}, body


def test_the_document_declares_the_real_answers() -> None:
    """The registry's routes document their response models and the error model under the
    media type they answer with (FastAPI alone would write ``{"type": "string"}`` and an
    ``application/json`` validation error nobody ever receives)."""
    app, registry = _app("sqlite://")
    try:
        paths = app.openapi()["paths"]
    finally:
        registry.close()
    by_id = paths["/schemas/ids/{schema_id}"]["get"]["responses"]
    assert by_id["200"]["content"][SCHEMA_REGISTRY_JSON]["schema"]["type"] == "object"
    assert by_id["404"]["content"][SCHEMA_REGISTRY_JSON]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
    versions = paths["/subjects/{subject}/versions"]["get"]["responses"]
    assert versions["200"]["content"][SCHEMA_REGISTRY_JSON]["schema"]["type"] == "array"
    for path in ("/subjects/{subject}/versions", "/v1/quarantine/{quarantine_id}"):
        for operation in paths[path].values():
            assert {"404", "422"} <= set(operation["responses"]), path
            assert "application/json" not in str(operation["responses"]), path


def fuzz_every_operation(db_url: str) -> int:
    """Run the bounded generation for each operation of the document; operations fuzzed."""
    app, registry = _app(db_url)
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        count = 0
        for result in schema.get_all_operations():
            operation = result.ok()

            @given(case=operation.as_strategy())
            @BOUNDED
            def run(case: Any) -> None:
                _check(case)

            run()
            count += 1
        return count
    finally:
        registry.close()


def test_no_server_error_on_sqlite() -> None:
    """Every generated request gets a 2xx/4xx answer in the Confluent error shape."""
    assert fuzz_every_operation("sqlite://") >= 40


@pytest.mark.postgres
def test_no_server_error_on_postgres(postgres_url: str) -> None:
    """The same on PostgreSQL."""
    from tests.integration.test_store_contract import fresh_database

    assert fuzz_every_operation(fresh_database(postgres_url)) >= 40
