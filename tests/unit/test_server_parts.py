"""Which routers a server process serves, and in which order."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemashift.api import ui
from schemashift.server.parts import Parts, _router, optional_routers
from schemashift.server.settings import ServerSettings


def test_the_ui_comes_last_so_it_owns_the_root() -> None:
    """Every optional router is served; the UI last (before Confluent's root only)."""
    routers = optional_routers(ServerSettings(), Parts())
    assert routers[-1] is ui.router
    paths = {getattr(route, "path", "") for r in routers for route in r.routes}
    assert {"/v1/events", "/metrics", "/healthz", "/readyz", "/v1/webhooks", "/"} <= paths


def test_no_ui_means_no_ui_routes() -> None:
    routers = optional_routers(ServerSettings(ui=False), Parts())
    assert ui.router not in routers


def test_an_absent_part_is_skipped_but_a_broken_one_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module that does not exist is an optional part left out; a module that exists but
    needs a missing dependency is a bug and must surface."""
    assert _router("schemashift.api.no_such_part") is None
    (tmp_path / "broken_part.py").write_text("import definitely_not_installed_dep\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="definitely_not_installed_dep"):
        _router("broken_part")


def test_the_duplicate_key_policy_reaches_ingest_and_the_workers(tmp_path: Path) -> None:
    """One setting, one reading: the app state that ingest reads and every worker's
    options carry the same event limits."""
    import asyncio

    from schemashift.bus import MemoryBus
    from schemashift.core.jsonparse import DuplicateKeys
    from schemashift.monitoring.metrics import Metrics
    from schemashift.pipeline.worker import Worker
    from schemashift.registry.service import Registry
    from schemashift.server.parts import build_parts

    settings = ServerSettings(
        db_url=f"sqlite:///{tmp_path / 'r.db'}", workers=2, json_duplicates="reject"
    )
    registry = Registry.from_url(settings.db_url)
    try:
        parts = asyncio.run(
            build_parts(settings, registry=registry, bus=MemoryBus(), metrics=Metrics())
        )
        assert parts.state["event_limits"].duplicate_keys is DuplicateKeys.REJECT
        workers = [part for _, part in parts.runnables if isinstance(part, Worker)]
        assert len(workers) == 2
        assert {w.options.limits for w in workers} == {settings.event_limits}
        for closer in parts.closers:
            closer.close()
    finally:
        registry.close()
