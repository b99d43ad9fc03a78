"""Observing a subject's events: one verdict per event, decided in stream order.

``observe`` runs inside one write transaction and judges the events it is given one after the
other, exactly as if each had come alone, so the versions a stream produces depend on the
events and their order — never on how a worker happened to batch them, nor on the clock
(docs/pipeline.md has the state diagram of every fate):

* **no version yet** — the event joins the subject's running profile; the first version is
  inferred from that profile once it holds ``min_samples`` events, or earlier when the
  caller's hold deadline passed (``deadline=True``: from whatever is held, one event is
  enough). Until then the verdict is ``waiting``.
* **accepted** — the latest version takes the event as it is (strictly: nothing coerced,
  filled or undeclared). Only its count matters.
* otherwise the latest version is **widened** by the event (core/widen.py: never narrowing)
  and the steps it took are the event's changes:

  - a change a person rejected before → ``rejected``;
  - a change an open quarantine holds → ``quarantined`` (the event joins it);
  - subtractive or modifying changes without support (registry/evidence.py) → ``outlier``:
    the schema stays, the change is pending, and once it gains support the outliers are
    re-driven (``redrive_outliers`` in the result);
  - else the policy decides (decisions.py): the drift threshold, the compatibility mode,
    declared consumers, auto-register and the subject's mode → ``registered`` (the widened
    schema is the next version, which takes the event), ``quarantined`` (a new quarantine),
    or ``ignored`` (below the drift threshold).

Additive drift (a new optional field, null allowed, integer → number, a new enum or tag
value) needs no support: it registers on first sight.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from schemashift.core.canonical import canonical_bytes, fingerprint
from schemashift.errors import InvalidSchemaError
from schemashift.registry.config import Mode, SubjectConfig
from schemashift.registry.decisions import (
    ObserveDecision,
    compatibility_targets,
    consumer_conflicts,
    decide_drift,
    decide_first_version,
)
from schemashift.registry.evidence import Evidence, change_key
from schemashift.registry.queries import effective_config, effective_mode
from schemashift.registry.records import (
    Decision,
    DriftEvent,
    EventVerdict,
    ObserveResult,
    OutboxKind,
    QuarantineItem,
    QuarantineStatus,
    Verdict,
)
from schemashift.registry.refusals import InvalidRequestError
from schemashift.registry.registration import Candidate, existing_version, store_version
from schemashift.registry.store import StoreTx

if TYPE_CHECKING:
    from schemashift.core.diff import DriftReport
    from schemashift.core.profile import Profile
    from schemashift.core.transform import Transformer
    from schemashift.core.widen import Widening

__all__ = ["Observation", "ObserveBatch", "observe"]

MAX_SAMPLES = 20  # offending samples kept per quarantine item
MAX_SAMPLE_BYTES = 64 * 1024  # larger samples are not kept (the dead-letter stream has them)


@dataclass(frozen=True, slots=True)
class Observation:
    """One event to judge. ``offset``: how many of the subject's events the caller counted
    before this one since its previous observation (``None``: right after the previous
    observation in this batch); ``replayed``: a re-driven dead letter, counted before."""

    payload: dict[str, Any]
    offset: int | None = None
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class ObserveBatch:
    """Events of one subject in stream order, with the count of events the caller processed
    since its previous observation (``counted`` ≥ the events here; known-shape events that
    needed no judgement are counted too), and whether its hold deadline for a first version
    has passed."""

    observations: tuple[Observation, ...]
    counted: int
    deadline: bool = False

    @classmethod
    def of(
        cls,
        payloads: Sequence[Mapping[str, Any]],
        counted: int | None = None,
        deadline: bool = False,
    ) -> ObserveBatch:
        """Payloads that were the last ``len(payloads)`` of ``counted`` events (by default
        exactly those): the caller saw the others fit the latest version."""
        total = len(payloads) if counted is None else max(counted, len(payloads))
        skipped = total - len(payloads)
        items = []
        for index, payload in enumerate(payloads):
            if not isinstance(payload, Mapping):
                raise InvalidRequestError("observe takes JSON objects (event payloads)")
            items.append(Observation(dict(payload), offset=skipped + index))
        return cls(tuple(items), total, deadline)


# Strict checkers compiled per schema fingerprint, shared by every transaction of the process
# (a schema under a fingerprint never changes).
_CHECKERS: OrderedDict[str, Transformer] = OrderedDict()
_CHECKERS_LOCK = threading.Lock()
_CHECKERS_LIMIT = 256


def strict_checker_for(schema: Any) -> Transformer:
    from schemashift.core.transform import strict_checker

    key = fingerprint(schema)
    with _CHECKERS_LOCK:
        found = _CHECKERS.get(key)
        if found is not None:
            _CHECKERS.move_to_end(key)
            return found
    checker = strict_checker(schema)
    with _CHECKERS_LOCK:
        _CHECKERS[key] = checker
        while len(_CHECKERS) > _CHECKERS_LIMIT:
            _CHECKERS.popitem(last=False)
    return checker


@dataclass(slots=True)
class _Run:
    """The state one observation carries from event to event."""

    tx: StoreTx
    subject: str
    config: SubjectConfig
    mode: Mode
    now: datetime
    evidence: Evidence
    stored_profile: dict[str, Any] | None
    latest: Any  # SchemaVersion | None
    verdicts: list[EventVerdict | None] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    first: list[dict[str, Any]] = field(default_factory=list)  # this batch's first-version events
    drift: list[dict[str, Any]] = field(default_factory=list)  # events a new version was made for
    decision: Decision = Decision.NONE
    report: DriftReport | None = None
    reasons: tuple[str, ...] = ()
    registered: list[tuple[int, int]] = field(default_factory=list)  # (version, schema id)
    quarantine_id: int | None = None
    redrive: bool = False
    _running: Profile | None = None
    _open: list[QuarantineItem] | None = None

    def settle(self, index: int, verdict: EventVerdict) -> None:
        self.verdicts[index] = verdict

    @property
    def running(self) -> Profile:
        """The subject's running profile, read only when an event needs it (a first version,
        a registration, a FORWARD/FULL check): most observations take every event as it is."""
        if self._running is None:
            from schemashift.core.profile import Profile

            stored = self.stored_profile
            self._running = Profile.from_dict(stored) if stored is not None else Profile()
        return self._running

    @running.setter
    def running(self, profile: Profile) -> None:
        self._running = profile

    def open_quarantines(self) -> list[QuarantineItem]:
        """The subject's open quarantines, read once per observation and kept current."""
        if self._open is None:
            self._open = self.tx.list_quarantine(self.subject, QuarantineStatus.OPEN)
        return self._open


def observe(
    tx: StoreTx, defaults: SubjectConfig, subject: str, batch: ObserveBatch, now: datetime
) -> ObserveResult:
    stored, _, baseline = tx.get_profile(subject)
    run = _Run(
        tx=tx,
        subject=subject,
        config=effective_config(tx, defaults, subject),
        mode=effective_mode(tx, subject),
        now=now,
        evidence=Evidence.from_dict(tx.get_evidence(subject)),
        stored_profile=stored,
        latest=tx.latest_version(subject),
        verdicts=[None] * len(batch.observations),
    )
    start = run.evidence.seen_total
    position = start
    for index, item in enumerate(batch.observations):
        if not item.replayed:
            position = start + item.offset + 1 if item.offset is not None else position + 1
            run.evidence.seen_total = max(run.evidence.seen_total, position)
        if run.latest is None:
            _first_version_step(run, index, item)
        else:
            _judge(run, index, item, None if item.replayed else position)
    run.evidence.seen_total = max(run.evidence.seen_total, start + batch.counted)
    if run.latest is None and run.running.count and batch.deadline:
        _register_first(run)
    for index in run.waiting:
        run.settle(index, EventVerdict(Verdict.WAITING))
    if not batch.observations and run.evidence.pending_now_supported(run.config):
        run.redrive = True  # volume alone brought a pending change its support
    if run.redrive:
        run.evidence.outliers_open = 0
        run.evidence.pending.clear()
    _save(run, stored is not None, baseline)
    latest = run.latest
    verdicts = tuple(v if v is not None else EventVerdict(Verdict.WAITING) for v in run.verdicts)
    return ObserveResult(
        subject=subject,
        decision=run.decision,
        report=run.report,
        sample_count=run.running.count if run.latest is None else run.evidence.seen_total,
        version=run.registered[-1][0] if run.registered else None,
        schema_id=run.registered[-1][1] if run.registered else None,
        quarantine_id=run.quarantine_id,
        reasons=run.reasons,
        verdicts=verdicts,
        latest_version=None if latest is None else latest.version,
        redrive_outliers=run.redrive,
        outliers_open=run.evidence.outliers_open,
    )


def _escalate(run: _Run, decision: Decision) -> None:
    """The batch's summary decision: the most consequential one any event got."""
    order = (
        Decision.NONE,
        Decision.INSUFFICIENT_SAMPLES,
        Decision.OUTLIER,
        Decision.REGISTERED,
        Decision.QUARANTINED,
    )
    if order.index(decision) > order.index(run.decision):
        run.decision = decision


# -- the first version -----------------------------------------------------------------------


def _first_version_step(run: _Run, index: int, item: Observation) -> None:
    open_first = _open_quarantine(run, None)
    if open_first is not None:
        _join_quarantine(run, open_first, item.payload)
        run.settle(index, EventVerdict(Verdict.QUARANTINED, quarantine_id=open_first.quarantine_id))
        _escalate(run, Decision.QUARANTINED)
        return
    run.running.add(item.payload)
    if len(run.first) < MAX_SAMPLES:
        run.first.append(item.payload)
    run.waiting.append(index)
    if run.running.count >= run.config.min_samples:
        _register_first(run)
    else:
        _escalate(run, Decision.INSUFFICIENT_SAMPLES)
        run.reasons = (
            f"{run.running.count} of {run.config.min_samples} samples needed before a first"
            " version",
        )


def _register_first(run: _Run) -> None:
    decision = decide_first_version(run.config)
    if decision.decision is Decision.REGISTERED and run.mode is not Mode.READWRITE:
        decision = ObserveDecision(
            Decision.QUARANTINED,
            (f"subject is in {run.mode.value} mode: nothing registers by itself",),
        )
    schema = run.running.finish()
    held, run.waiting = run.waiting, []
    if decision.decision is Decision.REGISTERED:
        version = _store(run, schema, changes=[], score=None)
        verdict = EventVerdict(Verdict.REGISTERED, version=version)
        run.tx.append_drift(_drift_event(run, None, 0.0, Decision.REGISTERED, version, None, ()))
    else:
        samples = [p for p in run.first if len(canonical_bytes(p)) <= MAX_SAMPLE_BYTES]
        qid = _new_quarantine(run, None, schema, None, decision.reasons, [], 0.0, samples)
        verdict = EventVerdict(Verdict.QUARANTINED, quarantine_id=qid, reasons=decision.reasons)
        run.tx.append_drift(_drift_event(run, None, 0.0, Decision.QUARANTINED, None, qid, ()))
    for index in held:
        run.settle(index, verdict)
    _escalate(run, decision.decision)
    run.reasons = decision.reasons


# -- an event against the latest version -----------------------------------------------------


def _judge(run: _Run, index: int, item: Observation, position: int | None) -> None:
    from schemashift.core.widen import widen

    latest = run.latest
    try:
        # widening decides acceptance too: no step needed means the latest version takes the
        # event as it is (the property tests pin this against the strict checker), and no
        # checker has to be compiled for every version a stream goes through
        widening = widen(latest.schema, item.payload, fold=run.evidence.keys_do_not_recur)
    except InvalidSchemaError as exc:
        _unjudgeable(run, index, item.payload, f"the latest version does not compile: {exc}")
        return
    if widening.changed:
        _drift(run, index, item.payload, position, widening)
        return
    run.settle(index, EventVerdict(Verdict.ACCEPTED, version=latest.version))


def _accepts(schema: Any, payload: dict[str, Any]) -> bool:
    """Whether ``schema`` takes ``payload`` as it is (InvalidSchemaError: it cannot judge)."""
    from schemashift.core.transform import Rejected

    return not isinstance(strict_checker_for(schema)(payload), Rejected)


def _unjudgeable(run: _Run, index: int, payload: dict[str, Any], why: str) -> None:
    """A latest version nothing can be judged against: a person must look (quarantine)."""
    reasons = (f"compatibility could not be decided: {why}",)
    holding = _open_quarantine(run, {why})
    if holding is None:
        sample = [payload] if len(canonical_bytes(payload)) <= MAX_SAMPLE_BYTES else []
        report = {"changes": [{"code": "type_widened", "path": "", "class": "modification",
                               "key": why}]}  # fmt: skip
        qid = _new_quarantine(run, run.latest.version, run.latest.schema, None, reasons, [], 1.0,
                              sample, report_dict=report)  # fmt: skip
    else:
        qid = holding.quarantine_id
        _join_quarantine(run, holding, payload)
    run.settle(index, EventVerdict(Verdict.QUARANTINED, quarantine_id=qid, reasons=reasons))
    run.reasons = reasons
    _escalate(run, Decision.QUARANTINED)


def _drift(
    run: _Run, index: int, payload: dict[str, Any], position: int | None, widening: Widening
) -> None:
    from schemashift.core.diff import report_of

    schema = widening.schema
    if widening.opaque:
        # keywords the widening could not reason about: a version nobody can compile must
        # not be registered, and what it cannot judge a person must look at
        try:
            taken = _accepts(schema, payload)
        except InvalidSchemaError as exc:
            _unjudgeable(run, index, payload, f"the latest version does not compile: {exc}")
            return
        if not taken:
            _unjudgeable(run, index, payload, "the widened version does not take the event")
            return
    report = report_of(widening.deltas)
    changes = [c.to_dict() for c in report.changes]
    keys = sorted({change_key(c) for c in changes if c["class"] != "additive"})
    named = {change_key(c) for c in changes}  # what a quarantine or a rejection is about

    rejected = [run.evidence.rejected[k] for k in sorted(named) if k in run.evidence.rejected]
    if rejected:
        run.settle(index, EventVerdict(Verdict.REJECTED, changes=tuple(changes),
                                       quarantine_id=rejected[0]))  # fmt: skip
        return
    if position is not None:
        for key in keys:
            run.evidence.shown(key, position)
    holding = _open_quarantine(run, named) if named else None
    if holding is not None:
        _join_quarantine(run, holding, payload)
        run.settle(index, EventVerdict(Verdict.QUARANTINED, changes=tuple(changes),
                                       quarantine_id=holding.quarantine_id))  # fmt: skip
        _escalate(run, Decision.QUARANTINED)
        return
    if keys and not run.evidence.supported(keys, run.config):
        run.evidence.pending.update(keys)
        run.evidence.outliers_open += 1
        run.evidence.outliers_total += 1
        reason = _support_reason(run, keys)
        run.settle(index, EventVerdict(Verdict.OUTLIER, changes=tuple(changes), reasons=(reason,)))
        _escalate(run, Decision.OUTLIER)
        return
    run.evidence.pending.difference_update(keys)
    _decide(run, index, payload, schema, report, changes)


def _support_reason(run: _Run, keys: Sequence[str]) -> str:
    from schemashift.registry.evidence import needed_support

    config, evidence = run.config, run.evidence
    if evidence.seen_total < config.min_samples:
        return (
            f"{len(keys)} subtractive or modifying change(s) after {evidence.seen_total} events;"
            f" the subject needs {config.min_samples} events before such drift may change it"
        )
    needed = needed_support(config, evidence.seen_total)
    weakest = min(keys, key=lambda k: evidence.support_of(k, config))
    return (
        f"{weakest}: shown by {evidence.support_of(weakest, config)} of the last"
        f" {min(evidence.seen_total, config.support_window)} events, {needed} needed"
        f" (min_support {config.min_support:g})"
    )


def _decide(
    run: _Run,
    index: int,
    payload: dict[str, Any],
    schema: Any,
    report: DriftReport,
    changes: list[dict[str, Any]],
) -> None:
    compatible, messages = _compatible(run, schema, payload)
    decision = decide_drift(
        score=float(report.score),
        config=run.config,
        compatible=compatible,
        incompatibilities=messages,
        conflicting_consumers=consumer_conflicts(changes, run.tx.consumers(run.subject)),
    )
    if decision.decision is Decision.REGISTERED and run.mode is not Mode.READWRITE:
        decision = ObserveDecision(
            Decision.QUARANTINED,
            (f"subject is in {run.mode.value} mode: nothing registers by itself",),
        )
    base = run.latest.version
    if decision.decision is Decision.NONE:
        run.settle(index, EventVerdict(Verdict.IGNORED, changes=tuple(changes),
                                       version=base))  # fmt: skip
        return
    full = _with_context(report, run, schema)
    run.report, run.reasons = full, decision.reasons
    score = float(report.score)
    if decision.decision is Decision.REGISTERED:
        version = _store(run, schema, changes=changes, score=score)
        run.drift.append(payload)
        _remember_added(run, changes)
        run.tx.append_drift(
            _drift_event(run, base, score, Decision.REGISTERED, version, None, tuple(changes))
        )
        run.settle(index, EventVerdict(Verdict.REGISTERED, changes=tuple(changes), version=version))
        if run.evidence.outliers_open:
            run.redrive = True  # a new version may take the parked outliers now
    else:
        sample = [payload] if len(canonical_bytes(payload)) <= MAX_SAMPLE_BYTES else []
        qid = _new_quarantine(run, base, schema, full, decision.reasons, changes, score, sample)
        run.tx.append_drift(
            _drift_event(run, base, score, Decision.QUARANTINED, None, qid, tuple(changes))
        )
        run.settle(index, EventVerdict(Verdict.QUARANTINED, changes=tuple(changes),
                                       quarantine_id=qid, reasons=decision.reasons))  # fmt: skip
        if run.evidence.outliers_open:
            run.redrive = True  # outliers showing this drift belong to the quarantine now
    _escalate(run, decision.decision)


def _remember_added(run: _Run, changes: list[dict[str, Any]]) -> None:
    added: dict[str, list[str]] = {}
    for change in changes:
        if change["code"] == "property_added":
            parent, _, name = str(change["path"]).rpartition("/")
            added.setdefault(parent, []).append(name)
    for parent, names in added.items():
        run.evidence.keys_added(parent, names)


def _compatible(run: _Run, schema: Any, payload: dict[str, Any]) -> tuple[bool, tuple[str, ...]]:
    from schemashift.core.compat import check_compatibility

    mode = run.config.compatibility
    if mode.value in ("NONE", "BACKWARD", "BACKWARD_TRANSITIVE"):
        # A widening of the latest version takes everything the latest takes (core/widen.py;
        # pinned by a property test), and the latest took what the versions before it took
        # when it was registered: BACKWARD holds by construction. The checker is sound but
        # not complete (an anyOf it cannot prove), so asking it could only hold a compatible
        # drift back.
        return True, ()
    earlier = (
        [v.schema for v in run.tx.versions(run.subject, include_deleted=False)]
        if mode.transitive
        else [run.latest.schema]
    )
    targets = compatibility_targets(mode, earlier)
    from schemashift.core.profile import Profile

    # what has been seen, this event included: the "observed" policy discharges the open
    # content model of older versions by the values actually seen
    seen = run.running.merge(Profile().update([*run.drift, payload]))
    try:
        result = check_compatibility(targets, schema, mode.value, policy="observed", profile=seen)
    except InvalidSchemaError as exc:
        return False, (f"compatibility could not be decided: {exc}",)
    messages = tuple(f"{f.path or '/'}: {f.message}" for f in result.findings[:10])
    return bool(result.compatible), messages


# -- writing ---------------------------------------------------------------------------------


def _store(run: _Run, schema: Any, *, changes: list[dict[str, Any]], score: float | None) -> int:
    candidate = Candidate.of(schema)
    # an older live version may hold exactly this schema: Confluent never lists a schema
    # twice in a subject, so that version is the answer
    found = existing_version(run.tx, run.subject, candidate)
    if found is None:
        found = store_version(
            run.tx, run.subject, candidate, run.now, changes=changes, score=score,
            reset_profile=False,
        )  # fmt: skip
    run.latest = found
    run.registered.append((found.version, found.schema_id))
    return int(found.version)


def _with_context(report: DriftReport, run: _Run, schema: Any) -> DriftReport:

    return dataclasses.replace(
        report,
        subject=run.subject,
        base_version=run.latest.version,
        inferred_schema=schema,
        sample_count=run.evidence.seen_total,
    )


def _drift_event(
    run: _Run,
    base: int | None,
    score: float,
    decision: Decision,
    version: int | None,
    quarantine_id: int | None,
    changes: tuple[dict[str, Any], ...],
) -> DriftEvent:
    return DriftEvent(
        subject=run.subject,
        time=run.now,
        base_version=base,
        score=score,
        decision=decision,
        version=version,
        quarantine_id=quarantine_id,
        changes=changes,
        sample_count=run.evidence.seen_total,
    )


def _open_quarantine(run: _Run, keys: set[str] | None) -> QuarantineItem | None:
    """The open quarantine holding one of ``keys`` (``None``: the one for a first version)."""
    for item in run.open_quarantines():
        if keys is None:
            if item.base_version is None:
                return item
            continue
        held = {c.get("key") or change_key(c) for c in item.report.get("changes", ())}
        if held & keys:
            return item
    return None


def _join_quarantine(run: _Run, item: QuarantineItem, payload: dict[str, Any]) -> None:
    if len(item.samples) >= MAX_SAMPLES or len(canonical_bytes(payload)) > MAX_SAMPLE_BYTES:
        return
    joined = dataclasses.replace(item, samples=(*item.samples, payload))
    run.tx.update_quarantine(joined)
    cached = run.open_quarantines()
    cached[cached.index(item)] = joined


def _new_quarantine(
    run: _Run,
    base: int | None,
    schema: Any,
    report: DriftReport | None,
    reasons: tuple[str, ...],
    changes: list[dict[str, Any]],
    score: float,
    samples: Sequence[dict[str, Any]],
    *,
    report_dict: dict[str, Any] | None = None,
) -> int:
    consumers = tuple(
        c.consumer for c in run.tx.consumers(run.subject) if consumer_conflicts(changes, [c])
    )
    item = QuarantineItem(
        quarantine_id=0,
        subject=run.subject,
        base_version=base,
        status=QuarantineStatus.OPEN,
        schema=schema,
        report=report_dict
        if report_dict is not None
        else {}
        if report is None
        else report.to_dict(),
        reasons=reasons,
        consumers=consumers,
        samples=tuple(samples)[:MAX_SAMPLES],
        created_at=run.now,
    )
    new_id = run.tx.insert_quarantine(item, fingerprint(schema))
    run.open_quarantines().append(dataclasses.replace(item, quarantine_id=new_id))
    run.tx.append_outbox(
        OutboxKind.DRIFT_QUARANTINED,
        run.subject,
        now=run.now,
        version=base,
        changes=changes,
        score=score,
        quarantine_id=new_id,
    )
    run.quarantine_id = new_id
    return new_id


def _save(run: _Run, had_profile: bool, baseline: dict[str, Any] | None) -> None:
    from schemashift.core.profile import Profile

    if run.drift:
        run.running = run.running.merge(Profile().update(run.drift))
    if run.drift or run.registered or not had_profile or run.latest is None:
        profile = run.running.to_dict()
        run.tx.put_profile(run.subject, profile, 0, profile if run.registered else baseline)
    run.tx.put_evidence(run.subject, run.evidence.to_dict())
