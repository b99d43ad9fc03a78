"""Fixtures shared by every suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support import environment, servers

# Property tests explore new random inputs on every developer run, where a fresh
# counterexample is a find. CI replays a fixed sequence instead, so a commit lands or fails on
# its own merits, not on the luck of the draw; `make hunt` reruns the unit suite with fresh
# randomness round after round to go looking for bugs.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("hunt", database=None, print_blob=True)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
elif environment.in_ci():
    settings.load_profile("ci")


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
