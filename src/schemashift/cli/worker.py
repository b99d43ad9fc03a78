"""``schemashift worker``: run a stream worker (and, by default, the outbox relay) on a bus.

Raw events from ``<prefix>.raw.>`` are conformed to the registry's versions or dead-lettered;
several workers with the same ``--durable`` name share the raw stream. Exit codes: 0 after
SIGINT/SIGTERM (the current batch finishes first), 3 when the bus stayed unreachable for
longer than ``--unreachable-budget`` seconds, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
from typing import TextIO

from schemashift.errors import BusError, SchemaShiftError

EXIT_UNREACHABLE = 3


def configure(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    parser.add_argument(
        "--bus",
        default=env("SCHEMASHIFT_BUS_URL", "nats://127.0.0.1:4222"),
        help="bus URL (default: $SCHEMASHIFT_BUS_URL or nats://127.0.0.1:4222)",
    )
    parser.add_argument(
        "--db",
        default=env("SCHEMASHIFT_DB_URL", "sqlite:///./schemashift.db"),
        help="registry database URL (default: $SCHEMASHIFT_DB_URL or sqlite:///./schemashift.db)",
    )
    parser.add_argument(
        "--registry-url",
        default=env("SCHEMASHIFT_REGISTRY_URL", "http://127.0.0.1:8081"),
        help="public registry URL written into dataschema (default: http://127.0.0.1:8081)",
    )
    parser.add_argument("--prefix", default=None, help="bus subject prefix (default: schemashift)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--subject-pointer", metavar="POINTER", help="JSON Pointer naming plain events, e.g. /type"
    )
    group.add_argument("--subject", metavar="NAME", help="one fixed subject for plain events")
    parser.add_argument(
        "--subject-strategy",
        choices=("source/type", "type"),
        default="source/type",
        help="how CloudEvents name their subject (default: source/type)",
    )
    parser.add_argument("--durable", default="schemashift-worker", help="shared consumer name")
    parser.add_argument("--batch", type=int, default=256, help="messages per fetch")
    parser.add_argument("--max-attempts", type=int, default=5, help="deliveries before the DLQ")
    parser.add_argument("--ack-wait", type=float, default=30.0, help="seconds before redelivery")
    parser.add_argument(
        "--window", type=int, default=256, help="held events per registry call (default 256)"
    )
    parser.add_argument(
        "--hold-timeout",
        type=float,
        default=1.0,
        help="a new subject's first version comes at min_samples events or when its oldest"
        " held event is this old, in seconds (default 1)",
    )
    parser.add_argument(
        "--unreachable-budget",
        type=float,
        default=30.0,
        help="exit with code 3 after the bus is unreachable this long (s)",
    )
    parser.add_argument("--no-relay", action="store_true", help="do not run the outbox relay")
    parser.add_argument(
        "--json-duplicates",
        choices=("last_wins", "reject"),
        default=env("SCHEMASHIFT_JSON_DUPLICATES", "last_wins"),
        help="a key repeated in an event payload: keep the last value, or dead-letter the "
        "event as duplicate_key (default: $SCHEMASHIFT_JSON_DUPLICATES or last_wins)",
    )


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from dataclasses import replace

    from schemashift.core.jsonparse import DEFAULT_LIMITS, DuplicateKeys
    from schemashift.pipeline.cloudevents import SubjectExtractor, SubjectStrategy
    from schemashift.pipeline.worker import WorkerOptions

    try:
        extractor = SubjectExtractor(
            pointer=args.subject_pointer,
            fixed=args.subject,
            strategy=SubjectStrategy(args.subject_strategy),
        )
        # event payloads: DEFAULT_LIMITS, with the chosen duplicate-key policy (the env
        # variable is not checked by argparse's choices, DuplicateKeys checks it)
        limits = replace(DEFAULT_LIMITS, duplicate_keys=DuplicateKeys(args.json_duplicates))
    except ValueError as exc:
        stderr.write(f"schemashift worker: {exc}\n")
        return 2
    options = WorkerOptions(
        durable=args.durable,
        batch=args.batch,
        ack_wait=args.ack_wait,
        max_attempts=args.max_attempts,
        window=args.window,
        hold_timeout=args.hold_timeout,
        unreachable_budget=args.unreachable_budget,
        limits=limits,
        extractor=extractor,
    )
    try:
        stats = asyncio.run(_serve(args, options, stderr))
    except BusError as exc:
        stderr.write(f"schemashift worker: {exc}\n")
        return EXIT_UNREACHABLE
    except SchemaShiftError as exc:
        stderr.write(f"schemashift worker: {exc}\n")
        return 1
    stdout.write(json.dumps(stats) + "\n")
    return 0


async def _serve(args: argparse.Namespace, options: object, stderr: TextIO) -> dict[str, int]:
    from schemashift.bus import connect_bus
    from schemashift.pipeline.relay import OutboxRelay
    from schemashift.pipeline.worker import Worker, WorkerOptions
    from schemashift.registry.service import Registry

    assert isinstance(options, WorkerOptions)
    registry = await asyncio.to_thread(Registry.from_url, args.db)
    bus = await connect_bus(args.bus, prefix=args.prefix)
    worker = Worker(registry, bus, registry_url=args.registry_url, options=options)
    relay = None if args.no_relay else OutboxRelay(registry, bus, registry_url=args.registry_url)
    loop = asyncio.get_running_loop()

    stopping: list[asyncio.Task[None]] = []  # referenced so the tasks are not collected

    def request_stop() -> None:
        stopping.append(loop.create_task(worker.stop()))
        if relay is not None:
            stopping.append(loop.create_task(relay.stop()))

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, request_stop)
    stderr.write(f"schemashift worker: consuming {bus.prefix}.raw.> on {args.bus}\n")
    stderr.flush()
    relay_task = asyncio.create_task(relay.run()) if relay is not None else None
    try:
        await worker.run()
    finally:
        if relay is not None and relay_task is not None:
            await relay.stop()
            with contextlib.suppress(Exception):
                await relay_task
        with contextlib.suppress(Exception):
            await bus.close()
        await asyncio.to_thread(registry.close)
    return {
        "conformed": worker.stats.conformed,
        "dead_lettered": worker.stats.dead_lettered,
        "versions_applied": worker.stats.versions_applied,
    }
