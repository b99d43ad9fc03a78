"""Re-driving stored dead letters: publish their original messages to the raw stream again.

:func:`replay` selects rows of ``ss_dead_letters`` page by page, oldest first, and for each
page

1. publishes every row's original bytes and headers to the raw stream — on the bus subject
   of its registry subject (``<prefix>.raw.<token>``), or its original raw subject when the
   subject was never known — with the header ``schemashift-replay-of: <id>`` and the message
   id ``replay:<id>``;
2. *then* marks the rows ``replayed``.

Publish first, mark second: a crash in between publishes the page again on the next replay,
and the bus drops the copy (the same message id inside its de-duplication window, two
minutes by default), so a double-clicked replay is not doubled either. A replayed event that
fails again is recorded by the worker anew, under its new input's identity.

Workers use the same function to re-drive the events a quarantine parked once it is accepted
(``state="parked"``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING

from schemashift.bus.base import MSG_ID_HEADER, OutgoingMessage, StreamKind
from schemashift.pipeline.subjects import BusSubjects

if TYPE_CHECKING:
    from schemashift.bus.base import Bus
    from schemashift.registry.dead_letters import StoredDeadLetter
    from schemashift.registry.service import Registry

__all__ = ["REPLAY_HEADER", "replay", "replay_message"]

REPLAY_HEADER = "schemashift-replay-of"
PAGE = 100  # rows (with their payloads) held in memory at a time


def replay_message(subjects: BusSubjects, row: StoredDeadLetter) -> OutgoingMessage:
    """The raw message that re-drives ``row``."""
    if row.subject is not None:
        target = subjects.raw(row.subject)
    elif row.raw_subject.startswith(subjects.wildcard(StreamKind.RAW)[:-1]):
        target = row.raw_subject
    else:  # recorded under another prefix: this bus's default raw subject
        target = subjects.raw(None)
    headers = {k: v for k, v in row.headers.items() if k.lower() != MSG_ID_HEADER.lower()}
    headers[REPLAY_HEADER] = str(row.id)
    return OutgoingMessage(target, row.data, headers, f"replay:{row.id}")


async def replay(
    registry: Registry,
    bus: Bus,
    *,
    subject: str | None = None,
    reason: str | None = None,
    ids: Iterable[int] | None = None,
    quarantine_id: int | None = None,
    state: str = "dead",
    limit: int = 10_000,
) -> int:
    """Re-drive up to ``limit`` stored rows matching every given criterion; how many.

    The count is of rows this call marked ``replayed``: a row another replay marked first
    (both published it; the bus kept one) is not counted twice.
    """
    subjects = BusSubjects(bus.prefix)
    chosen = None if ids is None else list(ids)
    replayed = published = 0
    cursor: int | None = None
    while published < limit:
        rows, cursor = await asyncio.to_thread(
            registry.list_dead_letters,
            subject=subject,
            reason=reason,
            state=state,
            quarantine_id=quarantine_id,
            ids=chosen,
            cursor=cursor,
            limit=min(PAGE, limit - published),
            oldest_first=True,
        )
        if not rows:
            break
        await bus.publish_many([replay_message(subjects, row) for row in rows])
        published += len(rows)
        replayed += await asyncio.to_thread(registry.mark_replayed, [row.id for row in rows])
        if cursor is None:
            break
    return replayed
