"""One Monte Carlo sample, and the samples table built from their rows.

:func:`run_sample` is what a campaign worker runs: a pure function of (scenario text, sample index,
design text) — the campaign seed is in the scenario's ``[dispersions]`` table — that draws the
sample (:func:`guanghan.mission.dispersions.draw_sample`), validates it as a scenario, flies it with
:func:`guanghan.mission.runner.run` (flying the campaign's nominal design, made once by
:func:`design_nominal`, unless ``dispersions.design = "per_sample"``) and returns one flat row:
``index``, ``seed``, ``outcome``, ``failed_leg``, ``reason``, ``wall_s``, the drawn inputs as
``input:<path>`` and every summary figure under its own key. It never raises for a sample's own
trouble:

    * ``completed`` — the mission completed;
    * ``failed`` — a leg ended it (guidance failure, crash, skip-out...), with the leg and reason;
    * ``timeout`` — a leg ran past its wall-time budget (the tighter of the leg's ``limits`` and
      ``dispersions.sample_max_wall_s``);
    * ``invalid`` — the drawn scenario is refused (a value outside a field's bounds, an impossible
      vehicle), with the message naming the field;
    * ``error`` — anything else raised inside a leg (a defect: the row keeps the exception).

The parsed scenario and design are cached per worker process, so a worker reads them once.
"""

from __future__ import annotations

import functools
import hashlib
import time
import tomllib

import pyarrow as pa

from guanghan.errors import ScenarioError
from guanghan.mission.dispersions import draw_sample
from guanghan.mission.mission_design import MissionDesign, parse_design
from guanghan.mission.runner import run
from guanghan.mission.scenario import Scenario, validate_scenario

#: columns every row has, first in the table, in this order
BOOK_COLUMNS = ("index", "seed", "outcome", "failed_leg", "reason", "wall_s")
OUTCOMES = ("completed", "failed", "timeout", "invalid", "error")
INPUT_PREFIX = "input:"


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=4)
def parse_campaign_scenario(text: str, file: str) -> Scenario:
    """The scenario of a campaign, validated, with its ``[dispersions]`` table (ScenarioError if
    it has none)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"TOML syntax error: {exc}", file=file) from None
    scenario = validate_scenario(data, file=file)
    if scenario.dispersions is None:
        raise ScenarioError("a campaign needs a [dispersions] table (at least its seed)",
                            file=file, field="dispersions", value=None)
    return scenario


@functools.lru_cache(maxsize=4)
def _nominal(text: str, file: str) -> tuple[dict, dict]:
    sc = parse_campaign_scenario(text, file)
    return sc.nominal_data(full=True), sc.nominal_data()


def design_nominal(text: str, file: str) -> str:
    """The ``design.json`` text of the campaign's undispersed scenario, flown once to design it
    (a leg that fails in it leaves the later legs to design their own in every sample)."""
    return run(parse_campaign_scenario(text, file)).design.to_json()


@functools.lru_cache(maxsize=4)
def _design(design_text: str) -> MissionDesign:
    return parse_design(design_text, "the campaign's nominal design")


def run_sample(text: str, file: str, index: int, design_text: str | None = None) -> dict:
    """The row of sample ``index`` of the campaign described by the scenario ``text``, flying the
    design in ``design_text`` (None: the sample designs its own)."""
    t0 = time.perf_counter()
    scenario = parse_campaign_scenario(text, file)
    full, sparse = _nominal(text, file)
    data, drawn, word = draw_sample(full, sparse, scenario.dispersions, index)
    row = {"index": index, "seed": word, "outcome": "completed", "failed_leg": None,
           "reason": None, "wall_s": 0.0}
    row.update({f"{INPUT_PREFIX}{p}": v for p, v in drawn.items()})
    leg = {"name": None}

    def at_leg(name, i, n):
        leg["name"] = name

    try:
        sample = validate_scenario(data, file=f"{file} (sample {index})")
        result = run(sample, progress=at_leg, design=_design(design_text) if design_text else None,
                     summary_only=True)
    except ScenarioError as exc:
        row.update(outcome="invalid", failed_leg=leg["name"], reason=str(exc))
    except Exception as exc:                    # noqa: BLE001 - a defect, recorded, not fatal
        row.update(outcome="error", failed_leg=leg["name"], reason=f"{type(exc).__name__}: {exc}")
    else:
        row.update(result.summary)
        if not result.completed:
            timeout = "limits.max_wall_s" in (result.reason or "")
            row.update(outcome="timeout" if timeout else "failed", failed_leg=result.failed_leg,
                       reason=result.reason)
    row["wall_s"] = time.perf_counter() - t0
    return row


def rows_table(rows: list[dict]) -> pa.Table:
    """A table of rows (sorted by index), bookkeeping columns first, then inputs, then figures."""
    rows = sorted(rows, key=lambda r: r["index"])
    names: dict[str, None] = dict.fromkeys(BOOK_COLUMNS)
    for r in rows:
        names.update(dict.fromkeys(k for k in r if k.startswith(INPUT_PREFIX)))
    for r in rows:
        names.update(dict.fromkeys(r))
    columns = {}
    for name in names:
        values = [r.get(name) for r in rows]
        columns[name] = _array(values)
    return pa.table(columns)


def _array(values: list) -> pa.Array:
    """One column; numbers that mix int and float become float64, anything else odd a string."""
    kinds = {type(v) for v in values if v is not None}
    if kinds <= {int, float} and float in kinds:
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())


def concat_chunks(tables: list[pa.Table]) -> pa.Table:
    """Chunk tables in index order as one table with a common schema (missing columns null,
    int and float promoted to float64)."""
    table = pa.concat_tables(tables, promote_options="permissive")
    return table.sort_by("index")
