"""The outbox relay: registry outbox → ``<prefix>.schemas.<token>`` on the bus.

Each registration writes its ``schema.updated`` record in the same transaction as the version
(the transactional outbox). The relay reads the records not yet relayed, oldest first,
publishes each one as a CloudEvent and awaits the bus's acknowledgement before the next, so
records of one subject reach the stream in version order; only then does it mark them
relayed. A crash between publishing and marking re-sends those records on restart (at least
once, never skipped); the ``Nats-Msg-Id`` ``outbox-<seq>`` lets the bus drop such repeats,
so two relays racing on the same outbox do not double-publish either.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from schemashift.bus.base import Bus
from schemashift.errors import BusError, StoreError
from schemashift.monitoring.metrics import Metrics
from schemashift.pipeline.envelope import schema_update_message
from schemashift.pipeline.subjects import BusSubjects
from schemashift.pipeline.worker import DEFAULT_REGISTRY_URL

log = logging.getLogger("schemashift.relay")


class OutboxRelay:
    """Relays outbox records to the bus; ``run()`` until ``stop()``."""

    def __init__(
        self,
        registry: Any,
        bus: Bus,
        *,
        metrics: Metrics | None = None,
        registry_url: str = DEFAULT_REGISTRY_URL,
        poll_interval: float = 0.25,
        batch: int = 100,
    ) -> None:
        self.registry = registry
        self.bus = bus
        self.metrics = metrics
        self.registry_url = registry_url
        self.poll_interval = poll_interval
        self.batch = batch
        self.relayed = 0
        self._subjects = BusSubjects(bus.prefix)
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()

    async def run(self) -> None:
        self._stopping.clear()
        while not self._stopping.is_set():
            try:
                moved = await self.relay_once()
            except (BusError, StoreError) as exc:
                log.warning("relay paused: %s", exc)
                moved = 0
            if moved < self.batch:
                await self._sleep()

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def wake(self) -> None:
        """Relay now instead of at the next poll (after a registration in this process)."""
        self._wake.set()

    async def relay_once(self) -> int:
        """Publish and mark one batch of pending records; the number relayed."""
        records = await asyncio.to_thread(self.registry.pending_relay, self.batch)
        if self.metrics is not None:
            self.metrics.relay_backlog.set(len(records))
        done: list[int] = []
        try:
            for record in records:
                message = schema_update_message(
                    self._subjects, record.to_dict(), registry_url=self.registry_url
                )
                await self.bus.publish(
                    message.subject, message.data, headers=message.headers, msg_id=message.msg_id
                )
                done.append(record.seq)
        finally:
            # Mark what did reach the bus even when a later publish failed, so a restart
            # re-sends only from the first unpublished record.
            if done:
                await asyncio.to_thread(self.registry.mark_relayed, done)
                self.relayed += len(done)
        return len(done)

    async def _sleep(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.poll_interval)
        self._wake.clear()
