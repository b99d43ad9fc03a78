"""Webhook delivery throughput to a loopback receiver, against a bare httpx POST loop.

    python bench/bench_webhooks.py [--records N]

schemashift: the WebhookDispatcher (SQLite store, in-memory outbox) fans N records out to
one subscription and delivers them signed, one subject (strict order) and 8 subjects
(4 in flight). Anchor: the same bodies POSTed one after another with httpx, no persistence.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from schemashift.webhooks import (
    DeliveryStatus,
    DispatcherOptions,
    MemoryOutbox,
    WebhookDispatcher,
    Webhooks,
    WebhookStore,
)
from schemashift.webhooks.testing import LoopbackReceiver

SECRET = "whsec_bench-secret-0123456789"


async def dispatcher_rate(records: int, subjects: int, directory: Path) -> float:
    store = WebhookStore.from_url(f"sqlite:///{directory / f'bench-{subjects}.db'}")
    outbox = MemoryOutbox()
    for n in range(records):
        outbox.append("schema.updated", f"s{n % subjects}", version=n // subjects + 1)
    async with LoopbackReceiver() as receiver:
        Webhooks(store).create(receiver.url, secret=SECRET)
        dispatcher = WebhookDispatcher(store, outbox, options=DispatcherOptions(poll_interval=0.01))
        start = time.perf_counter()
        task = asyncio.create_task(dispatcher.run())
        while await asyncio.to_thread(store.count, DeliveryStatus.DELIVERED) < records:
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - start
        await dispatcher.stop()
        await task
    store.close()
    return records / elapsed


async def httpx_rate(records: int) -> float:
    body = b'{"specversion":"1.0","id":"1-1","data":{}}' * 4
    async with LoopbackReceiver() as receiver, httpx.AsyncClient() as client:
        start = time.perf_counter()
        for _ in range(records):
            response = await client.post(receiver.url, content=body)
            response.raise_for_status()
        return records / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        anchor = asyncio.run(httpx_rate(args.records))
        one = asyncio.run(dispatcher_rate(args.records, 1, Path(tmp)))
        many = asyncio.run(dispatcher_rate(args.records, 8, Path(tmp)))
    print(f"anchor  httpx POST loop (no signing, no store): {anchor:8.0f} req/s")
    print(
        f"schemashift dispatcher, 1 subject (ordered):  {one:8.0f} deliveries/s  ratio {one / anchor:.2f}"
    )
    print(
        f"schemashift dispatcher, 8 subjects:           {many:8.0f} deliveries/s  ratio {many / anchor:.2f}"
    )


if __name__ == "__main__":
    main()
