"""Schema compatibility: a sound subset checker with Confluent's modes.

``check_compatibility(old, new, mode)`` says whether every instance valid under the writer is
valid under the reader (BACKWARD: writer = old; FORWARD: writer = new; FULL: both). It never
answers *compatible* without a proof; when it cannot decide (two different regular
expressions, an unsupported keyword) it answers *incompatible* with a finding saying why.
"""

from __future__ import annotations

from schemashift.core.compat.api import HasPathStats, check_compatibility, observed_types
from schemashift.core.compat.model import (
    CompatibilityMode,
    CompatibilityResult,
    Finding,
    FindingCode,
    Policy,
)

__all__ = [
    "CompatibilityMode",
    "CompatibilityResult",
    "Finding",
    "FindingCode",
    "HasPathStats",
    "Policy",
    "check_compatibility",
    "observed_types",
]
