"""Fixtures shared by every suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import environment, servers


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return environment.shared_dir()


@pytest.fixture(scope="session")
def corpus_files() -> list[Path]:
    return environment.corpus_files()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with servers.postgres_server() as url:
        yield url


@pytest.fixture()
def nats_server() -> Iterator[servers.NatsServer]:
    with servers.nats_server() as server:
        yield server
