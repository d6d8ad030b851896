"""Trans-Earth phase: TEI-1, TEI-2, coast, midcourse corrections, separation, orbiter divert, EI.

:func:`fly_return` plans and flies the return of the orbiter-returner stack from a lunar parking
orbit to the 120 km entry interface (EI), on the full force model of
:mod:`guanghan.gnc.return_targeting` (Moon-centred inside the lunar SOI, Earth-centred outside):

1. plan: TEI-1 (prograde, published epoch) is solved for the duration putting the next periapsis
   at the middle of TEI-2; TEI-2 (published epoch) for duration and fixed J2000 direction hitting
   the EI targets (FPA, crossrange 0, epoch, downrange band);
2. fly: TEI-1 (accelerometer cut-off) and TEI-2 (timer cut-off, seeded thrust and pointing
   errors) are executed; each midcourse correction (MCC) re-targets
   FPA, crossrange and the planned EI epoch; at the separation altitude the returner flies on to
   the EI and the orbiter diverts (burn along the local horizontal) to a safe perigee.

Figures (``<group>.<quantity>_<unit>``): ``tei.delta_v_m_s`` (both TEI burns, Isp g0 ln(m0/m1)),
``tei1/tei2.duration_s``, ``return.mcc_delta_v_m_s`` and per MCC, ``entry.interface_utc``,
``entry.interface_speed_m_s`` (inertial), ``entry.interface_fpa_deg`` (EARTH-RELATIVE, geocentric
horizontal, as the entry phase uses), ``entry.interface_fpa_inertial_deg``, lat/lon (geodetic),
azimuth (of the Earth-relative velocity), crossrange/downrange to the site,
``orbiter.perigee_altitude_km`` and others.

Assumptions and limitations
    * The post-docking orbit is an input (not public for Chang'e-5): :func:`design_parking_orbit`
      builds one from which the published epochs work (used by :func:`chang_e_5_example`).
    * TEI-1 is a prograde (velocity-tracking) burn cut off by accelerometer (its thrust error is
      absorbed by the duration: a 0.3 % Δv error would shift the next periapsis by ~30 min, which
      TEI-2 at its fixed epoch could not absorb). TEI-2 is a fixed-attitude (inertial) burn cut off
      by timer, dispersed in thrust and pointing. MCCs are executed perfectly (the TEI-2 errors are
      what they correct), so the last MCC is ~0 unless the earlier one's targeting left a miss.
    * Masses: the stack is orbiter + returner; the returner's mass is constant; all burns are
      the orbiter's. No SRP, no attitude-control disturbances, perfect navigation.

References
    See :mod:`guanghan.gnc.return_targeting`; published epochs in the project's validation notes
    (Chang'e-5 §1f).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import brentq, root_scalar

from guanghan.dynamics import events as ev
from guanghan.dynamics.forces import G0, FiniteBurn
from guanghan.dynamics.kepler import state_to_elements
from guanghan.dynamics.state import SpacecraftState
from guanghan.dynamics.trajectory import Trajectory
from guanghan.environment import time_scales
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
        if self.orbiter_min_perigee_altitude_km <= self.entry_altitude_km:
            raise ScenarioError("must be above the entry interface", field="orbiter_min_perigee_altitude_km",
                                value=self.orbiter_min_perigee_altitude_km)

    def entry_target(self, et: float | None = None) -> rt.EntryTarget:
        return rt.EntryTarget(self.entry_altitude_km * 1e3, self.entry_fpa_deg,
                              time_scales.utc_to_et(self.entry_utc) if et is None else et,
                              self.landing_lat_deg, self.landing_lon_deg, self.downrange_min_km,
                              self.downrange_max_km, self.fpa_reference, self.epoch_weight_s)

    def models(self) -> rt.ReturnModels:
        return rt.build_models(self.lunar_degree, self.earth_degree, self.soi_radius_km)


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


def _dispersed(burn: FiniteBurn, errors: ExecutionErrors, rng: np.random.Generator) -> FiniteBurn:
    """``burn`` with a thrust-magnitude error and, if inertial, a pointing error (random axis)."""
    thrust = burn.thrust_n * (1.0 + rng.normal(0.0, errors.thrust_sigma_pct / 100.0))
    u = np.asarray(burn.vector_j2000, float)
    tilt = rng.normal(0.0, math.radians(errors.pointing_sigma_deg), 2)
    if burn.direction == "inertial" and np.any(tilt != 0):
        a = np.cross(u, [0.0, 0.0, 1.0])
        a /= np.linalg.norm(a)
        b = np.cross(u, a)
        u = u + tilt[0] * a + tilt[1] * b
        u /= np.linalg.norm(u)
    return replace(burn, thrust_n=thrust, vector_j2000=tuple(u))


def _accelerometer_cutoff(burn: FiniteBurn, planned: FiniteBurn) -> FiniteBurn:
    """A burn cut off when its ideal Δv reaches the planned one (duration × planned/actual thrust)."""
    return replace(burn, duration_s=planned.duration_s * planned.thrust_n / burn.thrust_n)


def _mass_dv(flight: rt.Flight, burn: FiniteBurn) -> float:
    """Δv (m/s) from the mass drop over ``burn`` along ``flight``: Isp g0 ln(m0/m1)."""
    traj = flight.legs[0].trajectory
    m0, m1 = traj.states([burn.start_et, burn.end_et])[:, 6]
    return rt.delta_v_from_masses(m0, m1, burn.isp_s)


def plan_tei(cfg: ReturnConfig, start: SpacecraftState, models: rt.ReturnModels):
    """Nominal TEI-1 duration and TEI-2 burn; returns (tei1 burn, tei2 burn, EI geometry)."""
    tei1_et, tei2_et = (time_scales.utc_to_et(u) for u in (cfg.tei1_utc, cfg.tei2_utc))
    t_mid = tei2_et + 0.5 * cfg.tei2_duration_guess_s
    d1, _ = rt.solve_tei1(start, tei1_et, cfg.tei1_engine, cfg.tei1_duration_guess_s, t_mid, models)
    tei1 = FiniteBurn(tei1_et, d1, cfg.tei1_engine.total_thrust_n, cfg.tei1_engine.isp_s, "prograde")
    s2 = rt.fly(start, tei2_et, models, [tei1]).final_state
    tei2, geo = _plan_tei2(cfg, s2, models, None, t_mid)
    return tei1, tei2, geo


def _plan_tei2(cfg, s2, models, x0, t_mid):
    rough = x0 is None
    if rough:
        x0 = _tei2_guess(cfg, s2, models, t_mid)
    burn, geo, _ = rt.solve_tei2(s2, cfg.tei2_engine, x0, cfg.entry_target(), models, coarse_grid=rough)
    return burn, geo


def _tei2_guess(cfg, s2, models, t_mid):
    """(duration min, pitch, yaw deg): impulsive Δv at ``t_mid`` from the coast to the departure
    hyperbola of :func:`~guanghan.gnc.return_targeting.design_departure` through the coast's
    periapsis point, as a fixed-direction finite burn."""
    coast = rt.fly(s2, t_mid, models).final_state
    _, v_h, _ = rt.design_departure(cfg.entry_target(), t_mid, cfg.tei2_periapsis_altitude_km * 1e3, models,
                                    0.5 * (cfg.downrange_min_km + cfg.downrange_max_km))
    dv = v_h - coast.v
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
    rng = np.random.default_rng(config.execution_errors.seed)
    errs = config.execution_errors
    start = start.with_mass(config.orbiter_mass_kg + config.returner_mass_kg)
    tei1, tei2, geo_plan = plan_tei(config, start, models)
    target = config.entry_target(geo_plan.et)           # MCCs re-target the planned EI epoch
    events, figures, burns, legs = [], {}, {}, []

    tei1_x = _accelerometer_cutoff(_dispersed(tei1, errs, rng), tei1)
    f1 = rt.fly(start, tei2.start_et, models, [tei1_x])
    s2 = f1.final_state
    tei2_x = _dispersed(tei2, errs, rng)
    burns.update(tei1=tei1_x, tei2=tei2_x)
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
    _add(events, sep.et, "separation", altitude_km=config.separation_altitude_km)

    returner = sep.with_mass(config.returner_mass_kg)
    geo, fr = rt.predict_entry(returner, models, [], target)
    legs += fr.legs
    orbiter_legs, divert, perigee_km = _divert(config, sep.with_mass(sep.mass - config.returner_mass_kg),
                                               models, events)
    burns["divert"] = divert

    _log_tei(events, f1, tei1_x, legs, tei2_x)
    _add(events, geo.et, "entry_interface", altitude_km=geo.altitude_km, fpa_deg=geo.fpa_relative_deg,
         speed_m_s=geo.speed_inertial_m_s)
    events.sort(key=lambda e: e["et"])
    dv1 = _mass_dv(f1, tei1_x)
    dv2 = rt.delta_v_from_masses(*_masses(legs, tei2_x), tei2_x.isp_s)
    figures.update({
        "tei1.duration_s": tei1_x.duration_s, "tei2.duration_s": tei2_x.duration_s,
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
        "orbiter.divert_duration_s": divert.duration_s,
        "orbiter.perigee_altitude_km": perigee_km,
        "return.final_orbiter_mass_kg": float(orbiter_legs[-1].trajectory.final_state[6]),
        "return.wall_time_s": time.perf_counter() - wall,
    })
    return ReturnResult(geo.et, geo.r_j2000, geo.v_j2000, [leg.trajectory for leg in legs],
                        [leg.trajectory for leg in orbiter_legs], events, figures, geo, burns)


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


def _divert(cfg: ReturnConfig, orbiter: SpacecraftState, models: rt.ReturnModels, events: list):
    """Orbiter divert: burn along the local horizontal sized for perigee = minimum + margin."""
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
    b = burn(d)
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


def design_parking_orbit(cfg: ReturnConfig, lead_s: float = 600.0) -> SpacecraftState:
    """A circular parking orbit from which the published TEI epochs reach the EI target.

    Backwards: departure hyperbola periapsis at the middle of TEI-2 (``design_departure``); the
    pre-TEI-2 ellipse of period (TEI-2 middle − TEI-1 middle) through that point; integrated back
    to the middle of TEI-1 and made circular there (impulsive TEI-1); integrated back ``lead_s``
    before TEI-1. Returns the Moon-centred J2000 state (mass orbiter + returner).
    """
    models = cfg.models()
    mu = models.moon.central.mu
    tei1_et, tei2_et = (time_scales.utc_to_et(u) for u in (cfg.tei1_utc, cfg.tei2_utc))
    t_p = tei2_et + 0.5 * cfg.tei2_duration_guess_s
    t_1 = tei1_et + 0.5 * cfg.tei1_duration_guess_s
    target = cfg.entry_target()
    r_p, v_h, _ = rt.design_departure(target, t_p, cfg.tei2_periapsis_altitude_km * 1e3, models,
                                      0.5 * (cfg.downrange_min_km + cfg.downrange_max_km))
    a = (mu * ((t_p - t_1) / (2 * math.pi)) ** 2) ** (1.0 / 3.0)
    mass = cfg.orbiter_mass_kg + cfg.returner_mass_kg

    def at_t1(v_e):
        return rt.backward(models.moon, SpacecraftState(t_p, r_p, v_h / np.linalg.norm(v_h) * v_e, mass), t_1)

    def radial_speed(v_e):            # the perturbed ellipse must be at periapsis at t_1 too
        s = at_t1(v_e)
        return s.r @ s.v / np.linalg.norm(s.r)

    v_kepler = math.sqrt(mu * (2.0 / np.linalg.norm(r_p) - 1.0 / a))
    v_e = root_scalar(radial_speed, x0=v_kepler, x1=v_kepler - 1.0, method="secant", xtol=1e-6).root
    s1 = at_t1(v_e)
    r_hat = s1.r / np.linalg.norm(s1.r)
    horiz = s1.v - (s1.v @ r_hat) * r_hat
    circ = SpacecraftState(t_1, s1.r, horiz / np.linalg.norm(horiz) * math.sqrt(mu / np.linalg.norm(s1.r)), mass)
    return rt.backward(models.moon, circ, tei1_et - lead_s)


def chang_e_5_config(errors: ExecutionErrors = ExecutionErrors(), **changes) -> ReturnConfig:
    """The Chang'e-5 return (published epochs/engines; masses and EI targets are ASSUMPTIONS).

    Orbiter 2394 kg before TEI-1 = dry 1680 + 714 kg propellant left of the 2480 kg budget after
    LOI (scenario file ``chang-e-5.toml``, modules.orbiter); returner 300 kg [CE5-WS]. TEI-1 on the
    3000 N main engine (ASSUMPTION: engine not published); TEI-2 on 4 × 150 N (290 s assumed);
    MCCs on 2 × 25 N; separation ~5,000 km; EI 120 km at 17:33 UTC [CE5-TW]; FPA −6.0° relative and
    a 5,000–7,500 km skip-entry downrange band (ASSUMPTIONS: NOT FOUND in the sources).
    """
    cfg = ReturnConfig(
        tei1_utc="2020-12-12T01:54:00Z", tei1_engine=Engine(3000.0, 315.0, 1), tei1_duration_guess_s=450.0,
        tei2_utc="2020-12-13T01:51:00Z", tei2_engine=Engine(150.0, 290.0, 4), tei2_duration_guess_s=1320.0,
        mcc_utc=("2020-12-14T03:13:00Z", "2020-12-16T01:15:00Z"), mcc_engine=Engine(25.0, 280.0, 2),
        separation_altitude_km=5000.0, orbiter_divert_engine=Engine(3000.0, 315.0, 1),
        orbiter_min_perigee_altitude_km=300.0, entry_utc="2020-12-16T17:33:00Z", entry_fpa_deg=-6.0,
        landing_lat_deg=42.3, landing_lon_deg=111.4, downrange_min_km=5000.0, downrange_max_km=7500.0,
        orbiter_mass_kg=2394.0, returner_mass_kg=300.0, execution_errors=errors)
    return replace(cfg, **changes)
