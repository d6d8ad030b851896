"""Monte Carlo dispersions: the scenario's ``[dispersions]`` table and one sample of it.

A dispersion names any numeric (or, for a choice, any scalar) scenario field by its dotted path —
``modules.lander.engines.descent.thrust_n``, ``phases.entry.entry_interface.fpa_deg`` (a phase by
its name or its index) — with a distribution. A sample is a pure function of (scenario, campaign
seed, sample index): its generator is ``numpy.random.Generator(PCG64(SeedSequence(seed,
spawn_key=(index,))))``, the index-th child of ``SeedSequence(seed).spawn`` (NumPy's documented
parallel-stream scheme), so it does not depend on which worker draws it or when. The draws are
made in the table's order; then, with ``reseed`` on, every integer field named ``seed`` in the
phases that no dispersion names gets a new value from the same generator, so each sample has its
own sensor noise, terrain and execution errors. The result is a scenario *dict* that is validated
again like any scenario: a drawn value outside a field's bounds makes that sample "invalid", never a
silently clipped value.

Distributions (parameters in the field's own unit):
    * ``normal``: mean (default: the nominal value) + sigma·N(0, 1);
    * ``truncated_normal``: the same, redrawn outside [low, high] (by inverse CDF on the truncated
      interval, :func:`guanghan.truncated_normal.truncated_normal_ppf`, the draws of
      ``scipy.stats.truncnorm``, so no rejection loop);
    * ``uniform``: U(low, high);
    * ``choice``: one of ``values`` with equal probability (or ``weights``).
    ``relative = true`` reads sigma, low and high as fractions of the nominal value (a 2 % thrust
    dispersion is ``sigma = 0.02``). Integer fields get the nearest integer.

References
    O'Neill, M. E. (2014), PCG, HMC-CS-2014-0905; NumPy ``SeedSequence`` and ``spawn`` (parallel
    random number generation), numpy.org/doc/stable/reference/random/parallel.html.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.truncated_normal import truncated_normal_ppf

#: a sample's seed for the scenario's own ``seed`` fields: below 2**31 (they are ``int`` fields)
SEED_BOUND = 2 ** 31 - 1


class Dispersion(ConfigModel):
    """One dispersed scenario field."""

    path: str = Field(min_length=1, description=(
        "dotted path of the field: 'modules.lander.dry_mass_kg', 'phases.entry.capsule.lift_to_drag' "
        "(a phase by name or index, a list item by index)"))
    distribution: Literal["normal", "truncated_normal", "uniform", "choice"]
    sigma: float | None = Field(default=None, gt=0, description="standard deviation (normal, truncated)")
    mean: float | None = Field(default=None, description="mean; default the field's nominal value")
    low: float | None = Field(default=None, description="lower bound (uniform, truncated_normal)")
    high: float | None = Field(default=None, description="upper bound (uniform, truncated_normal)")
    values: list[float | int | str | bool] | None = Field(default=None, min_length=1,
                                                         description="the choices")
    weights: list[float] | None = Field(default=None, description="choice probabilities")
    relative: bool = Field(default=False, description=(
        "sigma, low and high as fractions of the nominal value (mean stays absolute)"))

    @model_validator(mode="after")
    def _check(self) -> Dispersion:
        d = self.distribution
        if d in ("normal", "truncated_normal") and self.sigma is None:
            fail(f"a {d} dispersion needs sigma > 0", "sigma", None)
        if d in ("uniform", "truncated_normal"):
            if self.low is None or self.high is None:
                fail(f"a {d} dispersion needs low and high", "low" if self.low is None else "high",
                     None)
            if not self.low < self.high:
                fail(f"must be above low = {self.low}", "high", self.high)
        if d == "choice":
            if not self.values:
                fail("a choice dispersion needs values", "values", self.values)
            if self.weights is not None:
                w = np.asarray(self.weights, dtype=float)
                if w.shape != (len(self.values),) or np.any(w < 0) or not w.sum() > 0:
                    fail(f"needs {len(self.values)} non-negative weights, not all zero", "weights",
                         self.weights)
        unused = [k for k in ("sigma", "low", "high", "values", "weights", "mean")
                  if getattr(self, k) is not None and k not in _USES[d]]
        if unused:
            fail(f"is not a parameter of a {d} dispersion (it takes {', '.join(_USES[d])})",
                 unused[0], getattr(self, unused[0]))
        return self


_USES = {"normal": ("sigma", "mean"), "truncated_normal": ("sigma", "mean", "low", "high"),
         "uniform": ("low", "high"), "choice": ("values", "weights")}


class Dispersions(ConfigModel):
    """The ``[dispersions]`` table: the campaign's seed, its per-sample limits and the fields."""

    seed: int = Field(ge=0, description="campaign seed: sample i draws from SeedSequence(seed).spawn(...)[i]")
    reseed: bool = Field(default=True, description=(
        "give every phase 'seed' field no dispersion names a new value per sample"))
    sample_max_wall_s: float = Field(default=1800.0, ge=1, le=86_400, description=(
        "wall-time limit of each leg of a sample (s; the tighter of this and the leg's own "
        "limits.max_wall_s): a sample past it is recorded as a timeout"))
    design: Literal["nominal", "per_sample"] = Field(default="nominal", description=(
        "nominal: the undispersed scenario is designed once and every sample flies that design "
        "(plan once, fly many); per_sample: each sample designs its own mission from its inputs"))
    field: list[Dispersion] = Field(default=[], description="the dispersed fields, drawn in order")

    @model_validator(mode="after")
    def _unique(self) -> Dispersions:
        paths = [d.path for d in self.field]
        for p in paths:
            if paths.count(p) > 1:
                fail("is dispersed twice", f"field[{paths.index(p)}].path", p)
        return self


# ------------------------------------------------------------------ paths into the scenario dict
def _step(node: Any, key: str, where: str):
    if isinstance(node, list):
        if key.lstrip("-").isdigit():
            i = int(key)
            if -len(node) <= i < len(node):
                return i
            raise KeyError(f"{where} has {len(node)} items; no item {i}")
        names = [item.get("name") if isinstance(item, dict) else None for item in node]
        if key in names:
            return names.index(key)
        raise KeyError(f"{where} has no item named {key!r}; names: {[n for n in names if n]}")
    if isinstance(node, dict):
        if key in node:
            return key
        raise KeyError(f"{where} has no field {key!r}; it has {sorted(node)}")
    raise KeyError(f"{where} is a value ({node!r}), not a table or a list")


def resolve(data: dict, path: str) -> tuple[Any, Any]:
    """(container, key) of the dotted ``path`` in the scenario dict; KeyError saying why not."""
    parts = path.split(".")
    node, where = data, ""
    for part in parts[:-1]:
        k = _step(node, part, where or "the scenario")
        node, where = node[k], f"{where}.{part}" if where else part
    return node, _step(node, parts[-1], where or "the scenario")


def check_paths(dispersions: Dispersions, data: dict) -> None:
    """Every dispersed path exists in the scenario dict ``data`` (defaults included) and holds a
    value its distribution can replace; raises via :func:`fail` on the first that does not."""
    for i, d in enumerate(dispersions.field):
        where = f"dispersions.field[{i}].path"
        try:
            box, key = resolve(data, d.path)
        except KeyError as exc:
            fail(exc.args[0], where, d.path)
        value = box[key]
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if d.distribution != "choice" and not numeric:
            fail(f"holds {value!r}, not a number: a {d.distribution} dispersion needs a numeric "
                 "field (use a choice)", where, d.path)
        if d.distribution == "choice" and isinstance(value, (dict, list)):
            fail("is a table or a list; a choice replaces one value", where, d.path)
        if d.relative and numeric and value == 0:
            fail("has a nominal value of 0: a relative dispersion would be zero", where, d.path)


# ------------------------------------------------------------------ one sample
def sample_generator(seed: int, index: int) -> np.random.Generator:
    """The generator of sample ``index``: the index-th child of ``SeedSequence(seed)``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(index,))))


def _draw(d: Dispersion, nominal, rng: np.random.Generator):
    if d.distribution == "choice":
        p = None if d.weights is None else np.asarray(d.weights, float) / sum(d.weights)
        return d.values[int(rng.choice(len(d.values), p=p))]
    scale = abs(float(nominal)) if d.relative else 1.0
    mean = float(nominal) if d.mean is None else d.mean
    if d.distribution == "normal":
        x = mean + d.sigma * scale * rng.standard_normal()
    elif d.distribution == "uniform":
        lo, hi = (mean + d.low * scale, mean + d.high * scale) if d.relative else (d.low, d.high)
        x = rng.uniform(lo, hi)
    else:                                       # truncated normal, by inverse CDF
        lo, hi = (mean + d.low * scale, mean + d.high * scale) if d.relative else (d.low, d.high)
        s = d.sigma * scale
        x = float(truncated_normal_ppf(rng.uniform(), (lo - mean) / s, (hi - mean) / s, loc=mean, scale=s))
    return int(round(x)) if isinstance(nominal, int) and not isinstance(nominal, bool) else float(x)


def _seed_fields(node, path=""):
    """Dotted paths of every integer field named ``seed`` under ``node``."""
    if isinstance(node, dict):
        for k, v in node.items():
            p = f"{path}.{k}" if path else k
            if k == "seed" and isinstance(v, int) and not isinstance(v, bool):
                yield p
            else:
                yield from _seed_fields(v, p)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _seed_fields(v, f"{path}.{i}")


def assign(sparse: dict, full: dict, path: str, value) -> None:
    """Set ``path`` in ``sparse`` (the scenario as written) to ``value``, creating the tables the
    file left to their defaults; list items are located in ``full`` (defaults included)."""
    parts = path.split(".")
    node, ref, where = sparse, full, ""
    for part in parts[:-1]:
        k = _step(ref, part, where or "the scenario")
        ref, where = ref[k], f"{where}.{part}" if where else part
        if isinstance(node, dict):
            node = node.setdefault(k, {} if isinstance(ref, dict) else [])
        else:
            node = node[k]
    node[_step(ref, parts[-1], where)] = value


def draw_sample(full: dict, sparse: dict, dispersions: Dispersions,
                index: int) -> tuple[dict, dict, int]:
    """(scenario dict of sample ``index``, {path: drawn value}, the sample's seed word).

    ``full`` is the nominal scenario with every default (where nominal values are read), ``sparse``
    the scenario as written (what is modified and validated again: a dump with defaults would set
    fields some validators require to be left unset); neither is modified. The seed word (uint32
    as int) identifies the sample's stream in the results."""
    rng = sample_generator(dispersions.seed, index)
    word = int(np.random.SeedSequence(dispersions.seed, spawn_key=(index,)).generate_state(1)[0])
    out = copy.deepcopy(sparse)
    drawn = {}
    for d in dispersions.field:
        box, key = resolve(full, d.path)
        drawn[d.path] = _draw(d, box[key], rng)
        assign(out, full, d.path, drawn[d.path])
    if dispersions.reseed:
        fixed = {d.path for d in dispersions.field}
        for path in _seed_fields(full.get("phases", []), "phases"):
            if path not in fixed and _by_name(full, path) not in fixed:
                assign(out, full, path, int(rng.integers(0, SEED_BOUND)))
    for i, phase in enumerate(full.get("phases", [])):     # each leg at most the sample's wall time
        cap = min(float(phase.get("limits", {}).get("max_wall_s", np.inf)),
                  dispersions.sample_max_wall_s)
        assign(out, full, f"phases.{i}.limits.max_wall_s", cap)
    return out, drawn, word


def _by_name(data: dict, path: str) -> str:
    """``phases.<index>.rest`` written with the phase's name instead of its index."""
    parts = path.split(".")
    if len(parts) > 1 and parts[0] == "phases" and parts[1].isdigit():
        name = data["phases"][int(parts[1])].get("name")
        if name:
            return ".".join(["phases", name, *parts[2:]])
    return path
