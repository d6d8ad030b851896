"""A rotary-percussive coring drill penetrating lunar regolith: depth, torque and rate against time.

At depth z the regolith has the bulk density ρ(z) of Hayne et al. (2017)
(:class:`~guanghan.environment.regolith_thermal.RegolithProperties`), the overburden
σv = g ∫0^z ρ dz' (g = GM/R² from the SPICE kernels), and the cohesion c(z) and friction angle φ(z)
of Carrier et al. (1991) (:class:`RegolithStrength`). Turning the string takes the wall shear
τ = α c + tan δ K0 σv over the engaged length, times the radius, plus the sliding friction of the
bit face under the weight on bit; the motor gives T_lim = min(max torque, power / ω). What is left
cuts: the rate follows Teale's (1965) specific-energy balance e A u = F u + ω T_cut + E f, with e the
strength at the bit (bearing capacity in regolith, compressive strength in rock) over a mechanical
efficiency, capped by the feed mechanism's speed.

Depth and energy are integrated by :func:`scipy.integrate.solve_ivp`, one segment of regolith or rock
at a time, with terminal events at the segment's end, the torque stall (the motor cannot turn the
string: the deterministic depth limit) and the rate stall (the rate falls to ``min_rate_m_s``).
Optional rock clasts are met as a Poisson process along the hole; each is cut at rock specific
energy for at most ``max_rock_time_s``, else drilling ends ("obstacle"). The clasts are the only
randomness, drawn from the :class:`numpy.random.Generator` passed in.

Assumptions and limitations
    * Vertical hole, rigid string; the engaged length is the drilled depth. The core rides up in a
      soft bag (the Chang'e-5 arrangement): no friction inside the string.
    * Wall shear in the pile-shaft α–β form with K0 = 1 − sin φ (Jáky 1944) unless given: no
      cuttings-transport or chip-choking torque, which grows fast in deep holes.
    * Carrier et al.'s values are depth-interval averages, put at the interval middles and held
      constant below 0.45 m, where the table (0–60 cm) ends. ASSUMPTION: no better data.
    * Teale's minimum specific energy is taken as the bearing capacity of a strip as wide as the kerf
      (Terzaghi's equation) in regolith and as the compressive strength in rock (Teale's finding);
      percussive power adds to rotary power in his balance at the same efficiency.
    * The core mass is ∫ ρ(z) π r_core² · recovery dz at regolith density, clasts included.
    * Clast lengths are exponential (ASSUMPTION: simplest one-parameter law); abundance is an input.

References
    Hayne, P. O. et al. (2017), JGR Planets 122, 2371–2400, eq. A2 (ρ(z)) and Table A1.
    Carrier, W. D. III, Olhoeft, G. R. and Mendell, W. (1991), "Physical properties of the lunar
    surface", *Lunar Sourcebook* (Heiken, Vaniman and French, eds.), CUP, ch. 9, Table 9.12.
    Teale, R. (1965), "The concept of specific energy in rock drilling", Int. J. Rock Mech. Min.
    Sci. 2, 57–73: e = F/A + 2πNT/(A u); e_min roughly the crushing strength.
    Dupriest, F. E. and Koederitz, W. L. (2005), SPE/IADC 92194: e ≈ UCS / 0.35 for an efficient bit.
    Pessier, R. C. and Fear, M. J. (1992), SPE 24584: bit torque T = μ W D / 3 (full face).
    Terzaghi, K. (1943), *Theoretical Soil Mechanics*, ch. 8; Vesić, A. S. (1973), J. Soil Mech.
    Found. Div. ASCE 99(SM1), 45–73 (N_γ = 2 (N_q + 1) tan φ).
    Jáky, J. (1944), J. Soc. Hungarian Architects and Engineers 78(22), 355–358 (K0 = 1 − sin φ).
    Potyondy, J. G. (1961), Géotechnique 11(4), 339–353 (steel–sand skin friction and adhesion).
    Goodman, R. E. (1989), *Introduction to Rock Mechanics* (2nd ed.), Table 3.1 (basalt 148 MPa).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pydantic import Field, model_validator
from scipy.integrate import cumulative_trapezoid, solve_ivp

from guanghan.config_model import ConfigModel, fail
from guanghan.environment.regolith_mechanics import (
    RegolithStrength,
    bearing_capacity_factors,
    bulk_density_kg_m3,
    column_mass_kg_m2,
    lunar_surface_gravity_m_s2,
)
from guanghan.environment.regolith_thermal import RegolithProperties
from guanghan.errors import InputError

STOP_REASONS = ("target", "stall", "obstacle", "time")


class Drill(ConfigModel):
    """A lander-mounted rotary-percussive coring drill and its operating rules (SI).

    Defaults and their sources: ``mechanical_efficiency`` 0.35, Dupriest & Koederitz (2005);
    ``bit_friction_coefficient`` 0.3, ASSUMPTION within the 0.2–0.5 of Pessier & Fear (1992);
    ``wall_friction_coefficient`` 0.5 (δ ≈ 27°, about 0.55 φ for φ ≈ 45°) and ``wall_adhesion_factor``
    0.5, smooth steel on sand in Potyondy (1961); ``rock_compressive_strength_pa`` 148 MPa, Goodman
    (1989) Table 3.1; ``clast_mean_length_m`` 3 cm, ``max_rock_time_s`` 600 s and ``min_rate_m_s``
    0.01 mm/s, ASSUMPTIONS (operator's patience; no flight figure found); no clasts by default."""

    string_length_m: float = Field(gt=0.0, le=20.0, description="usable drill string length (m)")
    target_depth_m: float = Field(gt=0.0, le=20.0, description="commanded hole depth (m)")
    bit_diameter_m: float = Field(gt=0.0, le=0.5, description="outer diameter of bit and auger (m)")
    core_inner_diameter_m: float = Field(ge=0.0, le=0.5, description="core (inner) diameter (m)")
    rotation_rate_rpm: float = Field(gt=0.0, le=3000.0, description="string rotation rate (rev/min)")
    max_torque_n_m: float = Field(gt=0.0, le=1e4, description="rotary motor torque limit (N·m)")
    rotary_power_w: float = Field(gt=0.0, le=1e5, description="rotary motor power limit (W)")
    weight_on_bit_n: float = Field(ge=0.0, le=1e5, description="thrust on the bit (N)")
    percussion_energy_j: float = Field(default=0.0, ge=0.0, le=1e3, description="energy per blow (J)")
    blow_rate_hz: float = Field(default=0.0, ge=0.0, le=1e3, description="blow frequency (Hz)")
    max_feed_rate_m_s: float = Field(gt=0.0, le=1.0, description="feed mechanism speed limit (m/s)")
    min_rate_m_s: float = Field(default=1e-5, gt=0.0, le=1.0, description="slower is a stall in regolith (m/s)")
    core_recovery_fraction: float = Field(default=1.0, ge=0.0, le=1.0, description="cored column kept (-)")
    mechanical_efficiency: float = Field(default=0.35, gt=0.0, le=1.0, description="e_min / e (-)")
    bit_friction_coefficient: float = Field(default=0.3, ge=0.0, le=2.0, description="bit-face μ_b (-)")
    wall_friction_coefficient: float = Field(default=0.5, ge=0.0, le=2.0, description="string–wall tan δ (-)")
    wall_adhesion_factor: float = Field(default=0.5, ge=0.0, le=1.0, description="adhesion / cohesion α (-)")
    obstacle_rate_per_m: float = Field(default=0.0, ge=0.0, le=1000.0, description="clasts per metre (1/m)")
    clast_mean_length_m: float = Field(default=0.03, gt=0.0, le=10.0, description="mean clast length (m)")
    rock_compressive_strength_pa: float = Field(default=148e6, gt=0.0, le=1e9, description="clast UCS (Pa)")
    max_rock_time_s: float = Field(default=600.0, gt=0.0, le=1e6, description="cutting time per clast (s)")
    max_duration_s: float = Field(gt=0.0, le=1e6, description="drilling time available (s)")

    @model_validator(mode="after")
    def _check(self):
        if self.target_depth_m > self.string_length_m:
            fail(f"the {self.target_depth_m} m target is deeper than the {self.string_length_m} m drill "
                 "string: shorten the target or lengthen string_length_m", "target_depth_m",
                 self.target_depth_m)
        if self.core_inner_diameter_m >= self.bit_diameter_m:
            fail(f"the core must be narrower than the bit (bit_diameter_m = {self.bit_diameter_m} m)",
                 "core_inner_diameter_m", self.core_inner_diameter_m)
        if self.min_rate_m_s >= self.max_feed_rate_m_s:
            fail(f"must be below max_feed_rate_m_s = {self.max_feed_rate_m_s} m/s", "min_rate_m_s",
                 self.min_rate_m_s)
        return self

    @property
    def omega_rad_s(self) -> float:
        """ω = 2π N / 60 (rad/s)."""
        return 2.0 * math.pi * self.rotation_rate_rpm / 60.0

    @property
    def percussion_power_w(self) -> float:
        """E f (W): blow energy times blow rate."""
        return self.percussion_energy_j * self.blow_rate_hz

    @property
    def torque_limit_n_m(self) -> float:
        """Torque the motor can give at speed: min(max torque, power / ω) (N·m)."""
        return min(self.max_torque_n_m, self.rotary_power_w / self.omega_rad_s)

    @property
    def kerf_area_m2(self) -> float:
        """Cut area of the annular bit face, π (D² − d²) / 4 (m²)."""
        return math.pi / 4.0 * (self.bit_diameter_m ** 2 - self.core_inner_diameter_m ** 2)

    @property
    def bit_friction_torque_n_m(self) -> float:
        """T0 = (2/3) μ_b F (R³ − r³)/(R² − r²) (N·m): sliding friction of an annular face under uniform
        pressure; Pessier & Fear (1992) T = μ W D/3 is its full-face case (r = 0)."""
        r_o, r_i = self.bit_diameter_m / 2.0, self.core_inner_diameter_m / 2.0
        return (2.0 / 3.0 * self.bit_friction_coefficient * self.weight_on_bit_n
                * (r_o ** 3 - r_i ** 3) / (r_o ** 2 - r_i ** 2))


@dataclass(frozen=True)
class Borehole:
    """The drill in a regolith column, tabulated on a depth grid (m); every method takes depth(s) (m)."""

    drill: Drill
    z: np.ndarray
    wall_torque: np.ndarray       # N·m, torque of the wall shear over the engaged string
    soil_energy: np.ndarray       # Pa = J/m³, specific energy needed in regolith, e_min / η
    rock_energy: float            # Pa, specific energy needed in rock
    regolith: RegolithProperties
    consts: tuple[float, ...]     # T_lim − T0 (N·m), T0 (N·m), ω (rad/s), E f (W), A (m²), F (N), feed (m/s)

    @classmethod
    def build(cls, drill: Drill, regolith: RegolithProperties | None = None,
              strength: RegolithStrength | None = None, spacing_m: float = 5e-4) -> Borehole:
        """Tabulate the column down to the target every ``spacing_m`` (m) or finer."""
        regolith, strength = regolith or RegolithProperties(), strength or RegolithStrength()
        g = lunar_surface_gravity_m_s2()
        z = np.linspace(0.0, drill.target_depth_m, max(101, math.ceil(drill.target_depth_m / spacing_m) + 1))
        rho = bulk_density_kg_m3(z, regolith)
        sigma_v = g * column_mass_kg_m2(z, regolith)
        c, phi = strength.at(z)
        d = drill.bit_diameter_m
        # wall shear τ = α c + K0 σv tan δ (pile shaft: Tomlinson's α, Burland's β = K tan δ), on the
        # circumference π D at radius D/2: dT/dz = τ π D²/2
        tau = drill.wall_adhesion_factor * c + drill.wall_friction_coefficient * strength.k0(phi) * sigma_v
        wall = cumulative_trapezoid(tau * math.pi * d * d / 2.0, z, initial=0.0)
        # Terzaghi (1943): q_ult = c N_c + q N_q + ½ γ B N_γ, strip of the kerf width B
        n_c, n_q, n_g = bearing_capacity_factors(phi)
        b = (drill.bit_diameter_m - drill.core_inner_diameter_m) / 2.0
        q_ult = c * n_c + sigma_v * n_q + 0.5 * rho * g * b * n_g
        eff = drill.mechanical_efficiency
        t0 = drill.bit_friction_torque_n_m
        consts = (drill.torque_limit_n_m - t0, t0, drill.omega_rad_s, drill.percussion_power_w, drill.kerf_area_m2,
                  drill.weight_on_bit_n, drill.max_feed_rate_m_s)
        return cls(drill, z, wall, q_ult / eff, drill.rock_compressive_strength_pa / eff, regolith, consts)

    def wall_torque_n_m(self, depth_m):
        """Torque of the wall shear on the engaged string (N·m) at depth(s) (m)."""
        return np.interp(depth_m, self.z, self.wall_torque)

    def specific_energy_pa(self, depth_m, in_rock=False):
        """Specific energy e the bit must spend (J/m³ = Pa) at depth(s) (m), regolith or rock."""
        return np.where(in_rock, self.rock_energy, np.interp(depth_m, self.z, self.soil_energy))

    def state(self, z: float, in_rock: bool = False) -> tuple[float, float, float]:
        """(available torque (N·m), feasible rate (m/s), torque demand (N·m)) at depth z (m).

        Available torque T_lim − T_wall − T0: ≤ 0 means the string cannot turn. Feasible rate: the feed
        limit or Teale's rate at the available torque (≥ 0), whichever is lower, continuous in z."""
        head, t0, omega, perc, area, wob, u = self.consts
        wall = float(np.interp(z, self.z, self.wall_torque))
        avail = head - wall
        e = self.rock_energy if in_rock else float(np.interp(z, self.z, self.soil_energy))
        resist = e * area - wob                                     # e A − F (N)
        if resist > 0.0:
            # Teale (1965) eq. (1) with percussion: e A u = F u + ω T + E f  ⇒  u = (ω T + E f)/(e A − F)
            u = min(u, (omega * max(avail, 0.0) + perc) / resist)
        # Teale solved for the cutting torque at the actual rate: T_cut = ((e A − F) u − E f)/ω ≥ 0
        cut = max(resist * u - perc, 0.0) / omega if avail > 0.0 else 0.0
        return avail, u, wall + t0 + cut

    def rate_m_s(self, depth_m, in_rock=False) -> np.ndarray:
        """Penetration rate (m/s) at depth(s) (m); zero where the string cannot turn."""
        return self._map(depth_m, in_rock, lambda avail, u, _: u if avail > 0.0 else 0.0)

    def torque_n_m(self, depth_m, in_rock=False) -> np.ndarray:
        """Torque demand (N·m) at depth(s) (m): wall + bit friction + cutting torque at the rate."""
        return self._map(depth_m, in_rock, lambda _, __, torque: torque)

    def _map(self, depth_m, in_rock, pick) -> np.ndarray:
        z, rock = (a.ravel() for a in np.broadcast_arrays(np.asarray(depth_m, float), np.asarray(in_rock, bool)))
        out = [pick(*self.state(float(a), bool(b))) for a, b in zip(z, rock, strict=True)]
        return np.array(out).reshape(np.broadcast(np.asarray(depth_m), np.asarray(in_rock)).shape)


@dataclass(frozen=True)
class DrillResult:
    """Time series (s, m, N·m, m/s) and outcome of one hole; ``clasts_m`` holds (top, bottom) (m) of
    each clast the hole met."""

    t_s: np.ndarray
    depth_m: np.ndarray
    torque_n_m: np.ndarray
    rate_m_s: np.ndarray
    final_depth_m: float
    duration_s: float
    stop_reason: str
    stop_detail: str
    core_mass_kg: float
    energy_j: float
    clasts_m: np.ndarray


def draw_clasts(drill: Drill, rng: np.random.Generator) -> np.ndarray:
    """(top, bottom) depths (m) of the rock clasts above the target: tops a Poisson process of rate
    ``obstacle_rate_per_m`` along the regolith, lengths exponential with mean ``clast_mean_length_m``."""
    out, z = [], 0.0
    if drill.obstacle_rate_per_m > 0.0:
        while True:
            z += rng.exponential(1.0 / drill.obstacle_rate_per_m)
            if z >= drill.target_depth_m:
                break
            bottom = min(z + rng.exponential(drill.clast_mean_length_m), drill.target_depth_m)
            out.append((z, bottom))
            z = bottom
    return np.array(out, float).reshape(-1, 2)


def _segments(drill: Drill, clasts: np.ndarray) -> list[tuple[float, float, bool]]:
    """(top, bottom, in_rock) pieces of the hole down to the target."""
    segs, z = [], 0.0
    for top, bottom in clasts:
        if top > z:
            segs.append((z, float(top), False))
        segs.append((float(top), float(bottom), True))
        z = float(bottom)
    if z < drill.target_depth_m:
        segs.append((z, drill.target_depth_m, False))
    return segs


def _event(fun):
    fun.terminal, fun.direction = True, -1.0
    return fun


def _drill_segment(bore: Borehole, seg, t0: float, y0, t_stop: float):
    """Integrate y = (depth (m), energy (J)) through one segment; returns (solution, what ended it)."""
    _, bottom, rock = seg
    dr = bore.drill
    omega, perc = dr.omega_rad_s, dr.percussion_power_w
    ev_end = _event(lambda t, y: bottom - y[0])
    ev_torque = _event(lambda t, y: bore.state(y[0], rock)[0])
    ev_slow = _event(lambda t, y: bore.state(y[0], rock)[1] - dr.min_rate_m_s)
    events = [ev_end, ev_torque] + ([] if rock else [ev_slow])

    def rhs(t, y):
        avail, u, torque = bore.state(y[0], rock)
        return [u if avail > 0.0 else 0.0, omega * torque + perc]

    sol = solve_ivp(rhs, (t0, t_stop), y0, events=events, dense_output=True, rtol=1e-9, atol=1e-12)
    for name, hits in zip(("end", "torque", "slow"), sol.t_events, strict=False):
        if len(hits):
            return sol, name
    return sol, "clock"


def _stop_detail(bore: Borehole, how: str, z: float, t: float, seg) -> tuple[str, str]:
    """(stop_reason, plain-words detail) for a segment that ended by ``how`` at depth z (m), time t (s)."""
    dr = bore.drill
    _, u, torque = bore.state(z, seg[2])
    wall, limit = float(bore.wall_torque_n_m(z)), dr.torque_limit_n_m
    if how == "torque":
        return "stall", (f"torque demand {torque:.2f} N·m (string {wall:.2f}, bit friction "
                         f"{dr.bit_friction_torque_n_m:.2f}) reaches the {limit:.2f} N·m the motor gives at "
                         f"{dr.rotation_rate_rpm:g} rpm, at {z:.3f} m")
    if how == "slow":
        return "stall", (f"penetration rate fell to the {dr.min_rate_m_s * 1e3:.3g} mm/s minimum at {z:.3f} m: "
                         f"torque demand {torque:.2f} N·m at the {limit:.2f} N·m motor limit (string {wall:.2f})")
    if seg[2] and t < dr.max_duration_s:
        return "obstacle", (f"rock clast at {seg[0]:.3f}–{seg[1]:.3f} m: {dr.max_rock_time_s:g} s of cutting at "
                            f"{u * 1e3:.3g} mm/s reached {z:.3f} m, {(seg[1] - z) * 100:.1f} cm short of its bottom")
    return "time", f"max_duration_s = {dr.max_duration_s:g} s used up at {z:.3f} m"


def drill_hole(drill: Drill, rng: np.random.Generator, regolith: RegolithProperties | None = None,
               step_s: float = 1.0, strength: RegolithStrength | None = None) -> DrillResult:
    """Drill one hole to ``drill.target_depth_m``; time series sampled every ``step_s`` (s).

    Stops at the target, at a stall (torque or rate), at a clast not cut through within
    ``max_rock_time_s`` ("obstacle"), or when ``max_duration_s`` runs out ("time"). Clasts are drawn
    from ``rng`` only; ``regolith`` (default Hayne Table A1) and ``strength`` (default Carrier et al.)
    describe the column."""
    if not 1e-3 <= step_s <= 3600.0:
        raise InputError("must lie in [0.001, 3600] s", quantity="step_s", value=step_s)
    if drill.max_duration_s / step_s > 2e5:
        raise InputError(f"gives more than 2e5 samples over max_duration_s = {drill.max_duration_s} s: "
                         "use a larger step", quantity="step_s", value=step_s)
    bore = Borehole.build(drill, regolith, strength)
    clasts = draw_clasts(drill, rng)
    pieces, t, y = [], 0.0, [0.0, 0.0]
    for seg in _segments(drill, clasts):
        avail, u, _ = bore.state(y[0], seg[2])
        if avail <= 0.0 or (not seg[2] and u <= drill.min_rate_m_s):       # cannot even start
            reason, detail = _stop_detail(bore, "torque" if avail <= 0.0 else "slow", y[0], t, seg)
            break
        t_stop = min(drill.max_duration_s, t + drill.max_rock_time_s) if seg[2] else drill.max_duration_s
        if t_stop <= t:
            reason, detail = _stop_detail(bore, "clock", y[0], t, seg)
            break
        sol, how = _drill_segment(bore, seg, t, y, t_stop)
        pieces.append((t, float(sol.t[-1]), sol.sol, *seg))
        t, y = float(sol.t[-1]), [float(v) for v in sol.y[:, -1]]
        if how != "end":
            reason, detail = _stop_detail(bore, how, y[0], t, seg)
            break
        y[0] = seg[1]
    else:
        reason, detail = "target", f"reached the {drill.target_depth_m:g} m target in {t:.0f} s"
    return _result(bore, pieces, t, y, reason, detail, clasts, step_s)


def _result(bore: Borehole, pieces, t_end, y_end, reason, detail, clasts, step_s) -> DrillResult:
    """Sample the segments' dense outputs every ``step_s`` (s) and wrap the outcome."""
    dr = bore.drill
    ts = np.append(np.arange(0.0, t_end, step_s), t_end) if t_end > 0.0 else np.zeros(1)
    depth = np.zeros_like(ts)
    rock = np.zeros(ts.shape, bool)
    for start, end, dense, top, bottom, in_rock in pieces:
        mask = (ts >= start) & (ts <= end)
        if not mask.any():
            continue
        depth[mask] = np.clip(dense(ts[mask])[0], top, bottom)
        rock[mask] = in_rock
    depth[-1] = y_end[0]
    rate = bore.rate_m_s(depth, rock)
    torque = bore.torque_n_m(depth, rock)
    if reason != "target":                    # the final sample is the stopped state
        rate[-1] = 0.0
    zf = float(y_end[0])
    core = float(math.pi / 4.0 * dr.core_inner_diameter_m ** 2 * dr.core_recovery_fraction
                 * column_mass_kg_m2(zf, bore.regolith))
    return DrillResult(ts, depth, torque, rate, zf, float(t_end), reason, detail, core, float(y_end[1]),
                       clasts)
