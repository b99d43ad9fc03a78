"""Property-based fuzzing of the whole OpenAPI document: no request gets a server error.

schemathesis generates requests for every documented operation (path parameters, query
strings, bodies — valid and invalid) and sends them to the ASGI app over a real registry:
SQLite in memory, and PostgreSQL (which refuses what SQLite tolerates, such as NUL characters
or integers past 64 bits). A bounded run: a few examples per operation.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from schemashift.api.app import create_app
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


def _app(db_url: str) -> tuple[Any, Registry]:
    registry = Registry.from_url(db_url, clock=ManualClock())
    registry.register("orders", {"type": "object", "properties": {"id": {"type": "string"}}})
    registry.register("shop/orders", {"type": "object"})
    return create_app(registry, state={"sunset_sweep_seconds": 0}), registry


def _check(case: Any) -> None:
    response = case.call()
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error_code", "message"}, body


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
