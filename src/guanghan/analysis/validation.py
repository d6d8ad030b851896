"""Published vs simulated figures: the scenario's ``[[validation]]`` rows checked against a run.

Each row names a summary key (``<phase>.<quantity>_<unit>``), the published value, an absolute
tolerance in the same unit and the source. Status is ``pass`` when |simulated − published| ≤
tolerance, ``fail`` otherwise, and ``not run`` when the run produced no such key (a phase that does
not exist yet).
"""

from __future__ import annotations

from guanghan.analysis.report import split_summary_key


def validation_rows(scenario, summary: dict) -> list[dict]:
    """Rows ``{"key", "quantity", "published", "simulated", "unit", "tolerance", "difference",
    "status", "source", "note"}`` for every validation target of ``scenario``."""
    rows = []
    for target in scenario.validation:
        _, quantity, unit = split_summary_key(target.key)
        simulated = summary.get(target.key)
        if isinstance(simulated, (int, float)):
            diff = float(simulated) - target.published
            status = "pass" if abs(diff) <= target.tolerance else "fail"
        else:
            diff, status = None, "not run"
        rows.append({"key": target.key, "quantity": quantity, "published": target.published,
                     "simulated": simulated, "unit": unit, "tolerance": target.tolerance,
                     "difference": diff, "status": status, "source": target.source,
                     "note": target.note})
    return rows
