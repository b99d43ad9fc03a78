"""Building the worker's outputs: conformed events, dead letters and parked events.

Every output carries the input's identity (``<raw stream>:<sequence>``) as its message id,
which is what lets the bus drop the copy a redelivered input would otherwise produce. A dead
letter or parked event also carries the record the worker stores in the registry
(:class:`~schemashift.registry.dead_letters.DeadLetter`), so it can be listed and re-driven.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import orjson

from schemashift.bus.base import Delivery, OutgoingMessage
from schemashift.core.canonical import canonical_bytes
from schemashift.core.transform import Rejected
from schemashift.pipeline.cloudevents import RawEvent
from schemashift.pipeline.envelope import dead_letter, input_identity
from schemashift.pipeline.subject_state import SubjectState
from schemashift.pipeline.subjects import BusSubjects
from schemashift.registry.dead_letters import DeadLetter, DeadLetterState

__all__ = ["DUPLICATE_KEYS_HEADER", "Outputs", "Routed", "encode_payload"]

# the keys a payload repeated (their last value was kept), as a JSON array of JSON Pointers:
# the conformed event's processing notes
DUPLICATE_KEYS_HEADER = "schemashift-duplicate-keys"


class Routed(NamedTuple):
    """One output: the message, the input it settles, the subject, the dead-letter reason
    (None when conformed) and, for a dead letter or parked event, its record."""

    message: OutgoingMessage
    delivery: Delivery
    subject: str | None
    reason: str | None
    record: DeadLetter | None = None


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

    def transform(
        self, state: SubjectState, event: RawEvent, *, closed: bool = False, steady: bool = False
    ) -> bytes | Rejected:
        """The conformed bytes, or the version's refusal; ``closed``: refuse fields the
        version does not declare (SubjectState.closed_transformer); ``steady``: a known shape
        (the typed decoder may serve it)."""
        if self._on_latency is None:
            return self._transform(state, event, closed, steady)
        started = time.perf_counter()
        try:
            return self._transform(state, event, closed, steady)
        finally:
            self._on_latency(time.perf_counter() - started)

    def _transform(
        self, state: SubjectState, event: RawEvent, closed: bool, steady: bool
    ) -> bytes | Rejected:
        transformer = state.closed_transformer() if closed else state.transformer
        assert transformer is not None  # callers check
        # The typed decoder pays for itself only on a version's steady stream: building it can
        # take 100 ms for a large schema, more than a version serving a few hundred events
        # saves (most versions of a learning subject are replaced after a handful).
        if steady and event.body is not None and not event.duplicate_keys and state.steady():
            fast = transformer.fast_path()
            if fast is not None:
                out = fast.transform(event.body)  # typed decode in C when it fits
                if out is not None:
                    return out
        # already parsed: conform the decoded payload rather than parse again (and a payload
        # that repeated a key must keep the parser's last-wins value, not the typed decoder's)
        conformed = transformer(event.payload)
        return conformed if isinstance(conformed, Rejected) else encode_payload(conformed.payload)

    def conform(
        self,
        state: SubjectState,
        delivery: Delivery,
        event: RawEvent,
        *,
        refused: str | None = None,
        details: Sequence[Mapping[str, Any]] = (),
        note: str | None = None,
        quarantine_id: int | None = None,
        park: bool = False,
        closed: bool = False,
    ) -> Routed:
        """Conform with the subject's version (``closed``: without keeping fields it does not
        declare); what it refuses is a dead letter with the transformer's reason — or, given
        ``refused``, with that reason (``outlier``, ``drift_rejected``) and ``details``/``note``
        saying why, or parked (``park``)."""
        result = self.transform(state, event, closed=closed)
        if not isinstance(result, Rejected):
            return self.conformed(state, delivery, event, result)
        reasons = [
            {"code": str(r.code), "path": r.path, "message": r.message} for r in result.reasons
        ]
        first = result.reasons[0]
        if refused is None:
            return self.dead(
                delivery,
                str(first.code),
                f"not conformable to version {result.version}: {first.message}",
                event.subject,
                details=reasons,
            )
        message = note or f"not conformable to version {result.version}: {first.message}"
        return self.dead(
            delivery,
            refused,
            message,
            event.subject,
            details=[*details, *reasons],
            quarantine_id=quarantine_id,
            parked=park,
            path=_first_path(details) or first.path,
        )

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
        if event.duplicate_keys:
            headers = dict(message.headers)
            # a JSON array: a key (so a pointer) may hold any character, commas included
            headers[DUPLICATE_KEYS_HEADER] = orjson.dumps(list(event.duplicate_keys)).decode()
            message = OutgoingMessage(message.subject, message.data, headers, message.msg_id)
        return Routed(message, delivery, event.subject, None)

    def dead(
        self,
        delivery: Delivery,
        reason: str,
        message: str,
        subject: str | None,
        *,
        details: Sequence[Mapping[str, Any]] = (),
        quarantine_id: int | None = None,
        parked: bool = False,
        path: str | None = None,
    ) -> Routed:
        """A dead letter (or, ``parked``, an event a quarantine holds) of one input."""
        now = self._clock()
        msg_id = self.identity(delivery)
        out = dead_letter(
            self._subjects,
            reason=reason,
            message=message,
            subject=subject,
            data=delivery.data,
            headers=delivery.headers,
            raw_subject=delivery.subject,
            raw_seq=delivery.stream_seq,
            delivery_count=delivery.delivery_count,
            msg_id=msg_id,
            now=now,
            details=details,
            quarantine_id=quarantine_id,
            parked=parked,
        )
        record = DeadLetter(
            msg_id=msg_id,
            subject=subject,
            reason=reason,
            message=message,
            path=path if path is not None else _first_path(details),
            details=tuple(dict(d) for d in details),
            quarantine_id=quarantine_id,
            headers={k: v for k, v in delivery.headers.items() if k != "Nats-Msg-Id"},
            data=delivery.data,
            raw_subject=delivery.subject,
            raw_seq=delivery.stream_seq,
            time=now,
            state=(DeadLetterState.PARKED if parked else DeadLetterState.DEAD).value,
        )
        return Routed(out, delivery, subject, reason, record)

    def identity(self, delivery: Delivery) -> str:
        return input_identity(self._raw_stream, delivery.stream_seq)


def _first_path(details: Sequence[Mapping[str, Any]]) -> str | None:
    for item in details:
        path = item.get("path")
        if isinstance(path, str):
            return path
    return None
