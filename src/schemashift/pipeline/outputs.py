"""Building the worker's outputs: conformed events and dead letters, each tied to its input.

Every output carries the input's identity (``<raw stream>:<sequence>``) as its message id,
which is what lets the bus drop the copy a redelivered input would otherwise produce.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import orjson

from schemashift.bus.base import Delivery, OutgoingMessage
from schemashift.core.canonical import canonical_bytes
from schemashift.core.transform import Rejected
from schemashift.pipeline.cloudevents import RawEvent
from schemashift.pipeline.envelope import dead_letter, input_identity
from schemashift.pipeline.subject_state import SubjectState
from schemashift.pipeline.subjects import BusSubjects

__all__ = ["Outputs", "Routed", "encode_payload"]

# (the output, the input it settles, the subject, the dead-letter reason or None if conformed)
Routed = tuple[OutgoingMessage, Delivery, str | None, str | None]


def encode_payload(payload: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(payload)
    except TypeError:  # integers past 64 bits: the exact (slower) encoder
        return canonical_bytes(payload)


class Outputs:
    """Makes the one output of each input, for one worker."""

    def __init__(
        self,
        subjects: BusSubjects,
        raw_stream: str,
        clock: Callable[[], datetime],
        on_latency: Callable[[float], None] | None = None,
    ) -> None:
        self._subjects = subjects
        self._raw_stream = raw_stream
        self._clock = clock
        # receives the seconds each transform took (the transform latency histogram)
        self._on_latency = on_latency

    def transform(self, state: SubjectState, event: RawEvent) -> bytes | Rejected:
        if self._on_latency is None:
            return self._transform(state, event)
        started = time.perf_counter()
        try:
            return self._transform(state, event)
        finally:
            self._on_latency(time.perf_counter() - started)

    def _transform(self, state: SubjectState, event: RawEvent) -> bytes | Rejected:
        transformer = state.transformer
        assert transformer is not None  # callers check
        if event.body is not None and transformer.has_fast_path:
            return transformer.transform_bytes(event.body)  # typed decode in C when it fits
        # already parsed strictly: conform the decoded payload rather than parse again
        conformed = transformer(event.payload)
        return conformed if isinstance(conformed, Rejected) else encode_payload(conformed.payload)

    def conform(self, state: SubjectState, delivery: Delivery, event: RawEvent) -> Routed:
        result = self.transform(state, event)
        if isinstance(result, Rejected):
            first = result.reasons[0]
            return self.dead(
                delivery,
                str(first.code),
                f"not conformable to version {result.version}: {first.message}",
                event.subject,
                details=[
                    {"code": str(r.code), "path": r.path, "message": r.message}
                    for r in result.reasons
                ],
            )
        return self.conformed(state, delivery, event, result)

    def conformed(
        self, state: SubjectState, delivery: Delivery, event: RawEvent, body: bytes
    ) -> Routed:
        template = state.template
        assert template is not None  # set together with the transformer
        message = template.message(
            body,
            msg_id=self.identity(delivery),
            event_id=event.id,
            source=event.source,
            type_=event.type,
            time=event.time,
            subject=event.subject,
        )
        return message, delivery, event.subject, None

    def dead(
        self,
        delivery: Delivery,
        reason: str,
        message: str,
        subject: str | None,
        *,
        details: Sequence[dict[str, Any]] = (),
        quarantine_id: int | None = None,
    ) -> Routed:
        record = dead_letter(
            self._subjects,
            reason=reason,
            message=message,
            subject=subject,
            data=delivery.data,
            headers=delivery.headers,
            raw_subject=delivery.subject,
            raw_seq=delivery.stream_seq,
            delivery_count=delivery.delivery_count,
            msg_id=self.identity(delivery),
            now=self._clock(),
            details=details,
            quarantine_id=quarantine_id,
        )
        return record, delivery, subject, reason

    def identity(self, delivery: Delivery) -> str:
        return input_identity(self._raw_stream, delivery.stream_seq)
