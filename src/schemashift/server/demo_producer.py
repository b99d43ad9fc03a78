"""The demo producer: the project's own event generator, fed into the ingest path at a steady rate.

``make run`` starts the server with this producer so a newcomer sees, within a minute, schemas
appear, versions evolve and a drift get quarantined. The events go through the same door as a
user's: ``POST /v1/events`` as a CloudEvents batch, so the demo exercises the real path
(HTTP → ingest → bus → worker → registry) rather than a shortcut.

Pacing is a token bucket: every ``tick`` seconds the producer sends ``rate × tick`` events
(carrying fractions over), so the rate holds whatever the tick, and a slow answer is made up on
the next tick instead of bursting without bound.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from schemashift.monitoring.logs import get_logger, log_event

__all__ = [
    "DEMO_CONSUMERS",
    "DEMO_FULL_SUBJECTS",
    "DEMO_MIN_SAMPLES",
    "DemoProducer",
    "HttpIngestSender",
    "demo_events",
    "prepare_demo",
]

CloudEvent = Mapping[str, Any]
Send = Callable[[Sequence[CloudEvent]], Awaitable[None]]
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"
MAX_CATCH_UP = 4.0  # at most this many ticks' worth of events in one send after a stall
# Samples a demo subject needs before a version (and between versions): enough that the value
# sets (enums) and optional fields of v1 are seen, few enough that at 40 events/s every drift
# of a cycle is acted on within the cycle (the slowest subject, signups, sees 100 in ~17 s).
DEMO_MIN_SAMPLES = 100
# The registry registers the *merged* profile, so under BACKWARD a retyped field is a union
# and a dropped required field becomes optional: both compatible. The demo makes its forbidden
# changes forbidden by policy, two ways a newcomer can see in the quarantine's reasons:
# payments must stay FULL compatible (old readers take the new data: `amount` as a string
# is not), and a consumer reads the signups' `email` (it becoming optional breaks it).
DEMO_FULL_SUBJECTS: tuple[str, ...] = ("billing/payment.succeeded",)
DEMO_CONSUMERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "identity/user.signed_up": ("welcome-mailer", ("/email",)),
}


def prepare_demo(registry: Any) -> list[str]:
    """Configure the demo's subjects unless an operator already did: ``min_samples`` =
    :data:`DEMO_MIN_SAMPLES`, FULL compatibility for :data:`DEMO_FULL_SUBJECTS` and the
    consumer contracts of :data:`DEMO_CONSUMERS`.

    A subject an operator already configured is left alone. Returns the subjects set.
    """
    from schemashift.demo import generator
    from schemashift.registry.config import Compatibility, ConfigPatch

    changed = []
    for subject in generator.SUBJECTS:
        if registry.config_patch(subject) != ConfigPatch():
            continue
        full = subject in DEMO_FULL_SUBJECTS
        registry.set_config(
            subject,
            ConfigPatch(
                min_samples=DEMO_MIN_SAMPLES,
                compatibility=Compatibility.FULL if full else None,
            ),
        )
        if subject in DEMO_CONSUMERS:
            consumer, fields = DEMO_CONSUMERS[subject]
            registry.declare_consumer(subject, consumer, fields)
        changed.append(subject)
    return changed


def demo_events(seed: int = 7, *, cycle: int = 1600) -> Iterator[CloudEvent]:
    """Endless CloudEvents from ``schemashift.demo.generator``, in cycles of ``cycle`` events.

    The generator places its drift by position within a run (a new optional field at 30 %, a
    widened type at 55 %, a forbidden change at 80 %), so the cycle length sets when the
    newcomer sees each: at 40 events/s and 1600 events a cycle (with :func:`prepare_demo`'s
    configuration), v1 of every subject by ~20 s, the new optional fields registered at
    ~15 s, the widening at ~26 s, and the forbidden changes quarantined at ~33 s. Later cycles replay the same drift on
    fresh data: the registered versions already cover it, so the subjects settle, except
    for the forbidden change, which is quarantined again until someone accepts it.
    """
    import random

    from schemashift.demo import generator

    rng = random.Random(seed)
    while True:
        for subject, payload in generator.generate(rng, cycle):
            yield generator.to_cloudevent(subject, payload, rng)


@dataclass
class ProducerStats:
    sent: int = 0
    failed_batches: int = 0


class DemoProducer:
    """Sends ``events`` through ``send`` at ``rate`` events per second until :meth:`stop`."""

    def __init__(
        self,
        events: Iterator[CloudEvent],
        send: Send,
        *,
        rate: float,
        tick: float = 0.25,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        logger: logging.Logger | None = None,
    ) -> None:
        if rate <= 0 or tick <= 0:
            raise ValueError("rate and tick must be > 0")
        self.events = events
        self.send = send
        self.rate = rate
        self.tick = tick
        self.sleep = sleep
        self.stats = ProducerStats()
        self._stopping = asyncio.Event()
        self._log = logger or get_logger("demo")

    async def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        credit = 0.0
        while not self._stopping.is_set():
            credit = min(credit + self.rate * self.tick, self.rate * self.tick * MAX_CATCH_UP)
            count = int(credit)
            if count:
                credit -= count
                batch = [event for _, event in zip(range(count), self.events, strict=False)]
                if not batch:  # the generator ended: nothing more to demonstrate
                    return
                await self._send(batch)
            await self.sleep(self.tick)

    async def _send(self, batch: Sequence[CloudEvent]) -> None:
        try:
            await self.send(batch)
        except Exception as exc:  # the demo must survive a restart of the API it feeds
            self.stats.failed_batches += 1
            if self.stats.failed_batches in (1, 10, 100) or self.stats.failed_batches % 1000 == 0:
                log_event(
                    self._log,
                    "demo.send_failed",
                    level=logging.WARNING,
                    error=f"{type(exc).__name__}: {exc}",
                    failures=self.stats.failed_batches,
                )
            return
        self.stats.sent += len(batch)


class HttpIngestSender:
    """POSTs a batch of CloudEvents to ``<base_url>/v1/events`` (the public ingest endpoint)."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers=dict(headers or {}),
            transport=transport,
            timeout=10.0,
            trust_env=False,  # loopback traffic must never go through a configured proxy
        )

    async def __call__(self, batch: Sequence[CloudEvent]) -> None:
        import orjson

        response = await self._client.post(
            "/v1/events",
            content=orjson.dumps(list(batch)),
            headers={"Content-Type": BATCH_CONTENT_TYPE},
        )
        response.raise_for_status()

    async def aclose(self) -> None:
        await self._client.aclose()
