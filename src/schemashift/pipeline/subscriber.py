"""The subscriber SDK: how a consumer hears about schema changes and adapts without a restart.

::

    async with Subscriber(bus="nats://127.0.0.1:4222", registry_url="http://127.0.0.1:8081",
                          name="billing", pins={"shop/order": 1},
                          contracts={"shop/order": ["/order_id", "/qty"]}) as sub:
        sub.on_update("shop/order", lambda update: print("new version", update.version))
        conformed = sub.conform("shop/order", payload)   # cast down to the pinned v1
        await sub.run()                                    # until sub.stop()

* a **durable consumer** named after the subscriber on ``<prefix>.schemas.>``: updates that
  arrive while the consumer is offline are delivered when it comes back, in version order per
  subject;
* a **local cache** of every version of the subjects it follows, loaded from the registry API
  at start and kept current from the updates (which carry the schema);
* ``on_update(subject, callback)`` — sync or async callbacks, ``"*"`` for every subject, each
  called once per (subject, version) in this process;
* ``transformer(subject)`` / ``conform(subject, payload)`` — conform to the version the
  consumer is pinned to (or the latest when unpinned); events of newer versions are cast down
  step by step to the pinned version, until that version's sunset, after which
  :class:`~schemashift.errors.VersionGoneError` tells the consumer to move on;
* ``models_dir`` — regenerate a pydantic model per version (``model(subject)``);
* ``contracts`` — the fields (JSON Pointers) the consumer reads, declared to the registry so
  drift that removes or retypes them is quarantined instead of registered.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from schemashift.bus.base import Bus, DeliverPolicy, StreamKind, SubscribeOptions, Subscription
from schemashift.core.transform import Conformed, Rejected, Transformer, TransformOptions, cast
from schemashift.core.transform import compile_transformer as _compile
from schemashift.core.transform.cache import TransformerCache
from schemashift.errors import BusError, RegistryError, VersionGoneError
from schemashift.pipeline.envelope import SchemaUpdate, parse_schema_update
from schemashift.pipeline.models import generate_model
from schemashift.pipeline.subjects import BusSubjects

__all__ = ["SchemaUpdate", "Subscriber"]

Callback = Callable[["SchemaUpdate"], Awaitable[None] | None]
ALL_SUBJECTS = "*"


class Subscriber:
    """Follows schema updates for a consumer (see the module docstring)."""

    def __init__(
        self,
        *,
        bus: Bus | str,
        registry_url: str,
        name: str,
        subjects: Sequence[str] | None = None,
        pins: Mapping[str, int] | None = None,
        contracts: Mapping[str, Sequence[str]] | None = None,
        models_dir: str | Path | None = None,
        transform_options: TransformOptions | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        if not name or any(c in name for c in " .*>"):
            raise ValueError(f"a subscriber name must be a plain token, got {name!r}")
        self.name = name
        self.registry_url = registry_url.rstrip("/")
        self._bus_spec = bus
        self._bus: Bus | None = bus if not isinstance(bus, str) else None
        self._owns_bus = isinstance(bus, str)
        self._http = http
        self._owns_http = http is None
        self._subjects = set(subjects) if subjects is not None else None
        self._pins = dict(pins or {})
        self._contracts = {k: list(v) for k, v in (contracts or {}).items()}
        self._models_dir = Path(models_dir) if models_dir is not None else None
        self._options = transform_options
        self._versions: dict[str, dict[int, dict[str, Any]]] = {}
        self._transformers: dict[tuple[str, int], Transformer] = {}
        self._cast_cache = TransformerCache()
        self._models: dict[tuple[str, int], type[Any]] = {}
        self._gone: set[tuple[str, int]] = set()
        self._callbacks: dict[str, list[Callback]] = {}
        self._notified: set[tuple[str, int]] = set()
        self._sub: Subscription | None = None
        self._stopping = asyncio.Event()

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, declare contracts, load the cache, and bind the durable consumer."""
        if self._bus is None:
            from schemashift.bus import connect_bus

            assert isinstance(self._bus_spec, str)
            self._bus = await connect_bus(self._bus_spec)
        if self._http is None:
            self._http = httpx.AsyncClient(base_url=self.registry_url, timeout=10.0)
        for subject, fields in self._contracts.items():
            await self.declare_contract(subject, fields)
        for subject in await self._followed_subjects():
            await self._load_subject(subject)
        self._sub = await self._bus.subscribe(
            BusSubjects(self._bus.prefix).wildcard(StreamKind.SCHEMAS),
            durable=f"subscriber-{self.name}",
            options=SubscribeOptions(deliver=DeliverPolicy.ALL, ack_wait=30.0, max_deliver=10),
        )

    async def close(self) -> None:
        if self._sub is not None:
            await self._sub.close()
            self._sub = None
        if self._owns_bus and self._bus is not None:
            await self._bus.close()
            self._bus = None
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> Subscriber:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def run(self) -> None:
        """Follow updates until :meth:`stop` (reconnects are the bus's business)."""
        self._stopping.clear()
        while not self._stopping.is_set():
            try:
                await self.poll(1.0)
            except BusError:
                await asyncio.sleep(0.5)

    async def stop(self) -> None:
        self._stopping.set()

    # -- what consumers call --------------------------------------------------------------

    def on_update(self, subject: str, callback: Callback) -> None:
        """Call ``callback(update)`` for each new version of ``subject`` (``"*"``: any)."""
        self._callbacks.setdefault(subject, []).append(callback)

    def versions(self, subject: str) -> dict[int, dict[str, Any]]:
        """The cached schemas of ``subject`` by version."""
        return dict(self._versions.get(subject, {}))

    def latest(self, subject: str) -> int | None:
        known = self._versions.get(subject)
        return max(known) if known else None

    def pinned(self, subject: str) -> int | None:
        """The version this consumer reads: its pin, else the latest known."""
        return self._pins.get(subject) or self.latest(subject)

    def pin(self, subject: str, version: int) -> None:
        self._pins[subject] = version

    def transformer(self, subject: str, version: int | None = None) -> Transformer:
        """The compiled transformer (and validator) for the pinned (or given) version."""
        chosen = version or self.pinned(subject)
        if chosen is None:
            raise RegistryError(f"no version of subject {subject!r} is known yet")
        if (subject, chosen) in self._gone:
            raise VersionGoneError(
                f"version {chosen} of {subject!r} is past its sunset; move the pin forward"
            )
        key = (subject, chosen)
        found = self._transformers.get(key)
        if found is None:
            schema = self._versions.get(subject, {}).get(chosen)
            if schema is None:
                raise RegistryError(f"version {chosen} of subject {subject!r} is not cached")
            found = _compile(schema, version=chosen, subject=subject, options=self._options)
            self._transformers[key] = found
        return found

    def conform(self, subject: str, payload: Any) -> Conformed | Rejected:
        """Conform an event (of any version) to the version this consumer is pinned to.

        An event that names its version (``schemaVersion``) is cast step by step through
        every cached version in between (``schemashift.core.transform.cast``); other events
        are conformed to the pinned schema directly. Either way the result has the pinned
        version's shape and ``schemaVersion``.
        """
        transformer = self.transformer(subject)  # raises for unknown or sunset versions
        target = transformer.version
        field = transformer.options.version_field
        source = payload.get(field) if isinstance(payload, dict) and field else None
        known = self._versions.get(subject, {})
        if (
            isinstance(source, int)
            and not isinstance(source, bool)
            and source != target
            and all(v in known for v in range(min(source, target), max(source, target) + 1))
        ):
            return cast(
                payload,
                from_version=source,
                to_version=target,
                versions=known,
                options=self._options,
                subject=subject,
                cache=self._cast_cache,
            )
        return transformer(payload)

    def model(self, subject: str, version: int | None = None) -> type[Any] | None:
        """The generated pydantic model of the pinned (or given) version, when enabled."""
        chosen = version or self.pinned(subject)
        return None if chosen is None else self._models.get((subject, chosen))

    async def declare_contract(self, subject: str, fields: Sequence[str]) -> None:
        """Tell the registry which fields this consumer reads (PUT …/consumers/<name>)."""
        response = await self._client().put(
            f"/v1/subjects/{quote(subject, safe='')}/consumers/{quote(self.name, safe='')}",
            json={"fields": list(fields)},
        )
        response.raise_for_status()

    async def poll(self, timeout: float = 1.0) -> list[SchemaUpdate]:
        """Fetch and apply pending updates once; the updates applied."""
        if self._sub is None:
            raise BusError("the subscriber is not started")
        applied: list[SchemaUpdate] = []
        for delivery in await self._sub.fetch(64, timeout):
            update = parse_schema_update(delivery.data)
            if update is not None and self._follows(update.subject):
                await self._apply(update)
                applied.append(update)
            await delivery.ack()
        return applied

    # -- internals ------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            raise BusError("the subscriber is not started")
        return self._http

    def _follows(self, subject: str) -> bool:
        return self._subjects is None or subject in self._subjects

    async def _followed_subjects(self) -> list[str]:
        if self._subjects is not None:
            return sorted(self._subjects)
        response = await self._client().get("/subjects")
        response.raise_for_status()
        return [str(s) for s in response.json()]

    async def _load_subject(self, subject: str) -> None:
        path = quote(subject, safe="")
        response = await self._client().get(f"/subjects/{path}/versions")
        if response.status_code == 404:
            return
        response.raise_for_status()
        for version in response.json():
            found = await self._client().get(f"/v1/subjects/{path}/versions/{version}")
            if found.status_code == 410:
                self._gone.add((subject, int(version)))
                continue
            found.raise_for_status()
            body = found.json()
            await self._store(subject, int(version), body["schema"])

    async def _store(self, subject: str, version: int, schema: dict[str, Any]) -> None:
        self._versions.setdefault(subject, {})[version] = schema
        self._transformers.pop((subject, version), None)
        if self._models_dir is not None and (subject, version) not in self._models:
            self._models[(subject, version)] = await asyncio.to_thread(
                generate_model, schema, subject, version, self._models_dir
            )

    async def _apply(self, update: SchemaUpdate) -> None:
        await self._store(update.subject, update.version, update.schema)
        pinned = self._pins.get(update.subject)
        if pinned is not None and pinned != update.version:
            await self._check_sunset(update.subject, pinned)
        key = (update.subject, update.version)
        if key in self._notified:
            return
        self._notified.add(key)
        for callback in [
            *self._callbacks.get(update.subject, []),
            *self._callbacks.get(ALL_SUBJECTS, []),
        ]:
            outcome = callback(update)
            if inspect.isawaitable(outcome):
                await outcome

    async def _check_sunset(self, subject: str, version: int) -> None:
        with contextlib.suppress(httpx.HTTPError):
            response = await self._client().get(
                f"/v1/subjects/{quote(subject, safe='')}/versions/{version}"
            )
            if response.status_code == 410:
                self._gone.add((subject, version))
