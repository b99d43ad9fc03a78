"""``schemashift serve``: one process composing the API, UI, ingest, worker, relay and webhooks.

- :class:`ServerSettings` — what to run and where (embedded defaults; ``SCHEMASHIFT_*``).
- :class:`SchemaShiftServer` — starts and stops the parts (``server/app.py``).
- :class:`DemoProducer` — generated events fed to ``POST /v1/events`` (``make run``).
"""

from __future__ import annotations

from schemashift.server.settings import ServerSettings

__all__ = ["ServerSettings"]
