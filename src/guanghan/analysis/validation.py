"""Published vs simulated figures: the scenario's ``[[validation]]`` rows checked against a run.

Each row names a summary key (``<phase>.<quantity>_<unit>``), the published value, an absolute
tolerance in the same unit and the source. Status is ``pass`` when |simulated − published| ≤
tolerance, ``fail`` otherwise, and ``not run`` when the run produced no such key (a phase that does
not exist yet). A published UTC epoch is compared in seconds.
"""

from __future__ import annotations

from guanghan.analysis.report import split_summary_key
from guanghan.environment import time_scales


def validation_rows(scenario, summary: dict) -> list[dict]:
    """Rows ``{"key", "quantity", "published", "simulated", "unit", "tolerance", "difference",
    "status", "source", "note"}`` for every validation target of ``scenario``."""
    rows = []
    for target in scenario.validation:
        _, quantity, unit = split_summary_key(target.key)
        simulated = summary.get(target.key)
        diff = _difference(target.published, simulated)
        if isinstance(target.published, str):
            unit = "UTC (tolerance s)"
        status = "not run" if diff is None else ("pass" if abs(diff) <= target.tolerance else "fail")
        rows.append({"key": target.key, "quantity": quantity, "published": target.published,
                     "simulated": simulated, "unit": unit, "tolerance": target.tolerance,
                     "difference": diff, "status": status, "source": target.source,
                     "note": target.note})
    return rows


def _difference(published, simulated) -> float | None:
    """simulated − published: in the key's unit, or in seconds for UTC epochs; None if not run."""
    if isinstance(published, str):
        if not isinstance(simulated, str):
            return None
        return float(time_scales.utc_to_et(simulated) - time_scales.utc_to_et(published))
    if isinstance(simulated, (int, float)) and not isinstance(simulated, bool):
        return float(simulated) - float(published)
    return None
