"""What becomes of a held event once the registry has judged it (docs/pipeline.md, "Fates").

One function per verdict of :class:`~schemashift.registry.records.Verdict`, each returning the
event's one output. Whatever the verdict, an event the subject's current version can conform
is conformed — a quarantine, an outlier or a rejected drift only decides what happens to the
events the version *refuses*. (For those verdicts "can conform" means without keeping a field
the version does not declare: a later version may declare it with another type, and must still
take every event conformed before it.)

=============  ==========================================================================
verdict        the event
=============  ==========================================================================
accepted       conformed with the latest version (which takes it as it is)
registered     conformed with the new version (registered for it, or by it)
ignored        conformed if the version can; else a dead letter with the transformer's reason
outlier        conformed if the version can; else a dead letter ``outlier`` with the changes
               it would need — re-driven once they gain support
quarantined    conformed if the version can; else *parked* (the parked stream) until a person
               decides: accept re-drives it, reject makes it a ``drift_rejected`` dead letter
rejected       conformed if the version can; else a dead letter ``drift_rejected``
waiting        held until the subject's first version (see subject_state.py)
=============  ==========================================================================
"""

from __future__ import annotations

from schemashift.pipeline.envelope import DeadLetterReason
from schemashift.pipeline.outputs import Outputs, Routed
from schemashift.pipeline.subject_state import Held, Remembered, SubjectState
from schemashift.registry.records import EventVerdict, Verdict

__all__ = ["settle"]


def settle(out: Outputs, state: SubjectState, held: Held, verdict: EventVerdict) -> Routed | None:
    """The output of ``held`` under ``verdict`` (None: it keeps waiting for a first version)."""
    kind = verdict.verdict
    if kind is Verdict.WAITING:
        return None
    if kind in (Verdict.ACCEPTED, Verdict.REGISTERED):
        state.known.add(held.shape)
        return out.conform(state, held.delivery, held.event)
    if kind is Verdict.IGNORED:
        return out.conform(state, held.delivery, held.event, closed=True)
    changes = tuple(dict(c) for c in verdict.changes)
    if kind is Verdict.OUTLIER:
        why = "; ".join(verdict.reasons) or "drift without enough support"
        return out.conform(
            state,
            held.delivery,
            held.event,
            refused=DeadLetterReason.OUTLIER,
            details=changes,
            note=f"outlier: {why}",
            closed=True,
        )
    if kind is Verdict.QUARANTINED:
        state.remembered[held.shape] = Remembered("quarantined", verdict.quarantine_id, changes)
        return park(out, state, held, verdict.quarantine_id, changes, verdict.reasons)
    # rejected
    state.remembered[held.shape] = Remembered("rejected", verdict.quarantine_id, changes)
    return rejected(out, state, held, verdict.quarantine_id, changes)


def park(
    out: Outputs,
    state: SubjectState,
    held: Held,
    quarantine_id: int | None,
    changes: tuple[dict[str, object], ...],
    reasons: tuple[str, ...] = (),
) -> Routed:
    """Conformed when the version can; else parked under the quarantine."""
    why = "; ".join(reasons) or "drift quarantined by the registry"
    if state.transformer is None or quarantine_id is None:
        return out.dead(
            held.delivery,
            DeadLetterReason.QUARANTINED,
            f"held by quarantine {quarantine_id}: {why}",
            state.subject,
            details=changes,
            quarantine_id=quarantine_id,
            parked=quarantine_id is not None,
        )
    return out.conform(
        state,
        held.delivery,
        held.event,
        refused=DeadLetterReason.QUARANTINED,
        details=changes,
        note=f"held by quarantine {quarantine_id}: {why}",
        quarantine_id=quarantine_id,
        park=True,
        closed=True,
    )


def rejected(
    out: Outputs,
    state: SubjectState,
    held: Held,
    quarantine_id: int | None,
    changes: tuple[dict[str, object], ...],
) -> Routed:
    return out.conform(
        state,
        held.delivery,
        held.event,
        refused=DeadLetterReason.DRIFT_REJECTED,
        details=changes,
        note=f"its drift was rejected (quarantine {quarantine_id})",
        quarantine_id=quarantine_id,
        closed=True,
    )
