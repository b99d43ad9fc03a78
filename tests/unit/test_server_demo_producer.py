"""The demo producer: steady pacing, order kept, failures survived, generator end respected."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from schemashift.server.demo_producer import (
    DEMO_CONSUMERS,
    DEMO_FULL_SUBJECTS,
    DEMO_MIN_SAMPLES,
    DemoProducer,
    prepare_demo,
)


def numbered() -> Iterator[Mapping[str, Any]]:
    for n in itertools.count():
        yield {"id": str(n), "data": {"n": n}}


class Recorder:
    """The producer's send seam: records each batch (optionally failing some)."""

    def __init__(self, fail_batches: set[int] | None = None) -> None:
        self.batches: list[list[Mapping[str, Any]]] = []
        self.fail = fail_batches or set()
        self.calls = 0

    async def __call__(self, batch: Sequence[Mapping[str, Any]]) -> None:
        self.calls += 1
        if self.calls in self.fail:
            raise ConnectionError("ingest not up yet")
        self.batches.append(list(batch))


def run_ticks(producer: DemoProducer, ticks: int) -> None:
    """Run the producer for a number of ticks, with a sleep that only counts them."""
    counter = {"n": 0}

    async def fake_sleep(_: float) -> None:
        counter["n"] += 1
        if counter["n"] >= ticks:
            await producer.stop()

    producer.sleep = fake_sleep
    asyncio.run(producer.run())


@pytest.mark.parametrize(
    ("rate", "tick", "ticks", "expected"), [(40, 0.25, 8, 80), (3, 0.5, 10, 15)]
)
def test_rate_is_held_per_tick(rate: float, tick: float, ticks: int, expected: int) -> None:
    """rate × tick events per tick, fractions carried over (3/s at 0.5 s ticks → 15 in 5 s)."""
    send = Recorder()
    producer = DemoProducer(numbered(), send, rate=rate, tick=tick)
    run_ticks(producer, ticks)
    sent = [e for batch in send.batches for e in batch]
    assert len(sent) == expected
    assert [e["data"]["n"] for e in sent] == list(range(expected))  # generator order kept
    assert producer.stats.sent == expected


def test_failed_sends_are_counted_and_survived() -> None:
    """An ingest that is briefly down loses that batch, but the producer keeps going."""
    send = Recorder(fail_batches={1, 2})
    producer = DemoProducer(numbered(), send, rate=4, tick=1.0)
    run_ticks(producer, 5)
    assert producer.stats.failed_batches == 2
    assert len(send.batches) == 3
    assert producer.stats.sent == 12


def test_a_finite_source_ends_the_producer() -> None:
    """When the generator is exhausted the producer returns instead of spinning."""
    send = Recorder()
    producer = DemoProducer(iter([{"id": "1"}, {"id": "2"}, {"id": "3"}]), send, rate=2, tick=1)

    async def no_sleep(_: float) -> None:
        return None

    producer.sleep = no_sleep
    asyncio.run(asyncio.wait_for(producer.run(), 5))
    assert [e["id"] for batch in send.batches for e in batch] == ["1", "2", "3"]


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        DemoProducer(numbered(), Recorder(), rate=0)


def test_prepare_demo_configures_only_unconfigured_subjects(tmp_path: Path) -> None:
    """The demo's subjects learn v1 from enough samples, payments must stay FULL compatible
    and a consumer reads the signups' email; an operator's own setting wins."""
    from schemashift.demo import generator
    from schemashift.registry.config import Compatibility, ConfigPatch
    from schemashift.registry.service import Registry

    registry = Registry.from_url(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        mine = generator.SUBJECTS[0]
        registry.set_config(mine, ConfigPatch(compatibility=Compatibility.NONE))
        changed = prepare_demo(registry)
        assert sorted(changed) == sorted(generator.SUBJECTS[1:])
        for subject in changed:
            assert registry.effective_config(subject).min_samples == DEMO_MIN_SAMPLES
        # the forbidden changes are forbidden by the policy the demo configures
        for subject in DEMO_FULL_SUBJECTS:
            assert registry.effective_config(subject).compatibility is Compatibility.FULL
        for subject, (consumer, fields) in DEMO_CONSUMERS.items():
            [contract] = registry.list_consumers(subject)
            assert (contract.consumer, contract.fields) == (consumer, fields)
        assert registry.config_patch(mine) == ConfigPatch(compatibility=Compatibility.NONE)
        assert prepare_demo(registry) == []  # idempotent across restarts
    finally:
        registry.close()
