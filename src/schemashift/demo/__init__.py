"""The project's own realistic event generator (see :mod:`schemashift.demo.generator`)."""

from __future__ import annotations

from schemashift.demo.generator import SUBJECTS, DriftSchedule, generate, to_cloudevent

__all__ = ["SUBJECTS", "DriftSchedule", "generate", "to_cloudevent"]
