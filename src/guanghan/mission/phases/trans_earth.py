"""Trans-Earth phase: TEI-1, TEI-2, coast, midcourse corrections, separation, orbiter divert, EI.

:func:`fly_return` plans and flies the return of the orbiter-returner stack from a lunar parking
orbit to the 120 km entry interface (EI), on the full force model of
:mod:`guanghan.gnc.return_targeting` (Moon-centred inside the lunar SOI, Earth-centred outside):

1. plan: TEI-1 (prograde, published epoch) is solved for the duration putting the next periapsis
   at the middle of TEI-2; TEI-2 (published epoch) for duration and fixed J2000 direction hitting
   the EI targets (FPA, crossrange 0, epoch, downrange band);
2. fly: TEI-1 (accelerometer cut-off) and TEI-2 (timer cut-off) are executed with seeded thrust
   and pointing errors; each midcourse correction (MCC) re-targets FPA, crossrange and the
   planned EI epoch and is flown with errors too; at the separation altitude the returner flies
   on to the EI and the orbiter diverts (burn along the local horizontal) to a safe perigee.

Figures (``<group>.<quantity>_<unit>``): ``tei.delta_v_m_s`` (both TEI burns, Isp g0 ln(m0/m1)),
``tei1/tei2.duration_s``, ``return.mcc_delta_v_m_s`` and per MCC, ``entry.interface_utc``,
``entry.interface_speed_m_s`` (inertial), ``entry.interface_fpa_deg`` (EARTH-RELATIVE, geocentric
horizontal, as the entry phase uses), ``entry.interface_fpa_inertial_deg``, lat/lon (geodetic),
azimuth (of the Earth-relative velocity), crossrange/downrange to the site,
``orbiter.perigee_altitude_km``, ``separation.lat_deg/lon_deg/altitude_km`` (geodetic sub-point),
``parking_orbit.altitude_km`` (mean over one revolution, over the mean sphere),
``parking_orbit.inclination_deg`` (to the lunar equator, MOON_ME), ``tei1.perilune_altitude_km``
(osculating, after TEI-1), ``tei2.altitude_km`` (mid-burn), ``tei2.implied_stack_mass_kg``.

Assumptions and limitations
    * The post-docking orbit is an input (not public for Chang'e-5): :func:`design_parking`
      builds a circular one of a requested altitude (and, optionally, inclination to the lunar
      equator) from which the published epochs work, solving the rotation of the departure plane
      about its asymptote (and the TEI-2 periapsis altitude when the inclination is given).
    * TEI-2 is planned from the designed departure turned onto the coast's orbit plane (three
      least-squares stages, :func:`~guanghan.gnc.return_targeting.solve_tei2`) and RE-PLANNED
      from the flown post-TEI-1 orbit when TEI-1 had errors (perfect navigation over the day
      between them).
    * Execution errors (1σ thrust %, pointing ° per axis) are drawn from one seeded Generator in
      a fixed order (TEI-1, TEI-2, MCC-1..n, divert; three standard normals each) and applied to
      every burn. TEI-1 is velocity-tracking with an accelerometer cut-off: its pointing error is
      a tilt fixed in the velocity frame, flown as a prograde part plus a massless side part in
      12 inertial pieces (:func:`_tracked_tilt`). TEI-2, MCCs and the divert are fixed-attitude
      burns cut off by timer.
    * TEI-2 with the assumed masses lasts ~18 min against the published ~22 min [CE5-CRI1213];
      ``tei2.implied_stack_mass_kg`` is the stack mass the published duration implies for the
      flown Δv (Tsiolkovsky), for revising the (assumed) orbiter mass; nothing is tuned here.
    * Masses: the stack is orbiter + returner; the returner's mass is constant; all burns are
      the orbiter's. No SRP, no attitude-control disturbances, perfect navigation.
    * This module has outgrown the ~400-line guide; execution errors and the parking design are
      candidates for modules of their own.

References
    See :mod:`guanghan.gnc.return_targeting`; published epochs in the project's validation notes
    (Chang'e-5 §1f).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import brentq, least_squares, root_scalar

from guanghan.dynamics import events as ev
from guanghan.dynamics.forces import G0, FiniteBurn
from guanghan.dynamics.kepler import state_to_elements
from guanghan.dynamics.propagator import propagate
from guanghan.dynamics.state import SpacecraftState
from guanghan.dynamics.trajectory import Trajectory
from guanghan.environment import frames, spice_kernels, time_scales
from guanghan.errors import GuidanceFailure, ScenarioError
from guanghan.gnc import return_targeting as rt
from guanghan.gnc.return_targeting import Engine


@dataclass(frozen=True)
class ExecutionErrors:
    """1-σ burn execution errors: thrust magnitude (%), pointing (deg per axis); generator seed."""

    thrust_sigma_pct: float = 0.0
    pointing_sigma_deg: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class ReturnConfig:
    """Everything the return needs; epochs UTC ISO-8601, durations are initial guesses (s)."""

    tei1_utc: str
    tei1_engine: Engine
    tei1_duration_guess_s: float
    tei2_utc: str
    tei2_engine: Engine
    tei2_duration_guess_s: float
    mcc_utc: tuple[str, ...]
    mcc_engine: Engine
    separation_altitude_km: float
    orbiter_divert_engine: Engine
    orbiter_min_perigee_altitude_km: float
    entry_utc: str
    entry_fpa_deg: float
    landing_lat_deg: float
    landing_lon_deg: float
    downrange_min_km: float
    downrange_max_km: float
    orbiter_mass_kg: float
    returner_mass_kg: float
    entry_altitude_km: float = 120.0
    fpa_reference: str = "relative"
    orbiter_divert_delay_s: float = 60.0
    orbiter_divert_margin_km: float = 50.0
    execution_errors: ExecutionErrors = field(default_factory=ExecutionErrors)
    lunar_degree: int = 20
    earth_degree: int = 8
    soi_radius_km: float = 66_000.0
    epoch_weight_s: float = 60.0
    tei2_periapsis_altitude_km: float = 230.0     # design of the departure hyperbola (guess)
    tei2_reference_duration_s: float | None = None   # published TEI-2 duration, for the implied mass
    rtol: float = rt.RETURN_TOLERANCES.rtol       # integrator relative tolerance of the return

    def validate(self) -> None:
        """Raise ScenarioError naming the first impossible field."""
        for name in ("tei1_engine", "tei2_engine", "mcc_engine", "orbiter_divert_engine"):
            eng = getattr(self, name)
            for part in ("thrust_n", "isp_s", "count"):
                if not getattr(eng, part) > 0:
                    raise ScenarioError("must be > 0", field=f"{name}.{part}", value=getattr(eng, part))
        for name in ("tei1_duration_guess_s", "tei2_duration_guess_s", "orbiter_mass_kg",
                     "returner_mass_kg", "entry_altitude_km", "soi_radius_km", "epoch_weight_s"):
            if not getattr(self, name) > 0:
                raise ScenarioError("must be > 0", field=name, value=getattr(self, name))
        epochs = [("tei1_utc", self.tei1_utc), ("tei2_utc", self.tei2_utc)]
        epochs += [(f"mcc_utc[{i}]", u) for i, u in enumerate(self.mcc_utc)] + [("entry_utc", self.entry_utc)]
        ets = []
        for name, utc in epochs:
            try:
                ets.append(time_scales.utc_to_et(utc))
            except Exception:
                raise ScenarioError("is not a UTC epoch", field=name, value=utc) from None
        if ets[1] < ets[0] + self.tei1_duration_guess_s:
            raise ScenarioError(f"must come after TEI-1 ({self.tei1_utc}) and its burn",
                                field="tei2_utc", value=self.tei2_utc)
        for (name, utc), et, prev in zip(epochs[2:], ets[2:], ets[1:]):
            if et <= prev:
                raise ScenarioError("epochs must be in the order TEI-1, TEI-2, MCCs, entry",
                                    field=name, value=utc)
        if self.separation_altitude_km <= self.entry_altitude_km:
            raise ScenarioError(f"must be above the entry interface ({self.entry_altitude_km} km)",
                                field="separation_altitude_km", value=self.separation_altitude_km)
        if not -90 < self.entry_fpa_deg < 0:
            raise ScenarioError("must be in (-90, 0) deg: an entry descends",
                                field="entry_fpa_deg", value=self.entry_fpa_deg)
        if self.fpa_reference not in ("relative", "inertial"):
            raise ScenarioError("use 'relative' or 'inertial'", field="fpa_reference", value=self.fpa_reference)
        if not 0 <= self.downrange_min_km < self.downrange_max_km:
            raise ScenarioError("needs 0 <= downrange_min_km < downrange_max_km",
                                field="downrange_max_km", value=self.downrange_max_km)
        if not 1e-14 <= self.rtol <= 1e-8:
            raise ScenarioError("must be in [1e-14, 1e-8]", field="rtol", value=self.rtol)
        if self.orbiter_min_perigee_altitude_km <= self.entry_altitude_km:
            raise ScenarioError("must be above the entry interface", field="orbiter_min_perigee_altitude_km",
                                value=self.orbiter_min_perigee_altitude_km)

    def entry_target(self, et: float | None = None) -> rt.EntryTarget:
        return rt.EntryTarget(self.entry_altitude_km * 1e3, self.entry_fpa_deg,
                              time_scales.utc_to_et(self.entry_utc) if et is None else et,
                              self.landing_lat_deg, self.landing_lon_deg, self.downrange_min_km,
                              self.downrange_max_km, self.fpa_reference, self.epoch_weight_s)

    def models(self) -> rt.ReturnModels:
        tol = replace(rt.RETURN_TOLERANCES, rtol=self.rtol)
        return rt.build_models(self.lunar_degree, self.earth_degree, self.soi_radius_km, tol)


@dataclass
class ReturnResult:
    """Returner at the EI (ET, J2000 Earth-centred), trajectories, events and figures."""

    entry_et: float
    r_entry_j2000: np.ndarray
    v_entry_j2000: np.ndarray
    trajectory: list[Trajectory]
    orbiter_trajectory: list[Trajectory]
    events: list[dict]
    figures: dict
    entry: rt.EntryGeometry
    burns: dict


def _add(events: list, et: float, name: str, **details) -> None:
    events.append({"et": float(et), "event": name, "details": details})


_SIDE_ISP_S = 1e12     # s: the massless side part of a tilted prograde burn (see _tracked_tilt)
_SIDE_SEGMENTS = 12    # inertial pieces approximating the rotating side thrust of TEI-1


def _error_draws(errors: ExecutionErrors, n_mcc: int) -> dict[str, np.ndarray]:
    """Standard-normal draws (thrust, pointing axis 1, axis 2) per burn, from ONE generator seeded
    with ``errors.seed``, always in the order TEI-1, TEI-2, MCC-1..n, orbiter divert (whether or
    not a burn is flown), so a burn's errors do not depend on what the others did."""
    names = ["tei1", "tei2", *(f"mcc{i}" for i in range(1, n_mcc + 1)), "divert"]
    z = np.random.default_rng(errors.seed).standard_normal((len(names), 3))
    return dict(zip(names, z))


def _error_sizes(errors: ExecutionErrors, z: np.ndarray) -> tuple[float, np.ndarray]:
    """(thrust factor, tilt angles (rad) about two axes normal to the thrust) from draws ``z``."""
    return 1.0 + z[0] * errors.thrust_sigma_pct / 100.0, z[1:] * math.radians(errors.pointing_sigma_deg)


def _tilted(u: np.ndarray, tilt: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Unit vector ``u`` turned by the small-angle vector ``tilt`` (rad) towards axes a, b (⊥ u)."""
    angle = float(np.hypot(*tilt))
    if angle == 0.0:
        return u
    return math.cos(angle) * u + math.sin(angle) * (tilt[0] * a + tilt[1] * b) / angle


def _dispersed(burn: FiniteBurn, errors: ExecutionErrors, z: np.ndarray) -> FiniteBurn:
    """An inertial ``burn`` with thrust-magnitude and pointing errors from draws ``z`` (timer
    cut-off: the duration is kept)."""
    factor, tilt = _error_sizes(errors, z)
    u = np.asarray(burn.vector_j2000, float)
    a = np.cross(u, [0.0, 0.0, 1.0]) if abs(u[2]) < 0.9 else np.cross(u, [1.0, 0.0, 0.0])
    a /= np.linalg.norm(a)
    return replace(burn, thrust_n=burn.thrust_n * factor,
                   vector_j2000=tuple(_tilted(u, tilt, a, np.cross(u, a))))


def _tracked_tilt(planned: FiniteBurn, errors: ExecutionErrors, z: np.ndarray,
                  planned_flight: rt.Flight) -> list[FiniteBurn]:
    """A velocity-tracking (prograde) burn with thrust error, accelerometer cut-off and a pointing
    error FIXED IN THE VELOCITY FRAME (tilts towards the binormal and the orbit normal).

    The thrust F is split into a prograde part F cos t, flown with Isp cos t so that it carries the
    whole mass flow F/(Isp g0), and a side part F sin t along the tilt, massless (Isp 1e12 s), as
    ``_SIDE_SEGMENTS`` inertial pieces each along the side direction of the PLANNED trajectory at
    the piece's middle (the side direction turns with the orbit, ~5° per piece for TEI-1)."""
    factor, tilt = _error_sizes(errors, z)
    angle = float(np.hypot(*tilt))
    thrust = planned.thrust_n * factor
    duration = planned.duration_s / factor            # ideal Δv reaches the planned one
    main = replace(planned, thrust_n=thrust * math.cos(angle), isp_s=planned.isp_s * math.cos(angle),
                   duration_s=duration)
    if angle == 0.0:
        return [main]
    step = duration / _SIDE_SEGMENTS
    mids = planned.start_et + step * (np.arange(_SIDE_SEGMENTS) + 0.5)
    ys = planned_flight.legs[0].trajectory.states(np.minimum(mids, planned.end_et))
    side = []
    for k, y in enumerate(ys):
        axes = rt.vnb_axes(y[:3], y[3:6])          # rows V, N, B
        u = (tilt[0] * axes[2] + tilt[1] * axes[1]) / angle
        side.append(FiniteBurn(planned.start_et + k * step, step, thrust * math.sin(angle), _SIDE_ISP_S,
                               "inertial", tuple(u)))
    return [main, *side]


def _mass_dv(flight: rt.Flight, burn: FiniteBurn, isp_s: float) -> float:
    """Δv (m/s) from the mass drop over ``burn`` along ``flight``: Isp g0 ln(m0/m1)."""
    traj = flight.legs[0].trajectory
    m0, m1 = traj.states([burn.start_et, burn.end_et])[:, 6]
    return rt.delta_v_from_masses(m0, m1, isp_s)


@dataclass(frozen=True)
class TeiPlan:
    """Planned TEI-1 and TEI-2 burns, the TEI-2 unknowns, the designed departure aimed at and the
    planned EI geometry."""

    tei1: FiniteBurn
    tei2: FiniteBurn
    tei2_x: np.ndarray
    aim: rt.Departure
    entry: rt.EntryGeometry


def plan_tei(cfg: ReturnConfig, start: SpacecraftState, models: rt.ReturnModels) -> TeiPlan:
    """Nominal TEI-1 duration (periapsis at the planned middle of TEI-2) and TEI-2 burn."""
    tei1_et, tei2_et = (time_scales.utc_to_et(u) for u in (cfg.tei1_utc, cfg.tei2_utc))
    t_mid = tei2_et + 0.5 * cfg.tei2_duration_guess_s
    d1, _ = rt.solve_tei1(start, tei1_et, cfg.tei1_engine, cfg.tei1_duration_guess_s, t_mid, models)
    tei1 = FiniteBurn(tei1_et, d1, cfg.tei1_engine.total_thrust_n, cfg.tei1_engine.isp_s, "prograde")
    s2 = rt.fly(start, tei2_et, models, [tei1]).final_state
    aim = _departure_for(cfg, s2, models, t_mid)
    x2, tei2, geo = _solve_tei2(cfg, s2, models, aim, _tei2_guess(cfg, s2, models, aim))
    return TeiPlan(tei1, tei2, x2, aim, geo)


def _solve_tei2(cfg, s2, models, aim, x0):
    burn, geo, sol = rt.solve_tei2(s2, cfg.tei2_engine, x0, cfg.entry_target(), models, aim=aim)
    return sol.x, burn, geo


def _departure_for(cfg: ReturnConfig, s2: SpacecraftState, models: rt.ReturnModels, t_mid: float):
    """The designed departure from the coast's altitude at ``t_mid`` (s), its plane turned about
    the asymptote onto the coast's orbit plane (so TEI-2 needs no plane change)."""
    coast = rt.fly(s2, t_mid, models).final_state
    alt = np.linalg.norm(coast.r) - _moon_radius()
    args = (cfg.entry_target(), t_mid, alt, models, 0.5 * (cfg.downrange_min_km + cfg.downrange_max_km))
    dep = rt.departure(*args)
    n_hat = np.cross(coast.r, coast.v)
    theta = rt.b_plane_angle_of_plane(dep.asymptote_j2000, n_hat / np.linalg.norm(n_hat))
    return rt.departure(*args, b_plane_angle_deg=theta, x_guess=dep.x)


def _tei2_guess(cfg: ReturnConfig, s2: SpacecraftState, models: rt.ReturnModels, aim: rt.Departure):
    """(duration min, pitch, yaw deg): impulsive Δv at the design periapsis epoch from the coast to
    the designed departure hyperbola, as a fixed-direction finite burn."""
    coast = rt.fly(s2, aim.et, models).final_state
    dv = aim.v_moon_j2000 - coast.v
    eng = cfg.tei2_engine
    minutes = rt.burn_duration(s2.mass, float(np.linalg.norm(dv)), eng.total_thrust_n, eng.isp_s) / 60.0
    return (minutes, *rt.angles_from_direction(rt.vnb_axes(s2.r, s2.v), dv))


def fly_return(config: ReturnConfig, start: SpacecraftState) -> ReturnResult:
    """Plan and fly the return from ``start`` (Moon-centred J2000, before TEI-1) to the EI."""
    config.validate()
    wall = time.perf_counter()
    tei1_et = time_scales.utc_to_et(config.tei1_utc)
    if start.body != "MOON" or start.frame != "J2000" or start.et >= tei1_et:
        raise ScenarioError("must be a Moon-centred J2000 state before TEI-1", field="start",
                            value=f"{start.body}/{start.frame} at {start.utc}")
    models = config.models()
    errs = config.execution_errors
    draws = _error_draws(errs, len(config.mcc_utc))
    start = start.with_mass(config.orbiter_mass_kg + config.returner_mass_kg)
    plan = plan_tei(config, start, models)
    tei1, tei2, geo_plan = plan.tei1, plan.tei2, plan.entry
    target = config.entry_target(geo_plan.et)           # MCCs re-target the planned EI epoch
    events, figures, burns, legs = [], {}, {}, []

    tei1_parts = _tracked_tilt(tei1, errs, draws["tei1"], rt.fly(start, tei1.end_et + 1.0, models, [tei1]))
    f1 = rt.fly(start, tei2.start_et, models, tei1_parts)
    s2 = f1.final_state
    if len(tei1_parts) > 1 or tei1_parts[0] != tei1:    # TEI-2 re-planned from the flown orbit
        _, tei2, _ = _solve_tei2(config, s2, models, plan.aim, plan.tei2_x)
    tei2_x = _dispersed(tei2, errs, draws["tei2"])
    burns.update(tei1=tei1_parts[0], tei2=tei2_x)
    burns.update({f"tei1_pointing{k}": b for k, b in enumerate(tei1_parts[1:], start=1)})
    legs += f1.legs
    state, pending = s2, [tei2_x]
    mcc_dv = []
    for i, utc in enumerate(config.mcc_utc, start=1):
        f = rt.fly(state, time_scales.utc_to_et(utc), models, pending)
        legs += f.legs
        if f.soi_exit is not None:
            _add(events, f.soi_exit.et, "soi_exit", distance_km=np.linalg.norm(f.soi_exit.r) / 1e3)
        state = f.final_state
        burn, dv, _ = rt.solve_mcc(state, config.mcc_engine, target, models, geo_plan.r_j2000)
        burn = _dispersed(burn, errs, draws[f"mcc{i}"]) if burn else None
        pending = [burn] if burn else []
        mcc_dv.append(float(np.linalg.norm(dv)))
        burns[f"mcc{i}"] = burn
        _add(events, state.et, f"mcc{i}", delta_v_m_s=mcc_dv[-1],
             duration_s=burn.duration_s if burn else 0.0)
    sep_det = rt.geodetic_altitude(config.separation_altitude_km * 1e3, "separation")
    f = rt.fly(state, target.et + 86400.0, models, pending, sep_det)
    legs += f.legs
    if f.soi_exit is not None:
        _add(events, f.soi_exit.et, "soi_exit", distance_km=np.linalg.norm(f.soi_exit.r) / 1e3)
    if f.stop is None:
        raise GuidanceFailure("trans_earth", "the stack never descends to the separation altitude")
    sep = f.final_state
    sep_geo = rt.entry_geometry(sep.et, sep.r, sep.v, config.landing_lat_deg, config.landing_lon_deg)
    _add(events, sep.et, "separation", altitude_km=config.separation_altitude_km,
         lat_deg=sep_geo.lat_deg, lon_deg=sep_geo.lon_deg)

    returner = sep.with_mass(config.returner_mass_kg)
    geo, fr = rt.predict_entry(returner, models, [], target)
    legs += fr.legs
    orbiter_legs, divert, perigee_km = _divert(config, sep.with_mass(sep.mass - config.returner_mass_kg),
                                               models, events, draws["divert"])
    burns["divert"] = divert

    _log_tei(events, f1, tei1_parts[0], legs, tei2_x)
    _add(events, geo.et, "entry_interface", altitude_km=geo.altitude_km, fpa_deg=geo.fpa_relative_deg,
         speed_m_s=geo.speed_inertial_m_s)
    events.sort(key=lambda e: e["et"])
    dv1 = _mass_dv(f1, tei1_parts[0], config.tei1_engine.isp_s)
    dv2 = rt.delta_v_from_masses(*_masses(legs, tei2_x), tei2_x.isp_s)
    figures.update({
        "tei1.duration_s": tei1_parts[0].duration_s, "tei2.duration_s": tei2_x.duration_s,
        "tei1.delta_v_m_s": dv1, "tei2.delta_v_m_s": dv2, "tei.delta_v_m_s": dv1 + dv2,
        "return.mcc_delta_v_m_s": float(sum(mcc_dv)),
        **{f"mcc{i}.delta_v_m_s": d for i, d in enumerate(mcc_dv, start=1)},
        "return.transfer_time_h": (geo.et - (tei2_x.start_et + 0.5 * tei2_x.duration_s)) / 3600.0,
        "entry.interface_utc": time_scales.et_to_utc(geo.et),
        "entry.interface_speed_m_s": geo.speed_inertial_m_s,
        "entry.interface_relative_speed_m_s": geo.speed_relative_m_s,
        "entry.interface_fpa_deg": geo.fpa_relative_deg,
        "entry.interface_fpa_inertial_deg": geo.fpa_inertial_deg,
        "entry.interface_lat_deg": geo.lat_deg, "entry.interface_lon_deg": geo.lon_deg,
        "entry.interface_azimuth_deg": geo.azimuth_relative_deg,
        "entry.crossrange_km": geo.crossrange_km, "entry.downrange_km": geo.downrange_km,
        "entry.planned_interface_utc": time_scales.et_to_utc(geo_plan.et),
        "separation.utc": time_scales.et_to_utc(sep.et),
        "separation.lat_deg": sep_geo.lat_deg, "separation.lon_deg": sep_geo.lon_deg,
        "separation.altitude_km": sep_geo.altitude_km,
        "orbiter.divert_duration_s": divert.duration_s,
        "orbiter.perigee_altitude_km": perigee_km,
        "return.final_orbiter_mass_kg": float(orbiter_legs[-1].trajectory.final_state[6]),
        **_orbit_figures(start, models, legs, tei1_parts[0], tei2_x),
        "return.wall_time_s": time.perf_counter() - wall,
    })
    if config.tei2_reference_duration_s is not None:
        figures["tei2.implied_stack_mass_kg"] = rt.mass_for_burn(
            dv2, config.tei2_reference_duration_s, config.tei2_engine.total_thrust_n, config.tei2_engine.isp_s)
    return ReturnResult(geo.et, geo.r_j2000, geo.v_j2000, [leg.trajectory for leg in legs],
                        [leg.trajectory for leg in orbiter_legs], events, figures, geo, burns)


def _orbit_figures(start: SpacecraftState, models: rt.ReturnModels, legs, tei1: FiniteBurn,
                   tei2: FiniteBurn) -> dict:
    """Parking orbit (mean altitude over the mean sphere over one revolution of the unburnt orbit
    from ``start``, inclination to the lunar equator), osculating perilune altitude just after
    TEI-1, and altitude at the middle of TEI-2 (km over the mean sphere)."""
    radius, mu = _moon_radius(), models.moon.central.mu
    period = 2 * math.pi * math.sqrt(np.linalg.norm(start.r) ** 3 / mu)
    _, ys = propagate(start, start.et + period, models.moon, models.tolerances).trajectory.sample(60.0)

    def moon_state(et):
        traj = next(leg.trajectory for leg in legs if leg.trajectory.body == "MOON"
                    and leg.trajectory.start_et <= et <= leg.trajectory.end_et)
        return SpacecraftState.from_vector(et, traj.states([et])[0])

    rp, _ = rt.conic_periapsis(moon_state(tei1.end_et), mu)
    mid = moon_state(tei2.start_et + 0.5 * tei2.duration_s)
    return {"parking_orbit.altitude_km": float(np.mean(np.linalg.norm(ys[:, :3], axis=1)) - radius) / 1e3,
            "parking_orbit.inclination_deg": inclination_deg(start),
            "tei1.perilune_altitude_km": (rp - radius) / 1e3,
            "tei2.altitude_km": float(np.linalg.norm(mid.r) - radius) / 1e3}


def _masses(legs, burn: FiniteBurn):
    for leg in legs:
        t = leg.trajectory
        if t.start_et <= burn.start_et and burn.end_et <= t.end_et:
            return tuple(t.states([burn.start_et, burn.end_et])[:, 6])
    raise ValueError("burn not inside one leg")


def _log_tei(events, f1, tei1, legs, tei2):
    for name, b in (("tei1", tei1), ("tei2", tei2)):
        _add(events, b.start_et, f"{name}_start", thrust_n=b.thrust_n, isp_s=b.isp_s)
        _add(events, b.end_et, f"{name}_end", duration_s=b.duration_s)


def _divert(cfg: ReturnConfig, orbiter: SpacecraftState, models: rt.ReturnModels, events: list,
            z: np.ndarray):
    """Orbiter divert: burn along the local horizontal sized for perigee = minimum + margin, flown
    with the execution errors of draws ``z``."""
    eng = cfg.orbiter_divert_engine
    t0 = orbiter.et + cfg.orbiter_divert_delay_s
    s0 = rt.fly(orbiter, t0, models).final_state
    r_hat = s0.r / np.linalg.norm(s0.r)
    u = s0.v - (s0.v @ r_hat) * r_hat             # local horizontal: all of it raises h = r v_t
    u /= np.linalg.norm(u)
    mu = models.earth.central.mu
    r_goal = 6_378_136.6 + (cfg.orbiter_min_perigee_altitude_km + cfg.orbiter_divert_margin_km) * 1e3

    def burn(d):
        return FiniteBurn(t0, d, eng.total_thrust_n, eng.isp_s, "inertial", tuple(u))

    def miss(d):
        s = rt.fly(s0, t0 + d + 1.0, models, [burn(d)]).final_state
        el = state_to_elements(mu, s.r, s.v)
        return el.a * (1.0 - el.e) - r_goal

    longest = 0.3 * s0.mass * eng.isp_s * G0 / eng.total_thrust_n      # 30 % of the mass at most
    if miss(longest) < 0:
        raise GuidanceFailure("orbiter_divert", f"a {longest:.0f} s burn cannot raise the perigee to "
                              f"{cfg.orbiter_min_perigee_altitude_km} km + margin")
    d = brentq(miss, 0.1, longest, xtol=1e-3)
    b = _dispersed(burn(d), cfg.execution_errors, z)
    dets = [ev.apsides()]
    f = rt.fly(orbiter, t0 + 6 * 3600.0, models, [b], None)
    res = f.legs[-1]
    peri = [e for e in ev.find_events(res.trajectory, dets) if e.name == "periapsis"]
    y = peri[0].state if peri else res.trajectory.final_state
    alt = float(rt.entry_geometry(peri[0].et if peri else res.trajectory.end_et, y[:3], y[3:6],
                                  cfg.landing_lat_deg, cfg.landing_lon_deg).altitude_km)
    m0, m1 = res.trajectory.states([b.start_et, b.end_et])[:, 6]
    _add(events, t0, "orbiter_divert", duration_s=d, delta_v_m_s=rt.delta_v_from_masses(m0, m1, b.isp_s),
         perigee_altitude_km=alt)
    return f.legs, b, alt


# --------------------------------------------------------------------------- example orbit


@dataclass(frozen=True)
class ParkingDesign:
    """A designed parking orbit: circular state at the middle of TEI-1 (Moon-centred J2000), its
    altitude over the mean sphere (km) and inclination to the lunar equator (deg, MOON_ME), the
    TEI-2 periapsis altitude (km) and B-plane angle (deg) of the departure it leads to."""

    circular: SpacecraftState
    altitude_km: float
    inclination_deg: float
    tei2_altitude_km: float
    b_plane_angle_deg: float
    departure: rt.Departure


def inclination_deg(state: SpacecraftState) -> float:
    """Inclination (deg) of the inertial orbit plane of a Moon-centred J2000 state to the lunar
    equator (MOON_ME axes at the state's epoch)."""
    h = frames.rotation("J2000", "MOON_ME", [state.et])[0] @ np.cross(state.r, state.v)
    return math.degrees(math.acos(float(np.clip(h[2] / np.linalg.norm(h), -1.0, 1.0))))


def _parking(cfg: ReturnConfig, models: rt.ReturnModels, tei2_altitude_km: float,
             b_plane_angle_deg: float | None, x_guess=None) -> ParkingDesign:
    """Backwards from the EI: departure hyperbola periapsis at the middle of TEI-2
    (:func:`~guanghan.gnc.return_targeting.departure`); the pre-TEI-2 ellipse of period (TEI-2
    middle − TEI-1 middle) through that point, with the speed making it a periapsis at the
    middle of TEI-1 too; made circular there (impulsive TEI-1)."""
    mu = models.moon.central.mu
    t_p, t_1 = _tei_middles(cfg)
    dep = rt.departure(cfg.entry_target(), t_p, tei2_altitude_km * 1e3, models,
                       0.5 * (cfg.downrange_min_km + cfg.downrange_max_km),
                       b_plane_angle_deg=b_plane_angle_deg, x_guess=x_guess)
    r_p, v_h = dep.r_moon_j2000, dep.v_moon_j2000
    a = (mu * ((t_p - t_1) / (2 * math.pi)) ** 2) ** (1.0 / 3.0)
    mass = cfg.orbiter_mass_kg + cfg.returner_mass_kg

    def at_t1(v_e):
        return rt.backward(models.moon, SpacecraftState(t_p, r_p, v_h / np.linalg.norm(v_h) * v_e, mass), t_1)

    def radial_speed(v_e):            # the perturbed ellipse must be at periapsis at t_1 too
        s = at_t1(v_e)
        return s.r @ s.v / np.linalg.norm(s.r)

    v_kepler = math.sqrt(mu * (2.0 / np.linalg.norm(r_p) - 1.0 / a))
    sol = root_scalar(radial_speed, x0=v_kepler, x1=v_kepler - 1.0, method="secant", xtol=1e-6)
    v_e = sol.root
    if not sol.converged or abs(v_e - v_kepler) > 30.0:       # secant left the basin: bracket it
        grid = v_kepler + np.arange(-30.0, 30.1, 2.0)
        vals = [radial_speed(v) for v in grid]
        pairs = [(a, b) for a, b, fa, fb in zip(grid, grid[1:], vals, vals[1:]) if fa < 0 < fb]
        if not pairs:
            raise GuidanceFailure("trans_earth_design", f"no pre-TEI-2 ellipse through the {tei2_altitude_km:.0f}"
                                  f" km periapsis returns to periapsis at the middle of TEI-1")
        v_e = brentq(radial_speed, *min(pairs, key=lambda ab: abs(ab[0] - v_kepler)), xtol=1e-6)
    s1 = at_t1(v_e)
    r_hat = s1.r / np.linalg.norm(s1.r)
    horiz = s1.v - (s1.v @ r_hat) * r_hat
    circ = SpacecraftState(t_1, s1.r, horiz / np.linalg.norm(horiz) * math.sqrt(mu / np.linalg.norm(s1.r)), mass)
    return ParkingDesign(circ, (np.linalg.norm(s1.r) - _moon_radius()) / 1e3, inclination_deg(circ),
                         tei2_altitude_km, dep.b_plane_angle_deg, dep)


def _moon_radius() -> float:
    return float(spice_kernels.radii("MOON").mean())


def _tei_middles(cfg: ReturnConfig) -> tuple[float, float]:
    """Planned middles (ET s) of TEI-2 and TEI-1, from the epochs and the duration guesses."""
    tei1_et, tei2_et = (time_scales.utc_to_et(u) for u in (cfg.tei1_utc, cfg.tei2_utc))
    return tei2_et + 0.5 * cfg.tei2_duration_guess_s, tei1_et + 0.5 * cfg.tei1_duration_guess_s


class _PlaneScan:
    """Parking designs over the rotation θ of the departure plane about its asymptote, each solved
    from the design at the nearest θ already known (continuation)."""

    def __init__(self, cfg: ReturnConfig, models: rt.ReturnModels):
        self.cfg, self.models = cfg, models
        self.natural = _parking(cfg, models, cfg.tei2_periapsis_altitude_km, None)
        self.known = {(cfg.tei2_periapsis_altitude_km, self.natural.b_plane_angle_deg): self.natural}

    def at(self, theta_deg: float, tei2_altitude_km: float | None = None) -> ParkingDesign:
        h2 = self.cfg.tei2_periapsis_altitude_km if tei2_altitude_km is None else tei2_altitude_km
        near = min(self.known, key=lambda k: abs(math.remainder(k[1] - theta_deg, 360.0)) + abs(k[0] - h2))
        p = _parking(self.cfg, self.models, h2, theta_deg, self.known[near].departure.x)
        self.known[(h2, theta_deg)] = p
        return p

    def ring(self, step_deg: float = 30.0) -> list[ParkingDesign]:
        """Designs at θ natural + k·step, k = 0 … (360/step − 1), then back to the start."""
        t0 = self.natural.b_plane_angle_deg
        return [self.natural] + [self.at(t0 + k * step_deg) for k in range(1, round(360 / step_deg))]

    def root(self, f, lo: ParkingDesign, hi_theta: float, h2: float | None = None) -> ParkingDesign:
        """θ in (lo, hi_theta) where f(design) = 0 (Brent), the designs solved by continuation."""
        theta = brentq(lambda t: f(self.at(t, h2)), lo.b_plane_angle_deg, hi_theta, xtol=1e-3)
        return self.at(theta, h2)


def _brackets(ring: list[ParkingDesign], f) -> list[tuple[ParkingDesign, float]]:
    """Consecutive ring designs (cyclic) between which f changes sign: (design, next θ unwrapped)."""
    out = []
    for a, b in zip(ring, ring[1:] + ring[:1]):
        if f(a) * f(b) <= 0:
            t1 = a.b_plane_angle_deg + (b.b_plane_angle_deg - a.b_plane_angle_deg) % 360.0
            out.append((a, t1))
    return out


def design_parking(cfg: ReturnConfig, *, altitude_km: float = 200.0,
                   inclination_deg: float | None = None) -> ParkingDesign:
    """A circular parking orbit of mean altitude ``altitude_km`` at TEI-1 from which the published
    TEI epochs reach the EI target (see :func:`_parking` for the backward construction).

    Free parameters: the rotation θ of the departure plane about the outgoing asymptote and the
    TEI-2 periapsis altitude. Without ``inclination_deg`` the TEI-2 altitude is held at
    ``cfg.tei2_periapsis_altitude_km`` and θ solved (Brent) for the parking altitude (the root
    nearest the plane the EI geometry gives by itself); with it, θ and the TEI-2 altitude are
    solved together (trust-region least squares, 1 km and 0.01°) from the θ-scan root whose
    altitude is nearest the request. ScenarioError (field ``altitude_km`` or ``inclination_deg``)
    with the reachable range when no θ meets the request.
    """
    if not 20.0 <= altitude_km <= 5000.0:
        raise ScenarioError("must be in [20, 5000] km", field="altitude_km", value=altitude_km)
    if inclination_deg is not None and not 0.0 <= inclination_deg <= 180.0:
        raise ScenarioError("must be in [0, 180] deg", field="inclination_deg", value=inclination_deg)
    scan = _PlaneScan(cfg, cfg.models())
    ring = scan.ring()
    alt = lambda p: p.altitude_km - altitude_km
    if inclination_deg is None:
        found = _brackets(ring, alt)
        if not found:
            raise ScenarioError(
                f"no parking orbit of that altitude leads to TEI-2 at {cfg.tei2_periapsis_altitude_km} km: "
                f"turning the departure plane reaches {min(p.altitude_km for p in ring):.0f}–"
                f"{max(p.altitude_km for p in ring):.0f} km (give inclination_deg to free the TEI-2 altitude)",
                field="altitude_km", value=altitude_km)
        t0 = scan.natural.b_plane_angle_deg
        lo, hi = min(found, key=lambda b: abs(math.remainder(b[0].b_plane_angle_deg + 15.0 - t0, 360.0)))
        return scan.root(alt, lo, hi)
    inc = lambda p: p.inclination_deg - inclination_deg
    found = _brackets(ring, inc)
    if not found:
        incs = [p.inclination_deg for p in ring]
        raise ScenarioError(f"the departure planes through the EI target reach {min(incs):.1f}–"
                            f"{max(incs):.1f} deg", field="inclination_deg", value=inclination_deg)
    lo, hi = min(found, key=lambda b: abs(alt(b[0])))
    p = scan.root(inc, lo, hi)

    def fun(z):
        q = scan.at(z[1], z[0])
        return np.array([alt(q), inc(q) / 0.01])

    sol = least_squares(fun, [p.tei2_altitude_km - alt(p), p.b_plane_angle_deg], x_scale=[10.0, 1.0],
                        diff_step=[1e-4, 1e-4], bounds=([20.0, -np.inf], [5000.0, np.inf]), max_nfev=30)
    best = scan.at(sol.x[1], sol.x[0])
    if abs(alt(best)) > 1.0 or abs(inc(best)) > 0.01:
        raise ScenarioError(f"no TEI-2 periapsis altitude in 20–5000 km gives it at {inclination_deg} deg "
                            f"(closest {best.altitude_km:.1f} km, {best.inclination_deg:.3f} deg)",
                            field="altitude_km", value=altitude_km)
    return best


def design_parking_orbit(cfg: ReturnConfig, lead_s: float = 600.0, *, altitude_km: float = 200.0,
                         inclination_deg: float | None = None) -> SpacecraftState:
    """The designed parking orbit (:func:`design_parking`) as the Moon-centred J2000 state
    ``lead_s`` (s) before TEI-1 (mass orbiter + returner)."""
    design = design_parking(cfg, altitude_km=altitude_km, inclination_deg=inclination_deg)
    return rt.backward(cfg.models().moon, design.circular, time_scales.utc_to_et(cfg.tei1_utc) - lead_s)


def chang_e_5_config(errors: ExecutionErrors = ExecutionErrors(), **changes) -> ReturnConfig:
    """The Chang'e-5 return (published epochs/engines; masses and EI targets are ASSUMPTIONS).

    Orbiter 2394 kg before TEI-1 = dry 1680 + 714 kg propellant left of the 2480 kg budget after
    LOI (scenario file ``chang-e-5.toml``, modules.orbiter); returner 300 kg [CE5-WS]. TEI-1 on the
    3000 N main engine (ASSUMPTION: engine not published); TEI-2 on 4 × 150 N (290 s assumed);
    MCCs on 2 × 25 N; separation ~5,000 km; EI 120 km at 17:33 UTC [CE5-TW]; TEI-2 ~22 min
    [CE5-CRI1213] (only for the implied-mass figure); FPA −6.0° relative and
    a 5,000–7,500 km skip-entry downrange band (ASSUMPTIONS: NOT FOUND in the sources).
    """
    cfg = ReturnConfig(
        tei1_utc="2020-12-12T01:54:00Z", tei1_engine=Engine(3000.0, 315.0, 1), tei1_duration_guess_s=450.0,
        tei2_utc="2020-12-13T01:51:00Z", tei2_engine=Engine(150.0, 290.0, 4), tei2_duration_guess_s=1320.0,
        mcc_utc=("2020-12-14T03:13:00Z", "2020-12-16T01:15:00Z"), mcc_engine=Engine(25.0, 280.0, 2),
        separation_altitude_km=5000.0, orbiter_divert_engine=Engine(3000.0, 315.0, 1),
        orbiter_min_perigee_altitude_km=300.0, entry_utc="2020-12-16T17:33:00Z", entry_fpa_deg=-6.0,
        landing_lat_deg=42.3, landing_lon_deg=111.4, downrange_min_km=5000.0, downrange_max_km=7500.0,
        orbiter_mass_kg=2394.0, returner_mass_kg=300.0, execution_errors=errors,
        tei2_reference_duration_s=1320.0)
    return replace(cfg, **changes)
