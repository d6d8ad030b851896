"""CI fuzz profile (issue 8, item 5): seeded schema-driven mutations of every packaged scenario.

Each case mutates one field of one variant (a short scenario, a full mission trimmed to its coast
or its entry or another single leg, or a whole mission) and must either be refused (exit 2, one ``error:`` line naming
the field) or run to a completed/failed mission with finite, physically bounded outputs, within
its time limit, leaving no partial output (``tests/fuzz_run.py`` says how each is judged).

Split: every case is first read in-process with ``load_scenario`` (milliseconds; most cases are
refused there and judged on the CLI's own formatted message); only those that validate are run as
``python -m guanghan run`` in a subprocess, two at a time, after one alone that fills numba's
cache. Whole missions' cases that validate are skipped here (the long profile runs them:
``python benchmarks/fuzz.py --cases 3000 --seed 1 --jobs 2 --full-runs``).

Environment: ``GUANGHAN_FUZZ_CASES`` (total cases shared by the variants, default 90, plus one
unmutated ``baseline`` per flown variant; about a quarter run in a subprocess, 3 to 20 s each:
the default measured 4 min 10 s on 2 shared cores, 57 subprocess runs; a hang costs the time
limit), ``GUANGHAN_FUZZ_SEED`` (default 0),
``GUANGHAN_FUZZ_TIMEOUT`` (s per run, default 60), ``GUANGHAN_FUZZ_JOBS`` (default 2),
``GUANGHAN_FUZZ_REPORT`` (write every case's outcome to this CSV). The mutator is a seeded NumPy
generator, not hypothesis: the same seed gives the same cases and ids (``variant:field.path:mutation``).
"""

from __future__ import annotations

import math
import os
import tomllib

import fuzz_run
import fuzz_scenarios as fz
import fuzz_variants as fv
import numpy as np
import pytest
from pydantic import Field

CASES = fv.build_cases(int(os.environ.get("GUANGHAN_FUZZ_CASES", "90")),
                       int(os.environ.get("GUANGHAN_FUZZ_SEED", "0")))
TIMEOUT_S = float(os.environ.get("GUANGHAN_FUZZ_TIMEOUT", "60"))
JOBS = int(os.environ.get("GUANGHAN_FUZZ_JOBS", "2"))


@pytest.fixture(scope="session")
def fuzz_outcomes(request, tmp_path_factory):
    """Outcomes of every fuzz case selected in this session, computed together (in parallel)."""
    selected = [item.callspec.params["case"] for item in request.session.items
                if getattr(item, "originalname", "") == "test_fuzz_case"]
    results = fuzz_run.evaluate(selected, tmp_path_factory.mktemp("fuzz"), TIMEOUT_S, JOBS)
    if os.environ.get("GUANGHAN_FUZZ_REPORT"):
        fuzz_run.write_csv(selected, results, os.environ["GUANGHAN_FUZZ_REPORT"])
    return results


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fuzz_case(case, fuzz_outcomes):
    outcome = fuzz_outcomes[case.id]
    if outcome.kind == "skipped":
        pytest.skip(outcome.detail)
    assert outcome.ok, outcome.report(case)


# --------------------------------------------------------------------------- the harness itself


def test_every_packaged_scenario_has_a_variant_that_validates():
    from guanghan.mission.scenario import validate_scenario
    from guanghan.mission.scenario_catalogue import packaged

    found = fv.variants()
    for name in packaged():
        assert any(v == name or v.startswith(f"{name}@") for v in found), name
    for name, (data, _) in found.items():
        validate_scenario(data, file=name)          # trimming keeps a valid scenario


def test_sampling_is_deterministic_and_covers_the_schema():
    data = fv.variants()["chang-e-5-entry"][0]
    a = fz.sample_cases("x", data, 40, seed=3)
    assert [c.id for c in a] == [c.id for c in fz.sample_cases("x", data, 40, seed=3)]
    assert [c.id for c in a] != [c.id for c in fz.sample_cases("x", data, 40, seed=4)]
    paths = {f.dotted: f for f in fz.schema_fields(data)}
    assert paths["phases[0].parachutes.drogue_cd_area_m2"].bounds       # bounds from metadata
    assert paths["phases[0].entry_interface.utc"].kind == "utc"
    assert paths["sites.earth_landing_zone.body"].choices == ("MOON", "EARTH")
    assert not paths["phases[0].atmosphere.f107_sfu"].present           # defaults are mutated too
    names = {m for _, m, _ in fz.all_mutations(data, np.random.default_rng(0))}
    assert {"delete", "nan", "inf", "-inf", "x1e30", "x1e-30", "utc_2300", "utc_leap_valid",
            "utc_leap_invalid", "unknown_key", "literal_other", "type_string"} <= names


def test_a_leg_registered_later_is_walked_with_no_change(monkeypatch):
    from typing import Literal

    from guanghan.mission import leg as leg_module
    from guanghan.mission.leg import PhaseConfig

    class HopConfig(PhaseConfig):
        type: Literal["fuzz_hop"]
        hop_height_m: float = Field(gt=0, le=500)

    monkeypatch.setitem(leg_module.LEGS, "fuzz_hop", leg_module.Leg("fuzz_hop", HopConfig, None))
    data = fv.variants()["apollo-like-coast"][0]
    data["phases"].append({"type": "fuzz_hop", "name": "hop", "vehicle": "csm_lm_stack",
                           "hop_height_m": 10.0})
    found = {f.dotted: f for f in fz.schema_fields(data)}
    assert found["phases[1].hop_height_m"].bounds == {"gt": 0, "le": 500}


def test_nan_and_inf_are_written_as_toml_literals():
    case = fz.Case("v", ("a",), "nan", {"a": math.nan, "b": [math.inf, -math.inf, 1.0]})
    back = tomllib.loads(fuzz_run.to_toml(case.data))
    assert math.isnan(back["a"]) and back["b"][:2] == [math.inf, -math.inf]


def test_refusal_must_name_the_mutated_field():
    path = ("phases", 0, "parachutes", "drogue_cd_area_m2")
    assert fuzz_run.names_field("error: f: phases[0].parachutes.drogue_cd_area_m2 = 1e+30: …", path)
    assert not fuzz_run.names_field("error: f: phases[0].entry.r_j2000: bad", path)
    assert fuzz_run.names_field("error: f: modules = {}: needs at least 1 item(s)",
                                ("modules", "orbiter"), deleted=True)
