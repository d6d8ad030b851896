"""The plan of an Earth–Moon transfer and lunar orbit insertion, as configuration records, and the
problem it poses once the engines and masses are known.

:class:`TransferPlan` holds what a mission plans: the launch vehicle's injection (launch epoch,
flight time to injection, perigee altitude, inclination, optionally the launch site), the arrival
aim (periselene altitude, inclination to the lunar equator, hemisphere of the periselene), the
midcourse-correction epochs, the lunar-orbit-insertion burns (epoch, engine and the orbit each one
aims at), injection and execution errors and the force-model truncation; a scenario's
``earth_moon_transfer`` leg composes it. :class:`TransferProblem` adds the engines and masses the
vehicle resolves; :mod:`guanghan.gnc.lunar_transfer_flight` flies it.

Assumptions and limitations
    Engines are named ``"<module>.<engine>"`` of the flying vehicle; the propellant of a burn comes
    out of that module. The perigee altitude is over the Earth's equatorial radius (the launch
    vehicles' convention), the inclination to the Earth's true equator of the injection epoch
    (ITRF93 pole); the lunar inclination is to the lunar equator (MOON_ME) at arrival.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Literal

from pydantic import Field, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.dynamics.patched_flight import CISLUNAR_TOLERANCES, PatchedModels, build_models
from guanghan.dynamics.propulsion import Engine
from guanghan.environment import time_scales
from guanghan.environment.config_fields import UtcText, utc_text_to_et
from guanghan.gnc.execution_errors import ExecutionErrors
from guanghan.gnc.return_plan import Midcourse, ReturnForceModels

#: the Moon's Hill-sphere radius (km), the largest apoapsis a capture may aim at (Battin §8.4)
_HILL_RADIUS_KM = 61_500.0


class Injection(ConfigModel):
    """The launch vehicle's injection into the transfer orbit, at its perigee."""

    launch_utc: UtcText
    flight_time_s: float = Field(ge=60.0, le=86_400.0, description=(
        "launch to injection: 1 min to 1 day (a direct ascent takes ~25-40 min, a parking-orbit "
        "coast hours)"))
    perigee_altitude_km: float = Field(ge=100.0, le=5000.0, description=(
        "an injection perigee of 100 km (below it the atmosphere decays the orbit) to 5,000 km"))
    inclination_deg: float = Field(ge=0.0, le=180.0, description="to the Earth's true equator")
    launch_site: str | None = None     # an Earth site: picks the orbit plane passing nearest to it

    @property
    def et(self) -> float:
        """Injection epoch (ET s): launch plus the flight time."""
        return utc_text_to_et(self.launch_utc) + self.flight_time_s


class Arrival(ConfigModel):
    """The aim at the Moon: the periselene of the approach hyperbola and the plane of the orbit."""

    periselene_altitude_km: float = Field(gt=0.0, le=20_000.0, description=(
        "a periselene above the mean sphere and below 20,000 km"))
    inclination_deg: float = Field(ge=0.0, le=180.0, description="to the lunar equator")
    periselene_hemisphere: Literal["north", "south"] = Field(description=(
        "of the two B-plane solutions with the inclination, the one whose periselene lies north "
        "or south"))


class LoiBurn(ConfigModel):
    """A lunar-orbit-insertion burn: ignition epoch, engine, and exactly one aim of the orbit it
    leaves: the next burn (middle) at the ``revolutions``-th periselene, an apoapsis altitude, or a
    mean altitude over one revolution (km over the mean sphere). Retrograde, steered along the
    velocity; its duration is solved."""

    utc: UtcText
    engine: str
    revolutions: int | None = Field(default=None, ge=1, le=100)
    apoapsis_altitude_km: float | None = Field(default=None, gt=0.0, le=_HILL_RADIUS_KM, description=(
        "an apoapsis inside the Moon's Hill sphere (~61,500 km)"))
    mean_altitude_km: float | None = Field(default=None, gt=0.0, le=20_000.0)
    published_duration_s: float | None = Field(default=None, gt=0, le=86_400.0)  # reported: implied mass
    steering: Literal["retrograde", "pitch_programme"] = Field(default="retrograde", description=(
        "'retrograde' along -v, or 'pitch_programme': a linear pitch programme about -v solved with "
        "the duration for the least altitude spread (with mean_altitude_km) or for a periapsis at "
        "the approach's periselene altitude (with apoapsis_altitude_km)"))

    @model_validator(mode="after")
    def _one_aim(self) -> "LoiBurn":
        given = [k for k in ("revolutions", "apoapsis_altitude_km", "mean_altitude_km")
                 if getattr(self, k) is not None]
        if len(given) != 1:
            fail(f"give exactly one of revolutions, apoapsis_altitude_km, mean_altitude_km (given: "
                 f"{given or 'none'})", "revolutions", self.revolutions)
        if self.steering == "pitch_programme" and self.revolutions is not None:
            fail("a pitch programme circularises (mean_altitude_km) or keeps the approach's "
                 "periselene (apoapsis_altitude_km): not with revolutions", "steering", self.steering)
        return self

    @property
    def et(self) -> float:
        return utc_text_to_et(self.utc)


class InjectionErrors(ConfigModel):
    """1-σ errors of the launch vehicle's injection, per J2000 axis, and their seed (a numpy
    ``SeedSequence``)."""

    position_sigma_km: float = Field(default=0.0, ge=0.0, le=100.0)
    velocity_sigma_m_s: float = Field(default=0.0, ge=0.0, le=50.0)
    seed: int = Field(default=0, ge=0)


class TransferPlan(ConfigModel):
    """Injection, arrival aim, midcourse corrections, lunar-orbit-insertion burns, errors."""

    injection: Injection
    arrival: Arrival
    midcourse: Midcourse | None = None
    midcourse_deadband_km: float = Field(default=1.0, ge=0.01, le=1000.0, description=(
        "a predicted B-plane miss below which a midcourse correction is not flown: 0.01 km (10 m, "
        "above the integration noise at the Moon) to 1,000 km"))
    midcourse_deadband_s: float = Field(default=10.0, ge=0.1, le=3600.0, description=(
        "a predicted periselene-epoch miss below which a midcourse correction is not flown: 0.1 s "
        "(above the integration noise) to 1 h"))
    loi: list[LoiBurn] = Field(min_length=1, max_length=10)
    injection_errors: InjectionErrors = InjectionErrors()
    execution_errors: ExecutionErrors = ExecutionErrors()
    force_models: ReturnForceModels = ReturnForceModels()

    @model_validator(mode="after")
    def _check_plan(self) -> "TransferPlan":
        named = [("injection", self.injection.et, self.injection.launch_utc)]
        named += [(f"midcourse.utc[{i}]", utc_text_to_et(u), u)
                  for i, u in enumerate(self.midcourse.utc if self.midcourse else [])]
        named += [(f"loi[{i}].utc", b.et, b.utc) for i, b in enumerate(self.loi)]
        for (prev_field, prev_et, prev_utc), (field, et, utc) in itertools.pairwise(named):
            if et <= prev_et:
                after = ("the injection (launch_utc + flight_time_s = "
                         f"{time_scales.et_to_utc(prev_et)})" if prev_field == "injection"
                         else f"{prev_field} ({prev_utc})")
                fail(f"must come after {after}: the order is injection, midcourse corrections, "
                     "LOI burns", field, utc)
        if self.loi[-1].revolutions is not None:
            fail("the last LOI burn aims at the final orbit: give apoapsis_altitude_km or "
                 "mean_altitude_km (revolutions times the next burn)",
                 f"loi[{len(self.loi) - 1}].revolutions", self.loi[-1].revolutions)
        return self

    def engine_names(self) -> dict[str, str]:
        """Field → engine name, for the reference checks."""
        names = {f"loi[{i}].engine": b.engine for i, b in enumerate(self.loi)}
        if self.midcourse is not None:
            names["midcourse.engine"] = self.midcourse.engine
        return names


@dataclass(frozen=True)
class TransferProblem:
    """A transfer plan with its engines resolved, the stack's mass at injection (kg) and the
    propellant (kg) each engine's module holds then."""

    plan: TransferPlan
    engines: dict[str, Engine]
    mass_kg: float
    propellant_kg: dict[str, float]

    def loi_engine(self, k: int) -> Engine:
        return self.engines[self.plan.loi[k].engine]

    @property
    def mcc_engine(self) -> Engine | None:
        return self.engines[self.plan.midcourse.engine] if self.plan.midcourse else None

    @property
    def mcc_ets(self) -> list[float]:
        return [utc_text_to_et(u) for u in self.plan.midcourse.utc] if self.plan.midcourse else []

    def models(self) -> PatchedModels:
        fm = self.plan.force_models
        return build_models(fm.lunar_degree, fm.earth_degree, fm.soi_radius_km,
                            replace(CISLUNAR_TOLERANCES, rtol=fm.rtol))
