"""Dead letters: the StoreTx queries over ``ss_dead_letters`` (mixed into SqlTx).

Recording skips msg_ids already stored by reading them first: inside the serialised write
transaction nobody can insert one in between, which works the same on SQLite and PostgreSQL
and keeps row ids dense (an ``ON CONFLICT DO NOTHING`` would have to skip ids).

``details`` and ``headers`` are stored as ASCII JSON (``\\u`` escapes), so any text the worker
hands over — NUL characters, lone surrogates — is stored and read back exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from schemashift.registry import tables as t
from schemashift.registry.dead_letters import (
    DeadLetter,
    DeadLetterSelection,
    StoredDeadLetter,
    headers_of,
)
from schemashift.registry.sqltx_activity import next_id

_CHUNK = 500  # bound parameters per IN (...): well under every driver's limit
_DL = t.dead_letters


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":"))


def _chunks(values: Sequence[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield list(values[start : start + _CHUNK])


def _row(row: Any) -> StoredDeadLetter:
    return StoredDeadLetter(
        id=int(row.id),
        msg_id=row.msg_id,
        subject=row.subject,
        reason=row.reason,
        message=row.message,
        path=row.path,
        details=tuple(json.loads(row.details_json)),
        quarantine_id=row.quarantine_id,
        headers=headers_of(json.loads(row.headers_json)),
        data=bytes(row.data),
        raw_subject=row.raw_subject,
        raw_seq=int(row.raw_seq),
        time=row.time,
        state=row.state,
        replayed_at=row.replayed_at,
    )


def _where(selection: DeadLetterSelection) -> list[Any]:
    conditions: list[Any] = []
    if selection.subject is not None:
        conditions.append(_DL.c.subject == selection.subject)
    if selection.reason is not None:
        conditions.append(_DL.c.reason == selection.reason)
    if selection.state is not None:
        conditions.append(_DL.c.state == selection.state)
    if selection.quarantine_id is not None:
        conditions.append(_DL.c.quarantine_id == selection.quarantine_id)
    if selection.ids is not None:
        conditions.append(_DL.c.id.in_(list(selection.ids)))
    return conditions


class DeadLetterQueries:
    conn: Connection

    def insert_dead_letters(self, items: Sequence[DeadLetter]) -> int:
        fresh: dict[str, DeadLetter] = {}
        for item in items:
            fresh.setdefault(item.msg_id, item)  # the first of a batch's duplicates wins
        if not fresh:
            return 0
        for chunk in _chunks(list(fresh)):
            stored = self.conn.execute(select(_DL.c.msg_id).where(_DL.c.msg_id.in_(chunk)))
            for (msg_id,) in stored:
                fresh.pop(msg_id, None)
        if not fresh:
            return 0
        first = next_id(self.conn, _DL, "id")
        rows = [
            {
                "id": first + offset,
                "msg_id": item.msg_id,
                "subject": item.subject,
                "reason": item.reason,
                "message": item.message,
                "path": item.path,
                "details_json": _json(list(item.details)),
                "quarantine_id": item.quarantine_id,
                "headers_json": _json(dict(item.headers)),
                "data": bytes(item.data),
                "raw_subject": item.raw_subject,
                "raw_seq": item.raw_seq,
                "time": item.time,
                "state": item.state,
                "replayed_at": None,
            }
            for offset, item in enumerate(fresh.values())
        ]
        self.conn.execute(insert(_DL), rows)
        return len(rows)

    def select_dead_letters(
        self,
        selection: DeadLetterSelection,
        *,
        cursor: int | None,
        limit: int | None,
        oldest_first: bool,
    ) -> list[StoredDeadLetter]:
        if selection.ids is not None and not selection.ids:
            return []
        conditions = _where(selection)
        if cursor is not None:
            conditions.append(_DL.c.id > cursor if oldest_first else _DL.c.id < cursor)
        query = select(_DL)
        if conditions:
            query = query.where(*conditions)
        query = query.order_by(_DL.c.id.asc() if oldest_first else _DL.c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        return [_row(row) for row in self.conn.execute(query)]

    def dead_letter_by_id(self, dead_letter_id: int) -> StoredDeadLetter | None:
        row = self.conn.execute(select(_DL).where(_DL.c.id == dead_letter_id)).first()
        return None if row is None else _row(row)

    def count_dead_letters(self, subject: str | None) -> dict[str, dict[str, int]]:
        query = select(_DL.c.state, _DL.c.reason, func.count()).group_by(_DL.c.state, _DL.c.reason)
        if subject is not None:
            query = query.where(_DL.c.subject == subject)
        found: dict[str, dict[str, int]] = {}
        for state, reason, count in self.conn.execute(query):
            found.setdefault(state, {})[reason] = int(count)
        return found

    def update_dead_letters(
        self,
        ids: Sequence[int],
        *,
        from_states: Sequence[str],
        state: str,
        replayed_at: datetime | None = None,
        reason: str | None = None,
        message: str | None = None,
    ) -> int:
        values: dict[str, Any] = {"state": state, "replayed_at": replayed_at}
        if reason is not None:
            values["reason"] = reason
        if message is not None:
            values["message"] = message
        changed = 0
        for chunk in _chunks(sorted(set(ids))):
            result = self.conn.execute(
                update(_DL)
                .where(and_(_DL.c.id.in_(chunk), _DL.c.state.in_(list(from_states))))
                .values(**values)
            )
            changed += int(result.rowcount)
        return changed
