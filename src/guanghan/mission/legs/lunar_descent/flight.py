"""Lunar-descent leg: separation, orbit lowering, closed-loop powered descent with hazard avoidance,
touchdown.

From the previous leg's final state (the stack in lunar orbit at the separation epoch) the
descending vehicle (``vehicle``, e.g. the lander–ascender) separates with its modules' masses; the
rest (``remaining_vehicle``) stays on its orbit and is propagated on to the touchdown epoch
(series ``orbiter``, Moon-centred J2000; its last row is where a rendezvous leg would pick it up).
The lander then lowers its periapsis with two retrograde burns of its descent engine
(:func:`guanghan.gnc.orbit_lowering.design_lowering`, solved on the scenario's full lunar force
model) to the scenario's height, ``uprange_km`` up-range of the site at ``powered_descent_utc``
(the solved burns are the leg's design, ``design["lowering"]``: with ``--design-from`` they are
flown again from the same separation state, :func:`~guanghan.gnc.orbit_lowering.stored_lowering`),
and flies :func:`guanghan.gnc.powered_descent.fly_powered_descent` over the DEM and, in the hover
area, a seeded synthetic terrain of the scenario's class, choosing its site by lidar hazard
detection (:mod:`.terrain`). The touchdown point is judged on the TRUE terrain
(:func:`guanghan.gnc.hazard_detection.check_site`: ``lunar_landing.hazard_free``).

The descent engine's thrust and Isp come from the scenario's engine table; the lander's dry mass
for the descent is the vehicle's current mass minus the engine module's propellant; the
propellant of both lowering burns and the descent comes out of that module.

Assumptions and limitations
    * The lowering burns are impulsive-free finite burns flown exactly (no execution errors); the
      navigation state at the descent start is the truth plus the sensors' initial 1σ.
    * The powered descent runs in the site-fixed frame with the scenario's field truncated to
      ``truth_gravity_degree``; the orbital legs use the full degree.
    * A descent that fails in flight (crash, propellant exhausted, no approach solution) or a
      lowering with no solution ends the mission (``aborted``) with the reason. A powered descent
      that has no plan at all from its start (the physics' checks before the flight) is bad
      input: a ScenarioError naming the engine, the propellant load, the up-range arc or the
      lander field, with the numbers.
"""

from __future__ import annotations

import math

import numpy as np

from guanghan.dynamics.propulsion import delta_v_from_masses
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import lunar_dem, spice_kernels, time_scales
from guanghan.environment.ephemeris import check_span
from guanghan.environment.geodetic import (
    MOON_MEAN_RADIUS,
    cartesian_from_planetocentric,
)
from guanghan.environment.gravity_field import load_lunar_field
from guanghan.errors import (
    EphemerisRangeError,
    GuidanceFailure,
    InputError,
    ScenarioError,
)
from guanghan.gnc.orbit_lowering import LoweringDesign, LoweringTarget, design_lowering, stored_lowering
from guanghan.gnc.powered_descent import (
    DescentInputError,
    DescentTarget,
    LanderConfig,
    fly_powered_descent,
)
from guanghan.environment.landing_terrain import DescentTerrain
from guanghan.gnc.approach_hazard_avoidance import ApproachHazardDetection
from guanghan.gnc.hover_hazard_avoidance import HoverHazardDetection, sun_elevation_azimuth
from guanghan.mission.event_log import EventLog
from guanghan.mission.force_model_builder import lunar_force_model
from guanghan.mission.leg import LegContext, PhaseResult
from guanghan.mission.mission_design import decode, encode
from guanghan.mission.legs.lunar_descent.packing import TOLERANCES, pack
from guanghan.mission.legs.lunar_descent.terrain import synthetic_hover_terrain
from guanghan.mission.trajectory_table import SCHEMA

#: DEM grid margin beyond the up-range arc (m)
DEM_MARGIN_M = 80_000.0


def _mass_fields(scenario, vehicle: str) -> str:
    """The scenario fields a vehicle's mass comes from, for messages."""
    return " + ".join(f"modules.{m}.dry_mass_kg + propellant_kg" for m in scenario.vehicles[vehicle].modules)


class _Setup:
    """What the leg derives from the scenario before flying: masses, engine, site, checks."""

    def __init__(self, phase, ctx: LegContext):
        sc = ctx.scenario
        self.site = sc.sites[phase.site]
        prev = ctx.previous
        if prev is None or prev.body != "MOON":
            got = "nothing" if prev is None else f"a {prev.body}-centred state"
            raise ctx.error(f"starts from the previous phase's state in lunar orbit; the previous "
                            f"phase gives {got}", "type", phase.type)
        self.et_sep = prev.et
        self.et_pdi = time_scales.utc_to_et(phase.powered_descent_utc)
        if self.et_pdi <= self.et_sep:
            raise ctx.error(f"must come after the separation ({prev.utc}, the previous phase's "
                            "end)", "powered_descent_utc", phase.powered_descent_utc)
        try:
            check_span(np.array([self.et_sep, self.et_pdi + phase.profile.max_duration_s]))
        except EphemerisRangeError as exc:
            raise ctx.error(str(exc), "powered_descent_utc", phase.powered_descent_utc) from None
        self.module, eng_name = phase.engine.split(".", 1)
        self.engine = ctx.engines(phase.vehicle)[phase.engine]
        self.thrust_field = f"modules.{self.module}.engines.{eng_name}.thrust_n"
        self.prop_field = f"modules.{self.module}.propellant_kg"
        self.mass_kg = ctx.vehicle_mass_kg(phase.vehicle)
        self.remaining_kg = ctx.vehicle_mass_kg(phase.remaining_vehicle)
        self.budget_kg = ctx.masses[self.module] - sc.modules[self.module].dry_mass_kg
        self.dry_kg = self.mass_kg - self.budget_kg
        self.radius_m = MOON_MEAN_RADIUS + self.site.altitude_m
        g = spice_kernels.gm("MOON") / self.radius_m ** 2
        if self.engine.total_thrust_n <= self.mass_kg * g:
            raise self.error(ctx, (
                f"{self.engine.total_thrust_n:.0f} N cannot hover the {self.mass_kg:.1f} kg "
                f"vehicle {phase.vehicle!r} ({_mass_fields(sc, phase.vehicle)}): its lunar weight at the "
                f"site is {self.mass_kg * g:.1f} N (g = {g:.4f} m/s²)"), self.thrust_field, self.engine.thrust_n)
        el, _ = sun_elevation_azimuth(self.site.lat_deg, self.site.lon_deg, self.site.altitude_m,
                                      self.et_pdi)
        if el < phase.min_sun_elevation_deg:
            raise ctx.error(f"the site (sites.{phase.site}: lat_deg {self.site.lat_deg}, lon_deg "
                            f"{self.site.lon_deg}) is in darkness at the descent start: the Sun is {el:.2f}° "
                            f"above its horizon, below min_sun_elevation_deg = {phase.min_sun_elevation_deg}°",
                            "powered_descent_utc", phase.powered_descent_utc)
        self.sun_elevation_deg = el

    @staticmethod
    def error(ctx: LegContext, reason: str, field: str, value) -> ScenarioError:
        """An error on a scenario field outside the phase (the hardware tables)."""
        return ScenarioError(reason, file=ctx.file, field=field, value=value)


def _lower(phase, ctx: LegContext, s: _Setup, start: SpacecraftState, log: EventLog):
    """The orbit lowering: the stored design's burns when ``start`` is the separation state they
    were solved from, else solved here (event ``lowering_redesigned`` when a stored one is set aside)."""
    model = lunar_force_model(ctx.scenario, phase.vehicle)
    low = None
    if ctx.design and "lowering" in ctx.design:
        low = stored_lowering(start, model, decode(LoweringDesign, ctx.design["lowering"]), s.et_pdi, TOLERANCES)
        if low is None:
            log.add(start.et, phase.name, "lowering_redesigned",
                    {"reason": "the separation state is not the one the stored lowering was solved from"})
    if low is None:
        low = _solve_lowering(phase, ctx, s, start, model)
    used = start.mass - low.state_pdi.mass
    if used >= s.budget_kg:
        raise s.error(ctx, f"the orbit lowering alone needs {used:.1f} kg of the {s.budget_kg:.1f} kg "
                      f"in module {s.module!r}", s.prop_field, ctx.scenario.modules[s.module].propellant_kg)
    return low


def _solve_lowering(phase, ctx: LegContext, s: _Setup, start: SpacecraftState, model):
    lw = phase.orbit_lowering
    site_me = cartesian_from_planetocentric(math.radians(s.site.lat_deg),
                                            math.radians(s.site.lon_deg), s.radius_m)
    target = LoweringTarget(s.et_pdi, site_me, lw.periapsis_altitude_km * 1e3, lw.uprange_km * 1e3)
    try:
        return design_lowering(start, model, s.engine, target, TOLERANCES, lw.min_delay_h * 3600.0,
                               lw.max_iterations)
    except InputError as exc:
        if exc.quantity == "powered_descent_utc":
            raise ctx.error(exc.reason, "powered_descent_utc", phase.powered_descent_utc) from None
        raise ctx.scenario_error(exc, "orbit_lowering") from None


def _translate(exc: DescentInputError, phase, ctx: LegContext, s: _Setup) -> ScenarioError:
    """The scenario field behind a DescentInputError of the descent physics."""
    if exc.field.startswith("engine."):
        return s.error(ctx, exc.limit, s.thrust_field, s.engine.thrust_n)
    if exc.field == "start_state.mass":
        return s.error(ctx, f"the {s.mass_kg:.1f} kg lander with {s.budget_kg:.1f} kg of propellant "
                       f"at separation {exc.limit} (start mass {exc.value:.1f} kg after the orbit "
                       f"lowering, for the descent from powered_descent_utc = "
                       f"{phase.powered_descent_utc})", s.prop_field,
                       ctx.scenario.modules[s.module].propellant_kg)
    record = "profile" if exc.field in type(phase.profile).model_fields else \
        "sensors" if exc.field in type(phase.sensors).model_fields else "lander"
    return ctx.error(exc.limit, f"{record}.{exc.field}", exc.value)


def _infeasible(exc: GuidanceFailure, phase, ctx: LegContext, s: _Setup,
                pdi: SpacecraftState) -> ScenarioError:
    """The input behind a powered descent that has no plan at all from its start: the up-range
    arc when the braking gate is out of reach, else the propellant (the convex braking problem is
    infeasible within the thrust, tilt and propellant limits)."""
    avail = pdi.mass - s.dry_kg
    # the shortest braking arc of all: the start speed spent at the dry lander's full thrust
    # (v²/2a with a = T/m_dry), a lower bound no propellant load or profile can beat
    v = float(np.linalg.norm(pdi.v))
    shortest_km = v * v / (2.0 * s.engine.total_thrust_n / s.dry_kg) / 1e3
    if "out of reach" in exc.reason or phase.orbit_lowering.uprange_km < shortest_km:
        lw = phase.orbit_lowering
        return ctx.error(f"the {pdi.mass:.1f} kg lander ({avail:.1f} kg of propellant above its "
                         f"{s.dry_kg:.1f} kg dry mass) cannot brake from {lw.uprange_km} km "
                         f"up-range (no braking arc from {v:.0f} m/s is shorter than "
                         f"{shortest_km:.0f} km): {exc.reason}", "orbit_lowering.uprange_km", lw.uprange_km)
    return s.error(ctx, f"the {s.mass_kg:.1f} kg lander with {s.budget_kg:.1f} kg of propellant at "
                   f"separation ({avail:.1f} kg at the descent start above the {s.dry_kg:.1f} kg "
                   f"dry mass) has no feasible powered descent with this profile (profile."
                   f"guidance_throttle_margin = {phase.profile.guidance_throttle_margin}, approach_glide_slope_deg"
                   f" = {phase.profile.approach_glide_slope_deg}): {exc.reason}", s.prop_field,
                   ctx.scenario.modules[s.module].propellant_kg)


def fly(phase, ctx: LegContext) -> PhaseResult:
    """Separate, lower the orbit, fly the powered descent and land; see the module docstring."""
    s = _Setup(phase, ctx)
    name, log = phase.name, EventLog()
    start = ctx.previous.to_frame("J2000").with_mass(s.mass_kg)
    log.add(s.et_sep, name, "separation", {"vehicle": phase.vehicle, "mass_kg": s.mass_kg,
                                           "remaining_vehicle": phase.remaining_vehicle,
                                           "remaining_mass_kg": s.remaining_kg})
    try:
        low = _lower(phase, ctx, s, start, log)
    except GuidanceFailure as exc:
        log.add(s.et_sep, name, "guidance_failure", {"phase": exc.phase, "reason": exc.reason})
        return PhaseResult(name, start, log, {}, SCHEMA.empty_table(), aborted=exc.reason,
                           leg_type=phase.type)
    _log_burns(log, name, low)
    pdi = low.state_pdi
    terrain = DescentTerrain(s.site.lat_deg, s.site.lon_deg, phase.orbit_lowering.uprange_km * 1e3
                             + abs(low.figures["cross_track_m"]) + DEM_MARGIN_M, keep=not ctx.summary_only)
    _check_clearance(phase, ctx, pdi, terrain, s)
    rng = np.random.default_rng(phase.hazard.seed)
    terrain.attach(synthetic_hover_terrain(phase.hazard, rng, *terrain.regional_slope(),
                                           keep=not ctx.summary_only))
    hda = HoverHazardDetection(terrain.synthetic, phase.hazard, s.site.lat_deg, s.site.lon_deg,
                               s.site.altitude_m, s.et_pdi, rng)
    coarse = ApproachHazardDetection(terrain.synthetic, phase.hazard, s.site.lat_deg,
                                     s.site.lon_deg, s.site.altitude_m, s.et_pdi, rng) \
        if phase.hazard.coarse_divert_radius_m > 0 else None
    lander = LanderConfig(engine=s.engine, dry_mass_kg=s.dry_kg, **phase.lander.model_dump())
    target = DescentTarget(latitude_deg=s.site.lat_deg, longitude_deg=s.site.lon_deg,
                           radius_m=s.radius_m)
    env = ctx.scenario.environment
    degree = min(phase.truth_gravity_degree, env.lunar_gravity_degree)
    field = load_lunar_field(env.lunar_gravity_model, degree, degree) if degree >= 2 else None
    try:
        res = fly_powered_descent(pdi, lander, target, terrain, phase.sensors, hda, phase.seed,
                                  phase.profile, field, coarse,
                                  phase.hazard.coarse_decision_height_m)
    except DescentInputError as exc:
        raise _translate(exc, phase, ctx, s) from None
    except GuidanceFailure as exc:          # raised before the flight: no descent from this start
        raise _infeasible(exc, phase, ctx, s, pdi) from None
    result = pack(phase, ctx, s, log, start, low, res, hda, coarse, _lowering_summary(phase, s, low, start))
    result.design = {"lowering": encode(LoweringDesign(start, low.burns, low.figures))}
    return result


def _log_burns(log: EventLog, name: str, low) -> None:
    for k, b in enumerate(low.burns, 1):
        log.add(b.start_et, name, f"orbit_lowering_{k}_start",
                {"duration_s": b.duration_s, "thrust_n": b.thrust_n, "direction": b.direction})
        log.add(b.end_et, name, f"orbit_lowering_{k}_end", {})


def _check_clearance(phase, ctx, pdi: SpacecraftState, terrain: DescentTerrain, s: _Setup) -> None:
    """Refuse a descent start lower over the DEM than ``min_terrain_clearance_km``."""
    frame_me = pdi.to_frame("MOON_ME")
    r = frame_me.r
    lat, lon = math.degrees(math.asin(r[2] / np.linalg.norm(r))), math.degrees(math.atan2(r[1], r[0]))
    clearance = (np.linalg.norm(r) - MOON_MEAN_RADIUS - lunar_dem.height_m(lat, lon)) / 1e3
    s.start_clearance_km = float(clearance)
    lw = phase.orbit_lowering
    if clearance < lw.min_terrain_clearance_km:
        text = (f"the descent start ({lat:.2f}°, {lon:.2f}°) is only {clearance:.2f} km above the DEM "
                f"there, below min_terrain_clearance_km = {lw.min_terrain_clearance_km}")
        below_km = (lunar_dem.height_m(s.site.lat_deg, s.site.lon_deg) - s.site.altitude_m) / 1e3
        if clearance + below_km >= lw.min_terrain_clearance_km:     # the site's altitude is the cause
            raise ScenarioError(f"the site lies {below_km:.2f} km below the DEM height at it, and the "
                                f"descent start, periapsis_altitude_km = {lw.periapsis_altitude_km} km "
                                f"above the site, follows it down: {text}", file=ctx.file,
                                field=f"sites.{phase.site}.altitude_m", value=s.site.altitude_m)
        raise ctx.error(text, "orbit_lowering.periapsis_altitude_km", lw.periapsis_altitude_km)


def _lowering_summary(phase, s: _Setup, low, start) -> dict:
    f, name = low.figures, phase.name
    used = start.mass - low.state_pdi.mass
    out = {f"{name}.separation_utc": time_scales.et_to_utc(s.et_sep),
           "descent.start_utc": time_scales.et_to_utc(s.et_pdi),
           "descent.lowering_propellant_kg": used,
           "descent.lowering_delta_v_m_s": delta_v_from_masses(start.mass, low.state_pdi.mass,
                                                               s.engine.isp_s),
           "descent.start_height_error_m": f["height_error_m"],
           "descent.start_uprange_error_m": f["uprange_error_m"],
           "descent.start_cross_track_km": f["cross_track_m"] / 1e3,
           "descent.start_speed_m_s": f["speed_at_pdi_m_s"],
           "descent.propellant_budget_kg": s.budget_kg,
           f"{name}.sun_elevation_deg": s.sun_elevation_deg,
           f"{name}.aim_lat_deg": s.site.lat_deg, f"{name}.aim_lon_deg": s.site.lon_deg,
           f"{name}.lowering_revolutions_count": f["revolutions_between_burns"],
           f"{name}.lowering_burn_2_pitch_deg": f["burn2_pitch_deg"]}
    for k, b in enumerate(low.burns, 1):
        out[f"{name}.lowering_burn_{k}_utc"] = time_scales.et_to_utc(b.start_et)
        out[f"{name}.lowering_burn_{k}_duration_s"] = float(b.duration_s)
    return out
