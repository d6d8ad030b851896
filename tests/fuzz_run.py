"""Running and judging fuzz cases (issue 8, item 5): the verdict on one mutated scenario.

Two stages, so CI can afford a few hundred cases:

1. **In-process** (:func:`check_in_process`, milliseconds): the case is written as TOML and read
   with :func:`guanghan.mission.scenario.load_scenario`, exactly the CLI's first step. A
   ScenarioError is what ``guanghan run`` would print and exit 2 with (formatted by the CLI's own
   ``_say_error``), so it is judged here; any other exception is a traceback the CLI would show.
2. **Subprocess** (:func:`run_case`), only for cases that validate: ``python -m guanghan run FILE
   --out DIR`` in a fresh process (fresh SPICE state) in its own session, killed with its group at
   the time limit.

Classes (:data:`OK` are fine, the rest are defects):
``refused`` (exit 2, one ``error:`` line naming the mutated field's path or last name),
``completed``/``failed`` (exit 0/3, ``summary.json`` with finite figures (``null`` is allowed: the
writer stores "not applicable", e.g. no skip apogee, and NaN alike as null), masses ≥ 0, latitudes in
[-90, 90], longitudes in (-180, 180], a finite trajectory, status matching the exit code, a verdict
on the last stdout line); ``traceback`` (a Traceback, exit 1 or another code), ``hang`` (time
limit), ``nonfinite`` (NaN/inf/null or out-of-range figure), ``wrong_field`` (exit 2 naming
another field), ``bad_message`` (not one ``error:`` line), ``refused_valid`` (a real leap second
refused as malformed), ``no_output`` (exit 0/3 without a run folder: a "run failed" error instead
of a logged mission failure), ``partial_output`` (a ``.partial``/``.old`` folder, an output folder
after exit 2, or a run folder without its files).
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from fuzz_scenarios import Case, dotted

from guanghan.errors import ScenarioError
from guanghan.mission.scenario import load_scenario
from guanghan.mission.toml_writer import dumps_toml

OK = ("refused", "completed", "failed")
_PLACEHOLDER = "__fuzz_placeholder_{}__"


@dataclass
class Outcome:
    """What one case gave and what it is."""

    kind: str                      # one of OK, or a defect class; "skipped" for unrun full missions
    code: int | None = None        # exit code (2 for an in-process refusal)
    stdout: str = ""
    stderr: str = ""
    wall_s: float = 0.0
    detail: str = ""
    stage: str = "in-process"

    @property
    def ok(self) -> bool:
        return self.kind in OK or self.kind == "skipped"

    def tail(self, n: int = 6) -> str:
        lines = (self.stdout.strip().splitlines()[-2:] + self.stderr.strip().splitlines())[-n:]
        return "\n".join(line[:400] for line in lines)

    def report(self, case: Case) -> str:
        return (f"{self.kind}: {case.variant} {dotted(case.path)} [{case.mutation}] "
                f"exit={self.code} ({self.stage}, {self.wall_s:.1f} s) {self.detail}\n{self.tail()}")


# --------------------------------------------------------------------------- TOML


def _inline(value) -> str:
    """TOML inline text of any value (inline tables for dicts; raw nan/inf literals)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return dumps_toml({"v": value}).split(" = ", 1)[1].strip()


def _prepare(value, store: dict):
    """``value`` with what :func:`dumps_toml` cannot write (NaN, inf, a list mixing tables and
    other values) replaced by placeholder strings whose TOML text is kept in ``store``."""
    mixed = isinstance(value, list) and any(isinstance(v, dict) for v in value) and \
        not all(isinstance(v, dict) for v in value)
    if mixed or (isinstance(value, float) and not math.isfinite(value)):
        key = _PLACEHOLDER.format(len(store))
        store[key] = _inline(value)
        return key
    if isinstance(value, dict):
        return {k: _prepare(v, store) for k, v in value.items()}
    if isinstance(value, list):
        return [_prepare(v, store) for v in value]
    return value


def to_toml(data: dict) -> str:
    """TOML text of a case: :func:`dumps_toml`, with NaN/inf written as the raw TOML literals
    ``nan``/``inf``/``-inf`` and a list mixing tables and values as an inline array."""
    store: dict[str, str] = {}
    text = dumps_toml(_prepare(data, store))
    for key, toml in store.items():
        text = text.replace(json.dumps(key), toml)
    return text


#: wall-time budget (s) given to every phase of a run case that does not set its own: a run that
#: cannot finish then ends as a mission failure (exit 3) well inside the harness's time limit
CASE_WALL_BUDGET_S = 30.0


def _with_budget(data: dict) -> dict:
    data = copy.deepcopy(data)
    for phase in data.get("phases") or []:
        if isinstance(phase, dict) and "limits" not in phase:
            phase["limits"] = {"max_wall_s": CASE_WALL_BUDGET_S}
    return data


def write_case(case: Case, folder: Path, budget: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "case.toml"
    path.write_text(to_toml(_with_budget(case.data) if budget else case.data), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- judging


def names_field(message: str, path: tuple, deleted: bool = False) -> bool:
    """True if the message names the path, or its last name as a whole word; for a deleted
    table entry, naming the table that lost it (``modules = {}: needs at least 1 item``) counts."""
    if dotted(path) in message or (deleted and len(path) > 1 and f"{dotted(path[:-1])} " in message):
        return True
    last = next((p for p in reversed(path) if isinstance(p, str)), None)
    return bool(last) and re.search(rf"(?<![A-Za-z0-9_]){re.escape(last)}(?![A-Za-z0-9_])",
                                    message) is not None


def _judge_refusal(case: Case, stderr: str) -> tuple[str, str]:
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    shape = "" if len(errors) == 1 and lines[-1] == errors[0] else \
        f"{len(errors)} `error:` line(s), and it is not the last line of stderr"
    if not errors:
        return "bad_message", shape
    if case.mutation.endswith("utc_leap_valid") and "malformed" in errors[0]:
        return "refused_valid", "a real leap second (2016-12-31T23:59:60Z) refused as malformed"
    if not names_field(errors[0], case.path, case.mutation == "delete"):
        named = f"the message does not name {dotted(case.path)}"
        return "wrong_field", f"{named}; {shape}" if shape else named
    return ("bad_message", shape) if shape else ("refused", "")


def cli_message(exc: ScenarioError) -> str:
    """What ``guanghan run`` prints for this error (its own ``_say_error``, captured)."""
    from guanghan import cli

    with cli.err_console.capture() as cap:
        cli._say_error("error:", str(exc))
    return cap.get()


def check_in_process(case: Case, folder: Path) -> Outcome | None:
    """The verdict if the case does not validate; None if it does (it must then be run)."""
    file = write_case(case, folder)
    t0 = time.perf_counter()
    try:
        load_scenario(file)
    except ScenarioError as exc:
        stderr = cli_message(exc)
        kind, detail = _judge_refusal(case, stderr)
        return Outcome(kind, 2, "", stderr, time.perf_counter() - t0, detail)
    except Exception:                                   # noqa: BLE001 - any other is a defect
        return Outcome("traceback", 1, "", traceback.format_exc(), time.perf_counter() - t0,
                       "load_scenario raised a non-ScenarioError")
    return None


def _summary_problems(doc: dict, code: int) -> list[str]:
    bad = []
    status = doc.get("outcome", {}).get("status")
    if (code, status) not in ((0, "completed"), (3, "failed")):
        bad.append(f"outcome.status {status!r} with exit {code}")
    bad += [f"{key} non-finite" for key in doc.get("outcome", {}).get("non_finite_figures", [])]
    for key, v in doc.get("figures", {}).items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if not math.isfinite(v):
                bad.append(f"{key} = {v}")
            elif key.endswith("_kg") and v < 0:
                bad.append(f"{key} = {v} < 0")
            elif key.endswith("lat_deg") and not -90 <= v <= 90:
                bad.append(f"{key} = {v} not in [-90, 90]")
            elif key.endswith("lon_deg") and not -180 < v <= 180:
                bad.append(f"{key} = {v} not in (-180, 180]")
    return bad


def _trajectory_problems(path: Path) -> list[str]:
    import numpy as np
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    bad = []
    for name in ("x_m", "y_m", "z_m", "vx_m_s", "vy_m_s", "vz_m_s", "mass_kg"):
        if name in table.column_names:
            col = np.asarray(table[name].to_numpy(zero_copy_only=False), dtype=float)
            if not np.all(np.isfinite(col)):
                bad.append(f"trajectory {name} has non-finite values")
            elif name == "mass_kg" and np.any(col < 0):
                bad.append("trajectory mass_kg < 0")
    return bad


def _leftovers(folder: Path, out: Path) -> list[str]:
    return [p.name for p in folder.iterdir()
            if p.name.endswith(".partial") or p.name.startswith(f".{out.name}.")]


def judge_run(case: Case, code: int, stdout: str, stderr: str, folder: Path, out: Path) -> tuple[str, str]:
    """(class, detail) of a finished subprocess run."""
    if "Traceback" in stderr or "Traceback" in stdout or code not in (0, 2, 3):
        return "traceback", f"exit {code}"
    left = _leftovers(folder, out)
    if left:
        return "partial_output", f"left behind: {left}"
    if code == 2:
        if out.exists():
            return "partial_output", "exit 2 but the output folder exists"
        return _judge_refusal(case, stderr)
    if not out.exists():
        return "no_output", f"exit {code} but no run folder was written"
    missing = [n for n in ("summary.json", "trajectory.parquet", ".guanghan-run") if not (out / n).is_file()]
    if missing:
        return "partial_output", f"exit {code} without {missing}"
    last = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    if not last.startswith(("mission completed", "mission failed")):
        return "bad_message", f"last stdout line is not a verdict: {last[:200]!r}"
    try:
        problems = _summary_problems(json.loads((out / "summary.json").read_text()), code)
        problems += _trajectory_problems(out / "trajectory.parquet")
    except Exception as exc:                            # noqa: BLE001
        problems = [f"unreadable output: {exc!r}"]
    if problems:
        return "nonfinite", "; ".join(problems[:5])
    return ("completed" if code == 0 else "failed"), last[:300]


def run_case(case: Case, folder: Path, time_limit_s: float) -> Outcome:
    """Run the case with ``python -m guanghan run`` in a subprocess (killed at the time limit)."""
    file = write_case(case, folder, budget=True)
    out = folder / "out"
    env = dict(os.environ, PYTHONUNBUFFERED="1", NO_COLOR="1")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "guanghan", "run", str(file), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=folder, env=env, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=time_limit_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        return Outcome("hang", None, stdout, stderr, time.perf_counter() - t0,
                       f"killed after {time_limit_s:g} s", "subprocess")
    wall = time.perf_counter() - t0
    kind, detail = judge_run(case, proc.returncode, stdout, stderr, folder, out)
    return Outcome(kind, proc.returncode, stdout, stderr, wall, detail, "subprocess")


def evaluate(cases: list[Case], workdir: Path, time_limit_s: float, jobs: int = 2,
             run_full: bool = False, on_done=None) -> dict[str, Outcome]:
    """Outcome of every case by id: in-process first, then the cases that validate in ``jobs``
    parallel subprocesses (the first alone, so that it fills numba's cache for the others).
    Cases of full missions (``runnable=False``) that validate are ``skipped`` unless ``run_full``."""
    results: dict[str, Outcome] = {}
    todo: list[tuple[Case, Path]] = []
    for i, case in enumerate(cases):
        folder = workdir / f"case{i:05d}"
        try:
            outcome = check_in_process(case, folder)
        except Exception:                               # noqa: BLE001 - a bug of the harness
            outcome = Outcome("harness_error", None, "", traceback.format_exc())
        if outcome is None and not (case.runnable or run_full):
            outcome = Outcome("skipped", None, detail="validates; a full mission runs only in the "
                              "long profile (--full-runs)")
        if outcome is None:
            todo.append((case, folder))
        else:
            results[case.id] = outcome
            if on_done:
                on_done(case, outcome)

    def one(item):
        case, folder = item
        outcome = run_case(case, folder, time_limit_s)
        results[case.id] = outcome
        if on_done:
            on_done(case, outcome)

    if todo:
        one(todo[0])
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(one, todo[1:]))
    return results


def write_csv(cases: list[Case], results: dict[str, Outcome], path: Path) -> None:
    """Every case and its outcome, one row each (the long profile's table of defects)."""
    import csv

    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["variant", "path", "mutation", "class", "exit_code", "stage", "wall_s",
                    "detail", "output_tail"])
        for c in cases:
            o = results[c.id]
            w.writerow([c.variant, dotted(c.path), c.mutation, o.kind, o.code, o.stage,
                        f"{o.wall_s:.2f}", o.detail, o.tail()])
