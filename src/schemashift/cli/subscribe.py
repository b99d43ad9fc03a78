"""``schemashift subscribe``: follow schema.updated events as a named, durable subscriber.

Prints one JSON line per update (subject, version, id, seq, time, dataschema, number of
changes). The subscriber is durable: run it again with the same ``--name`` and it first
prints every update it missed. ``--once`` catches up and exits instead of following.
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


def configure(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    parser.add_argument("--name", required=True, help="durable subscriber name (a plain token)")
    parser.add_argument(
        "--bus",
        default=env("SCHEMASHIFT_BUS_URL", "nats://127.0.0.1:4222"),
        help="bus URL (default: $SCHEMASHIFT_BUS_URL or nats://127.0.0.1:4222)",
    )
    parser.add_argument(
        "--registry",
        default=env("SCHEMASHIFT_REGISTRY_URL", "http://127.0.0.1:8081"),
        help="registry API URL (default: http://127.0.0.1:8081)",
    )
    parser.add_argument(
        "--subject", action="append", default=None, help="follow only this subject (repeatable)"
    )
    parser.add_argument(
        "--contract",
        action="append",
        default=[],
        metavar="SUBJECT=/a,/b",
        help="declare the fields this consumer reads (repeatable)",
    )
    parser.add_argument("--models-dir", help="regenerate pydantic models into this directory")
    parser.add_argument("--once", action="store_true", help="catch up, print, and exit")
    parser.add_argument(
        "--idle", type=float, default=2.0, help="with --once: stop after this many quiet seconds"
    )


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    contracts: dict[str, list[str]] = {}
    for item in args.contract:
        subject, sep, fields = item.partition("=")
        if not sep or not subject or not fields:
            stderr.write(f"schemashift subscribe: --contract takes SUBJECT=/a,/b, got {item!r}\n")
            return 2
        contracts[subject] = [f for f in fields.split(",") if f]
    try:
        asyncio.run(_follow(args, contracts, stdout))
    except (BusError, SchemaShiftError, ValueError, OSError) as exc:
        stderr.write(f"schemashift subscribe: {exc}\n")
        return 1
    return 0


async def _follow(args: argparse.Namespace, contracts: dict[str, list[str]], out: TextIO) -> None:
    from schemashift.pipeline.subscriber import SchemaUpdate, Subscriber

    def show(update: SchemaUpdate) -> None:
        line = {
            "subject": update.subject,
            "version": update.version,
            "id": update.schema_id,
            "seq": update.seq,
            "time": update.time,
            "dataschema": update.dataschema,
            "changes": len(update.changes),
        }
        out.write(json.dumps(line) + "\n")
        out.flush()

    async with Subscriber(
        bus=args.bus,
        registry_url=args.registry,
        name=args.name,
        subjects=args.subject,
        contracts=contracts,
        models_dir=args.models_dir,
    ) as subscriber:
        subscriber.on_update("*", show)
        if args.once:
            while await subscriber.poll(args.idle):
                pass
            return
        loop = asyncio.get_running_loop()
        stopping: list[asyncio.Task[None]] = []  # referenced so the tasks are not collected
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(
                    sig, lambda: stopping.append(loop.create_task(subscriber.stop()))
                )
        await subscriber.run()
