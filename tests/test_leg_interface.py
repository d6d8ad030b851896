"""The leg interface: a leg defined here, in the test file, is registered with one line and flown
from a scenario, with no core file changed; its figures and summary flow through the runner."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pytest
from pydantic import Field

import guanghan as gh
from guanghan.config_model import fail
from guanghan.dynamics.kepler import kepler_universal
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import spice_kernels, time_scales
from guanghan.errors import ScenarioError
from guanghan.mission.event_log import EventLog
from guanghan.mission.leg import LEGS, PhaseConfig, PhaseResult, register
from guanghan.mission.scenario import dumps_toml
from guanghan.mission.trajectory_table import build_table

from helpers import minimal_dict


class TwoBodyCoastConfig(PhaseConfig):
    """A Keplerian coast of ``duration_s`` from a circular orbit of ``radius_km``."""

    type: Literal["two_body_coast"]
    duration_s: float = Field(gt=0, le=86_400)
    radius_km: float = Field(gt=1737.4)

    def check_standalone(self, where: str) -> None:
        if self.start_utc is None:
            fail("a two-body coast run alone needs start_utc", f"{where}.start_utc", None)


def fly_two_body(config: TwoBodyCoastConfig, ctx) -> PhaseResult:
    mu = spice_kernels.gm("MOON")
    et0 = time_scales.utc_to_et(config.start_utc)
    r0 = np.array([config.radius_km * 1e3, 0.0, 0.0])
    v0 = np.array([0.0, np.sqrt(mu / r0[0]), 0.0])
    ets = et0 + np.linspace(0.0, config.duration_s, 11)
    states = np.array([np.r_[kepler_universal(r0, v0, t - et0, mu)] for t in ets])
    mass = ctx.vehicle_mass_kg(config.vehicle)
    log = EventLog()
    log.add(ets[-1], config.name, "coast_end", {"radius_km": config.radius_km})
    table = build_table(config.name, "MOON", ets, np.column_stack([states, np.full(len(ets), mass)]))
    final = SpacecraftState(ets[-1], states[-1, :3], states[-1, 3:], mass, "J2000", "MOON")
    return PhaseResult(config.name, final, log, {f"{config.name}.final_radius_km":
                                                  float(np.linalg.norm(states[-1, :3])) / 1e3},
                       table)


@pytest.fixture()
def toy_leg():
    leg = register("two_body_coast", TwoBodyCoastConfig, fly_two_body)
    yield leg
    LEGS.pop("two_body_coast")


def _scenario(tmp_path, phase: dict):
    data = minimal_dict()
    data["phases"] = [phase]
    data["validation"] = []
    path = tmp_path / "toy.toml"
    path.write_text(dumps_toml(data), encoding="utf-8")
    return gh.load_scenario(path)


def test_a_leg_defined_in_a_test_registers_and_flies(tmp_path, toy_leg):
    vehicle = minimal_dict()["phases"][0]["vehicle"]
    sc = _scenario(tmp_path, {"type": "two_body_coast", "name": "toy", "vehicle": vehicle,
                              "start_utc": "2020-12-01T00:00:00Z", "duration_s": 3600.0,
                              "radius_km": 1837.4})
    result = gh.run(sc)
    assert result.completed and result.meta["legs"] == {"toy": "two_body_coast"}
    assert result.summary["toy.final_radius_km"] == pytest.approx(1837.4, abs=1e-6)   # circular
    assert [e["event"] for e in result.events] == ["coast_end"]
    out = gh.run(sc, out_dir=tmp_path / "run")
    assert (tmp_path / "run" / "report.html").is_file() and out.completed


def test_a_registered_leg_validates_its_own_fields(tmp_path, toy_leg):
    vehicle = minimal_dict()["phases"][0]["vehicle"]
    with pytest.raises(ScenarioError) as err:
        _scenario(tmp_path, {"type": "two_body_coast", "name": "toy", "vehicle": vehicle,
                             "start_utc": "2020-12-01T00:00:00Z", "duration_s": -1.0,
                             "radius_km": 1837.4})
    assert err.value.field == "phases[0].duration_s"
    with pytest.raises(ScenarioError) as err:
        _scenario(tmp_path, {"type": "two_body_coast", "name": "toy", "vehicle": vehicle,
                             "duration_s": 60.0, "radius_km": 1837.4})
    assert err.value.field == "phases[0].start_utc"


def test_an_unregistered_type_lists_the_registered_ones(tmp_path):
    with pytest.raises(ScenarioError) as err:
        _scenario(tmp_path, {"type": "two_body_coast", "name": "toy", "vehicle": "x"})
    assert err.value.field == "phases[0].type" and "earth_entry" in err.value.reason
