"""Variants of the packaged scenarios that CI can afford to fly, and the seeded sample of fuzz
cases drawn from them (issue 8, item 5).

**Trimming** (:func:`variants`): a full mission is too long for CI, so each multi-phase scenario
gives one variant per leg it contains (except the slow :data:`LONG_LEGS`, ``trans_earth``):
``NAME@<leg>`` flies that leg's first phase alone if it can start a mission, else the phases up
to it. Cuts: a coast lasts at most 0.5 h; an entry flown alone without an interface gets the
packaged ``chang-e-5-entry`` interface at the epoch and altitude of the return's
``entry_target`` (same capsule, same landing zone), and its epoch starts the mission. Validation
rows of the legs cut are dropped. ``NAME@full`` keeps every leg: its cases are checked for
refusal in-process, and those that validate are run only by the long profile with
``--full-runs`` (a Chang'e return takes minutes). So the fields of a leg trimmed away
(``trans_earth``) are validated on the whole mission, and the shared fields (modules, sites,
epochs) are flown on the coast-only and entry-only variants. A new leg is walked, mutated and
(unless listed in :data:`LONG_LEGS`) flown with no change here.
"""

from __future__ import annotations

import copy
import tomllib

from fuzz_scenarios import Case, sample_cases

from guanghan.mission.leg import LEGS
from guanghan.mission.scenario_catalogue import packaged, resolve

#: legs too slow for CI (minutes each): their fields are checked in-process on the whole mission,
#: and flown by the long profile with --full-runs; every other leg is flown in CI
LONG_LEGS = ("trans_earth",)
SHORT_COAST_H = 0.5


def build_cases(total: int, seed: int, only: str | None = None) -> list[Case]:
    """``total`` cases shared equally by the :func:`variants` (those whose name contains
    ``only``, if given), plus each runnable variant unmutated (``baseline``); deterministic for
    ``seed``."""
    chosen = {k: v for k, v in variants().items() if not only or only in k}
    share, extra = divmod(total, max(1, len(chosen)))
    cases = []
    for i, (name, (data, runnable)) in enumerate(chosen.items()):
        if runnable:                  # the variant unmutated: it must run clean itself
            cases.append(Case(name, (), "baseline", copy.deepcopy(data)))
        cases += sample_cases(name, data, share + (i < extra), seed, runnable)
    return cases


def _groups(phase: dict) -> set[str]:
    leg = LEGS.get(phase.get("type"))
    return {phase.get("name"), *(leg.config.summary_groups if leg else ())}


def _entry_interface(data: dict) -> dict:
    """The packaged chang-e-5-entry interface, at the epoch/altitude of this mission's entry aim."""
    ei = dict(tomllib.loads(resolve("chang-e-5-entry").read_text(encoding="utf-8"))
              ["phases"][0]["entry_interface"])
    for phase in data["phases"]:
        aim = phase.get("entry_target") or {}
        ei.update({k: aim[k] for k in ("utc", "altitude_km") if k in aim})
    return ei


def _shortened(phase: dict, alone: bool, data: dict) -> dict:
    """The leg-specific cuts: a coast lasts at most 0.5 h; an entry flown alone without its own
    interface gets one (:func:`_entry_interface`)."""
    phase = copy.deepcopy(phase)
    if phase.get("type") == "lunar_orbit_coast":
        phase.pop("end_utc", None)                        # a coast to an epoch: cut to the duration
        phase["duration_h"] = min(phase.get("duration_h", SHORT_COAST_H), SHORT_COAST_H)
    if alone and phase.get("type") == "earth_entry" and "entry_interface" not in phase:
        phase["entry_interface"] = _entry_interface(data)
    return phase


def _with_phases(data: dict, phases: list[dict]) -> dict:
    out = copy.deepcopy(data)
    out["phases"] = phases
    if "entry_interface" in phases[0]:                  # an entry flown alone starts the mission
        out["mission"]["epoch_utc"] = phases[0]["entry_interface"]["utc"]
    keep = set().union(*(_groups(p) for p in phases))
    out["validation"] = [r for r in data.get("validation", []) if r["key"].split(".")[0] in keep]
    if not out["validation"]:
        del out["validation"]
    return out


def _validates(data: dict) -> bool:
    from guanghan.errors import ScenarioError
    from guanghan.mission.scenario import validate_scenario

    try:
        validate_scenario(data)
    except ScenarioError:
        return False
    return True


def trim(data: dict, leg_type: str) -> dict | None:
    """The scenario cut down to its first phase of ``leg_type`` (shortened by :func:`_shortened`):
    that phase alone if it can start a mission, else the phases up to it (None if one of those is
    a :data:`LONG_LEGS` leg, or if neither validates). Validation rows of legs cut are dropped."""
    index = next((i for i, p in enumerate(data["phases"]) if p.get("type") == leg_type), None)
    if index is None:
        return None
    alone = _with_phases(data, [_shortened(data["phases"][index], True, data)])
    if _validates(alone):
        return alone
    before = data["phases"][:index]
    if any(p.get("type") in LONG_LEGS for p in before):
        return None
    prefix = _with_phases(data, [*copy.deepcopy(before), _shortened(data["phases"][index], False, data)])
    return prefix if _validates(prefix) else None


def variants() -> dict[str, tuple[dict, bool]]:
    """Variant name → (scenario dict, runnable in CI), for every packaged scenario: a one-phase
    scenario as it is (a coast shortened); a longer one as ``NAME@<leg>`` for each leg not in
    :data:`LONG_LEGS` (:func:`trim`) and ``NAME@full`` (whole, not run in CI)."""
    out = {}
    for name in packaged():
        data = tomllib.loads(resolve(name).read_text(encoding="utf-8"))
        legs = list(dict.fromkeys(p.get("type") for p in data["phases"]))
        if len(data["phases"]) == 1:
            out[name] = (trim(data, legs[0]) or data, legs[0] not in LONG_LEGS)
            continue
        for leg_type in legs:
            cut = None if leg_type in LONG_LEGS else trim(data, leg_type)
            if cut is not None:
                out[f"{name}@{leg_type}"] = (cut, True)
        out[f"{name}@full"] = (data, False)
    return out
