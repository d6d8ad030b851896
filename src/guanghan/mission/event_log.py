"""The mission event log: what happened, when (UTC), in which phase, with details in edge units."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from guanghan.environment import time_scales


def _plain(value):
    """JSON-ready value: numpy scalars/arrays to Python, floats rounded to 9 significant digits."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(f"{float(value):.9g}")
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


@dataclass
class EventLog:
    """Ordered records ``{"utc", "phase", "event", "details"}`` (plus ``et_s`` kept for sorting)."""

    records: list[dict] = field(default_factory=list)

    def add(self, et: float, phase: str, event: str, details: dict | None = None) -> None:
        self.records.append({"utc": time_scales.et_to_utc(et), "phase": phase, "event": event,
                             "details": _plain(details or {}), "et_s": float(et)})

    def extend(self, other: "EventLog") -> None:
        self.records.extend(other.records)

    def to_list(self) -> list[dict]:
        """Records sorted by epoch, without the internal ``et_s``."""
        ordered = sorted(self.records, key=lambda r: r["et_s"])
        return [{k: r[k] for k in ("utc", "phase", "event", "details")} for r in ordered]
