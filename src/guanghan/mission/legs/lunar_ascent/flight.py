"""Lunar-ascent leg: lift-off, vertical rise, pitch-over and powered explicit guidance to the
insertion orbit, with IMU navigation; the same ascent steered from the ground for comparison.

The ascent starts at the previous leg's final state on the surface (the stay's lift-off) or, run
alone, at ``site`` and ``liftoff_utc``. The vehicle's mass is its modules' current masses (the
samples included); the engine's module holds the propellant. With ``target_vehicle`` the
insertion plane is that vehicle's orbital plane at lift-off: its last state (handed on by an
earlier leg, e.g. the orbiter left in orbit at the lander's separation) is propagated to the
lift-off on the scenario's lunar force model, and the launch windows over ``window_search_h`` are
listed (:func:`guanghan.gnc.ascent_window.launch_windows`).

The flown ascent is :func:`guanghan.gnc.ascent_flight.fly_ascent` on the on-board loop (UPFG with
IMU dead reckoning, truth on the scenario's field to ``truth_gravity_degree``). For the
ground-in-the-loop comparison both loops fly ``ground_loop.runs`` dispersed ascents with the same
seeds (thrust and Isp factors, IMU errors drawn from ``numpy.random.SeedSequence(seed).spawn``); the
ground loop's commands act after the round-trip light time (site → Earth, from DE440 at lift-off)
plus ``ground_loop.reaction_s``. The failure rates and insertion errors of both are reported.

Assumptions and limitations
    * The round trip is the direct Earth–Moon one; on the far side the relay adds ~0.1 s.
    * The dispersed runs fly on the point-mass Moon (their spread, not the field, is compared);
      the flown ascent uses the field.
    * A failed ascent (impact, propellant exhausted, periapsis under the profile's minimum) ends
      the mission with the reason; inputs no ascent can meet (thrust-to-weight below 1, a target
      periapsis below the terrain) are refused as bad input naming the numbers.

The design (:mod:`guanghan.mission.mission_design`) is the ground's work before the lift-off: the
launch windows and the ground-loop comparison's figures; given a stored one, the leg reports those
and flies the ascent (its guidance is on board, so nothing of the flight is stored).
"""

from __future__ import annotations

import math

import numpy as np

from guanghan.dynamics.propagator import Tolerances, propagate
from guanghan.dynamics.propulsion import delta_v_from_masses
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import frames, spice_kernels, time_scales
from guanghan.environment import surface_illumination as illum
from guanghan.environment.constants import SIDEREAL_MONTH_S
from guanghan.environment.geodetic import MOON_MEAN_RADIUS
from guanghan.environment.gravity_field import load_lunar_field
from guanghan.errors import GuidanceFailure, InputError, ScenarioError
from guanghan.gnc.ascent_config import ASCENT_MASS_LIMIT_KG, AscentVehicle
from guanghan.gnc.ascent_flight import fly_ascent
from guanghan.gnc.ascent_window import LaunchWindow, launch_windows
from guanghan.mission.event_log import EventLog
from guanghan.mission.force_model_builder import lunar_force_model
from guanghan.mission.leg import LegContext, PhaseResult
from guanghan.mission.legs.lunar_ascent.packing import comparison_figures, pack
from guanghan.mission.mission_design import decode, encode
from guanghan.mission.trajectory_table import SCHEMA

#: propagation of the vehicle waiting in orbit to the lift-off
ORBIT_TOLERANCES = Tolerances(rtol=1e-10, atol_m=1e-2, max_step_s=600.0)


class AscentSetup:
    """Site, epoch, vehicle and target of the ascent, from the scenario and the previous leg
    (``lat``, ``lon`` deg; ``et`` s TDB; ``vehicle``; ``target`` with the orbiter's plane;
    ``round_trip_s`` the Earth round-trip light time)."""

    def __init__(self, phase, ctx: LegContext):
        prev = ctx.previous
        if phase.liftoff_utc is not None:
            self.et = time_scales.utc_to_et(phase.liftoff_utc)
        elif prev is not None:
            self.et = prev.et
        else:
            raise ctx.error("needs liftoff_utc when no previous leg ends on the surface", "liftoff_utc", None)
        if prev is not None and prev.body == "MOON" and phase.liftoff_utc is None:
            me = prev.to_frame("MOON_ME")
            r = float(np.linalg.norm(me.r))
            if r - MOON_MEAN_RADIUS > 30_000.0 or np.linalg.norm(me.v) > 1.0:
                raise ctx.error(f"starts on the surface; the previous phase ends {(r - MOON_MEAN_RADIUS) / 1e3:.1f}"
                                f" km up at {np.linalg.norm(me.v):.1f} m/s (put it after a surface stay, or "
                                "give liftoff_utc and site)", "type", phase.type)
            self.lat = math.degrees(math.asin(me.r[2] / r))
            self.lon = math.degrees(math.atan2(me.r[1], me.r[0]))
        else:
            site = ctx.scenario.sites[phase.site]
            self.lat, self.lon = site.lat_deg, site.lon_deg
        self.module, eng = phase.engine.split(".", 1)
        self.engine = ctx.engines(phase.vehicle)[phase.engine]
        self.thrust_field = f"modules.{self.module}.engines.{eng}.thrust_n"
        self.mass_kg = ctx.vehicle_mass_kg(phase.vehicle)
        self.propellant_kg = ctx.masses[self.module] - ctx.scenario.modules[self.module].dry_mass_kg
        if not self.propellant_kg > 0:
            raise ScenarioError(f"module {self.module!r} has no propellant left for the ascent",
                                file=ctx.file, field=f"modules.{self.module}.propellant_kg",
                                value=ctx.scenario.modules[self.module].propellant_kg)
        for what, kg, field in (("propellant", self.propellant_kg, "propellant_kg"),
                                ("dry mass", self.mass_kg - self.propellant_kg, "dry_mass_kg")):
            if kg > ASCENT_MASS_LIMIT_KG:           # AscentVehicle's bound
                raise ScenarioError(f"an ascent vehicle with {kg:.4g} kg of {what} (vehicle "
                                    f"{phase.vehicle!r}): at most {ASCENT_MASS_LIMIT_KG:.0e} kg",
                                    file=ctx.file, field=f"modules.{self.module}.{field}",
                                    value=getattr(ctx.scenario.modules[self.module], field))
        self.vehicle = AscentVehicle(engine=self.engine, dry_mass_kg=self.mass_kg - self.propellant_kg,
                                     propellant_kg=self.propellant_kg,
                                     max_slew_rate_deg_s=phase.max_slew_rate_deg_s)
        self.target = phase.target
        self.orbiter = None
        self.plane_offset_deg = None
        if phase.target_vehicle is not None:
            self._aim_at(phase, ctx)
        site = illum.SurfaceSite(lat_deg=self.lat, lon_deg=self.lon)
        self.round_trip_s = 2.0 * float(illum.earth_light_time_s(site, [self.et])[0])
        self._check_propellant(ctx)

    def _check_propellant(self, ctx: LegContext) -> None:
        """Refuse a load whose ideal Δv (rocket equation) is short of the insertion speed less the
        site's rotation speed: a lower bound of any ascent's Δv, before gravity and steering losses."""
        mu = spice_kernels.gm("MOON")
        _, v_ins, _ = self.target.insertion(mu, MOON_MEAN_RADIUS)
        v_rot = 2.0 * math.pi * MOON_MEAN_RADIUS * math.cos(math.radians(self.lat)) / SIDEREAL_MONTH_S
        have = delta_v_from_masses(self.mass_kg, self.mass_kg - self.propellant_kg, self.engine.isp_s)
        if have < v_ins - v_rot:
            raise ScenarioError(
                f"the {self.mass_kg:.1f} kg vehicle with {self.propellant_kg:.1f} kg of propellant has an "
                f"ideal Δv of {have:.0f} m/s at Isp {self.engine.isp_s} s, short of the {v_ins - v_rot:.0f} "
                f"m/s the insertion needs before any loss", file=ctx.file,
                field=f"modules.{self.module}.propellant_kg", value=ctx.scenario.modules[self.module].propellant_kg)

    def _aim_at(self, phase, ctx: LegContext) -> None:
        name = phase.target_vehicle
        state = ctx.vehicles.get(name)
        if state is None:
            raise ctx.error(f"no earlier leg left vehicle {name!r} in flight (known: "
                            f"{sorted(ctx.vehicles)})", "target_vehicle", name)
        if state.et > self.et:
            raise ctx.error(f"vehicle {name!r} is known only from {time_scales.et_to_utc(state.et)}, "
                            "after the lift-off", "target_vehicle", name)
        model = lunar_force_model(ctx.scenario, name)
        end = self.et + 3600.0 * phase.window_search_h + 600.0
        self.orbiter = propagate(state.to_frame("J2000"), end, model, ORBIT_TOLERANCES).trajectory
        x = self.orbiter.states(np.array([self.et]))[0]
        n_o = np.cross(x[:3], x[3:6])
        n_o /= np.linalg.norm(n_o)
        # the plane through the site closest to the orbiter's: its normal is the orbiter's normal
        # with the component along the site's radius removed; the angle left between them is the
        # site's out-of-plane angle, for the rendezvous to close
        site = frames.rotation("MOON_ME", "J2000", [self.et])[0] @ illum.SurfaceSite(
            lat_deg=self.lat, lon_deg=self.lon).position_m
        u = site / np.linalg.norm(site)
        normal = n_o - (n_o @ u) * u
        self.plane_offset_deg = math.degrees(math.asin(min(1.0, abs(float(n_o @ u)))))
        self.target = phase.target.model_copy(update={"plane_normal": tuple(float(c) for c in normal),
                                                      "plane_axes": "J2000"})
        self.orbiter_state = SpacecraftState(self.et, x[:3], x[3:6], state.mass, "J2000", "MOON")


def truth_field(phase, ctx):
    """The ascent's truth lunar field: the scenario's model to ``truth_gravity_degree`` (None: point mass)."""
    env = ctx.scenario.environment
    degree = min(phase.truth_gravity_degree, env.lunar_gravity_degree)
    return load_lunar_field(env.lunar_gravity_model, degree, degree) if degree >= 2 else None


def _dispersed(phase, s: AscentSetup) -> dict:
    """Both loops over the same seeded dispersions: failure rates and insertion errors."""
    gl = phase.ground_loop
    out = {"runs": gl.runs, "round_trip_s": s.round_trip_s, "onboard": [], "ground": []}
    children = np.random.SeedSequence(phase.seed).spawn(gl.runs)
    delay = s.round_trip_s + gl.reaction_s
    for child in children:
        draw = np.random.default_rng(child)
        thrust = 1.0 + gl.thrust_sigma * float(draw.standard_normal())
        isp = 1.0 + gl.isp_sigma * float(draw.standard_normal())
        imu_seed = int(draw.integers(2**63))
        for key, d in (("onboard", 0.0), ("ground", delay)):
            res = fly_ascent(s.lat, s.lon, s.et, s.vehicle, s.target, profile=phase.profile, imu=phase.imu,
                             rng=np.random.default_rng(imu_seed), ground_delay_s=d, telemetry=gl.telemetry,
                             thrust_factor=thrust, isp_factor=isp)
            out[key].append(res)
    return out


def fly(phase, ctx: LegContext) -> PhaseResult:
    """Lift off and fly to the insertion; see the module docstring."""
    s = AscentSetup(phase, ctx)
    log = EventLog()
    try:
        res = fly_ascent(s.lat, s.lon, s.et, s.vehicle, s.target, profile=phase.profile, imu=phase.imu,
                         rng=np.random.default_rng(phase.seed), field=truth_field(phase, ctx))
    except InputError as exc:
        if exc.quantity == "engine.thrust_n":
            raise ScenarioError(f"thrust-to-weight below 1 in lunar gravity: {exc.reason}", file=ctx.file,
                                field=s.thrust_field, value=s.engine.thrust_n) from None
        raise ctx.scenario_error(exc, "target" if exc.quantity in type(phase.target).model_fields
                                 else "") from None
    except GuidanceFailure as exc:
        raise ctx.error(f"no ascent guidance solution from the pad: {exc.reason}", "target",
                        phase.target.model_dump(exclude_none=True)) from None
    if ctx.design is not None:
        windows = [decode(LaunchWindow, w) for w in ctx.design["windows"]]
        study = ctx.design["study"]
    else:
        windows = []
        if s.orbiter is not None and phase.window_search_h > 0:
            ets, states = s.orbiter.sample(120.0)
            start = max(float(ets[0]), s.et - 12 * 3600.0)
            windows = launch_windows(s.lat, s.lon, start,
                                     min(float(ets[-1]), s.et + 3600.0 * phase.window_search_h),
                                     (ets, states[:, :6]), min_separation_s=3600.0)
        study = comparison_figures(phase, s, _dispersed(phase, s) if phase.ground_loop.runs > 0
                                   and res.success else None)
    if res.insertion_state is None:
        final = SpacecraftState(s.et, np.zeros(3), np.zeros(3), s.mass_kg, "J2000", "MOON")
        return PhaseResult(phase.name, ctx.previous or final, log, {}, SCHEMA.empty_table(),
                           aborted=res.failure_reason or "no engine cut-off", leg_type=phase.type)
    result = pack(phase, ctx, s, log, res, windows, study)
    result.design = {"windows": encode(windows), "study": encode(study)}
    return result
