"""Composable force models for a spacecraft about a central body, compiled into one numba kernel.

A :class:`ForceModel` is assembled from parts — central-body gravity (point mass or spherical
harmonics of any degree/order), third bodies, solar radiation pressure with conical Moon/Earth
shadow, and finite burns — and ``compile(et0, et1)`` turns it into a :class:`ForceData` tuple of
plain arrays that the integrator passes to :func:`rhs`. Everything time-dependent that SPICE knows
(body-fixed orientation, third-body positions) is tabulated as Chebyshev series over the span first,
so no SPICE call happens inside the integration loop.

State vector ``y`` = [x, y, z, vx, vy, vz, m]: position (m) and velocity (m/s) of the spacecraft
relative to the central body in J2000 axes, and mass (kg). Time inside the kernel is ``tau``, seconds
since ``ForceData.et_ref`` (an ET), which keeps stage times exact to the nanosecond.

Assumptions and limitations
    * Third bodies are point masses; their acceleration includes the indirect term (the central
      body's own acceleration towards them), Battin's form.
    * SRP is a cannonball model (area, Cr) with the conical shadow of the central body and of the
      other bodies listed as occulters; the Sun's radiation pressure at 1 au is 1361 W/m² / c.
    * Burns have constant thrust and Isp (mass flow ṁ = F / (Isp g0)); their direction is fixed in
      J2000 or along ±velocity. Burn start/end are discontinuities: the propagator stops the
      integrator at them.

References
    Montenbruck, O. and Gill, E., *Satellite Orbits* (2000): §3.2 (gravity field), eq. 3.37 (third
    body with indirect term), §3.4 eq. 3.75 and §3.4.2 (SRP and the conical shadow model);
    Battin, R. H., *An Introduction to the Mathematics and Methods of Astrodynamics* (1999), §8.4;
    Kopp, G. and Lean, J. L. (2011), "A new, lower value of total solar irradiance", GRL 38 (1361 W/m²).
"""

from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from guanghan.environment import frames, spice_kernels
from guanghan.dynamics.eclipse import shadow_fraction
from guanghan.environment.constants import AU, SOLAR_IRRADIANCE_1AU, SPEED_OF_LIGHT
from guanghan.environment.constants import STANDARD_GRAVITY as G0
from guanghan.environment.chebyshev import DEFAULT_SEGMENT_S, ChebyshevTable, cheb_eval
from guanghan.environment.gravity_field import GravityField
from guanghan.environment.gravity_kernels import sh_acceleration

SOLAR_PRESSURE_1AU = SOLAR_IRRADIANCE_1AU / SPEED_OF_LIGHT   # N/m² (Kopp & Lean 2011 TSI / c)

BURN_INERTIAL, BURN_PROGRADE, BURN_RETROGRADE, BURN_RETROGRADE_PITCH = 0, 1, 2, 3
_BURN_MODES = {"inertial": BURN_INERTIAL, "prograde": BURN_PROGRADE, "retrograde": BURN_RETROGRADE,
               "retrograde_pitch": BURN_RETROGRADE_PITCH}


@dataclass(frozen=True)
class CentralGravity:
    """Gravity of the central body: a spherical-harmonic field, or a point mass if ``field`` is None."""

    body: str
    mu: float
    field: GravityField | None = None


@dataclass(frozen=True)
class ThirdBody:
    """A point-mass third body (SPICE name) with its GM (m³/s²)."""

    body: str
    mu: float


@dataclass(frozen=True)
class SolarRadiationPressure:
    """Cannonball SRP: area (m²), reflectivity coefficient Cr, occulting bodies (SPICE names)."""

    area_m2: float
    cr: float = 1.3
    occulters: tuple[str, ...] = ("MOON", "EARTH")


@dataclass(frozen=True)
class FiniteBurn:
    """A constant-thrust burn: start (ET s), duration (s), thrust (N), Isp (s), direction.

    ``direction`` "prograde"/"retrograde" track ±v; "inertial" holds ``vector_j2000``;
    "retrograde_pitch" turns the thrust from −v̂ by the pitch θ(t) = ``pitch_rad`` +
    ``pitch_rate_rad_s`` (t − t_mid) (t_mid the burn's middle) toward the local up, in the plane of r
    and v: u = cos θ (−v̂) + sin θ ê⊥, ê⊥ the unit component of r normal to v (a linear-tangent-like
    programme in its small-angle, linear form; positive θ points up)."""

    start_et: float
    duration_s: float
    thrust_n: float
    isp_s: float
    direction: str = "prograde"          # "prograde", "retrograde", "inertial" or "retrograde_pitch"
    vector_j2000: tuple[float, float, float] = (1.0, 0.0, 0.0)
    pitch_rad: float = 0.0
    pitch_rate_rad_s: float = 0.0

    def __post_init__(self):
        if self.thrust_n <= 0 or self.isp_s <= 0 or self.duration_s <= 0:
            raise ValueError(f"burn thrust_n={self.thrust_n}, isp_s={self.isp_s}, "
                             f"duration_s={self.duration_s}: all must be > 0")
        if self.direction not in _BURN_MODES:
            raise ValueError(f"burn direction {self.direction!r}: use one of {sorted(_BURN_MODES)}")

    @property
    def end_et(self) -> float:
        return self.start_et + self.duration_s


ForceData = namedtuple("ForceData", [
    "et_ref",        # ET (s) of tau = 0
    "mu",            # central body GM (m³/s²)
    "use_sh",        # bool: spherical harmonics (needs the body-fixed rotation)
    "sh",            # SHData of the central field
    "cheb_t0", "cheb_seg", "cheb_coeffs",   # Chebyshev table (ET s); comps 0..8 dcm_bf_j2000
    "tb_mu",         # (nb,) third-body GMs
    "tb_comp",       # (nb,) first table component of each third body's position
    "srp_coeff",     # P0·Cr·A (N at 1 au); 0 disables SRP
    "sun_comp",      # table component of the Sun's position, -1 if none
    "central_radius",  # m, occulting radius of the central body
    "occ_comp", "occ_radius",  # (no,) table components / radii (m) of other occulters
    "burns",         # (nburn, 8): t0_tau, t1_tau, thrust, mdot, mode, ux, uy, uz
    "buf", "r_bf", "a_bf",  # workspaces
    "origin",        # (3,) zeros: the central body's position (occulter at the origin)
])


@dataclass
class ForceModel:
    """A composable force model about one central body (J2000 axes)."""

    central: CentralGravity
    third_bodies: list[ThirdBody] = field(default_factory=list)
    srp: SolarRadiationPressure | None = None
    burns: list[FiniteBurn] = field(default_factory=list)
    _compiled: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def body(self) -> str:
        return self.central.body

    def describe(self) -> str:
        g = self.central.field
        parts = [f"{self.body} " + (f"{g.name} {g.degree}×{g.order}" if g else "point mass")]
        parts += [f"{tb.body} third body" for tb in self.third_bodies]
        if self.srp:
            parts.append(f"SRP (A={self.srp.area_m2} m², Cr={self.srp.cr})")
        if self.burns:
            parts.append(f"{len(self.burns)} finite burn(s)")
        return ", ".join(parts)

    def tabulated_bodies(self) -> list[str]:
        """Bodies whose positions the table holds: third bodies, then the Sun and occulters."""
        names = [tb.body for tb in self.third_bodies]
        if self.srp is not None:
            for extra in ("SUN", *self.srp.occulters):
                if extra != self.body and extra not in names:
                    names.append(extra)
        return names

    def compile(self, et0: float, et1: float, et_ref: float | None = None) -> ForceData:
        """Tabulate the environment over [et0, et1] (ET s) and pack the kernel's inputs.

        The last few results are kept, keyed by the span and the model's parts, so repeated
        propagations over one span (targeting loops, benchmarks) tabulate once. A ForceData holds
        workspaces: share it between sequential calls only, never between threads."""
        et_ref = et0 if et_ref is None else et_ref
        # the key holds the parts themselves (GravityField hashes by identity), so no freed object's
        # id can ever alias a live one
        key = (float(et0), float(et1), float(et_ref), self.central, tuple(self.third_bodies), self.srp,
               tuple(self.burns))
        if key not in self._compiled:
            if len(self._compiled) >= 4:
                self._compiled.pop(next(iter(self._compiled)))
            self._compiled[key] = self._compile(et0, et1, et_ref)
        return self._compiled[key]

    def _compile(self, et0: float, et1: float, et_ref: float) -> ForceData:
        bodies = self.tabulated_bodies()
        fit_frame = self.central.field.frame if self.central.field is not None else None
        table = build_environment_table(self.body, fit_frame, bodies, et0, et1)
        comp = {b: 9 + 3 * i for i, b in enumerate(bodies)}
        g = self.central.field
        sh = g.kernel_data() if g is not None else _point_mass_field(self.central).kernel_data()
        srp = self.srp
        occ = [b for b in (srp.occulters if srp else ()) if b != self.body]
        burns = np.zeros((len(self.burns), 8))
        for i, b in enumerate(self.burns):
            u = np.asarray(b.vector_j2000, float)
            u = u / np.linalg.norm(u)
            if b.direction == "retrograde_pitch":
                u = (b.pitch_rad, b.pitch_rate_rad_s, 0.5 * (b.start_et + b.end_et) - et_ref)
            burns[i] = (b.start_et - et_ref, b.end_et - et_ref, b.thrust_n, b.thrust_n / (b.isp_s * G0),
                        _BURN_MODES[b.direction], *u)
        return ForceData(
            float(et_ref), float(self.central.mu), g is not None, sh,
            table.t0, table.seg_len, table.coeffs,
            np.array([tb.mu for tb in self.third_bodies], float),
            np.array([comp[tb.body] for tb in self.third_bodies], np.int64),
            SOLAR_PRESSURE_1AU * srp.cr * srp.area_m2 if srp else 0.0,
            comp.get("SUN", -1),
            float(spice_kernels.radii(self.body).mean()),
            np.array([comp[b] for b in occ], np.int64),
            np.array([spice_kernels.radii(b).mean() for b in occ], float),
            burns, np.zeros(table.ncomp), np.zeros(3), np.zeros(3), np.zeros(3),
        )


def _point_mass_field(central: CentralGravity) -> GravityField:
    radius = float(spice_kernels.radii(central.body).mean())
    zeros = np.zeros((1, 1))
    return GravityField(name="point mass", body=central.body, mu=central.mu, radius=radius, degree=0,
                        order=0, c=np.ones((1, 1)), s=zeros, frame="J2000", source="GM only")


#: fitted one-day segments by (centre, body frame, bodies), then by the segment's index from J2000
_SEGMENTS: dict[tuple, dict[int, np.ndarray]] = {}
_MAX_CACHED_SEGMENTS = 50_000           # ~0.1 GB at the largest component count; then start afresh


def build_environment_table(center: str, body_frame: str | None, bodies: list[str], et0: float,
                            et1: float) -> ChebyshevTable:
    """Chebyshev table: components 0–8 the rotation J2000→``body_frame`` (row-major; identity if
    None), then the J2000 position (m) of each body relative to ``center``.

    Segments are aligned on whole days from J2000 and cover [et0, et1] with one more each side;
    each is fitted once per process and reused by every later table that covers it, so a
    targeting loop's many propagations over nearby spans tabulate nothing new and every table
    holds the same coefficients for the same day."""

    def sample(ets):
        out = np.empty((ets.size, 9 + 3 * len(bodies)))
        if body_frame is None:
            out[:, :9] = np.eye(3).ravel()
        else:
            out[:, :9] = frames.rotation("J2000", body_frame, ets).reshape(-1, 9)
        for i, b in enumerate(bodies):
            out[:, 9 + 3 * i: 12 + 3 * i] = spice_kernels.body_positions(b, center, "J2000", ets)
        return out

    seg = DEFAULT_SEGMENT_S
    k0 = math.floor(min(et0, et1) / seg) - 1
    k1 = math.floor(max(et0, et1) / seg) + 2                 # segments k0 .. k1 - 1
    if sum(len(c) for c in _SEGMENTS.values()) > _MAX_CACHED_SEGMENTS:
        _SEGMENTS.clear()
    cache = _SEGMENTS.setdefault((center, body_frame, tuple(bodies)), {})
    k = k0
    while k < k1:                                            # fit each run of missing segments
        if k in cache:
            k += 1
            continue
        end = k
        while end < k1 and end not in cache:
            end += 1
        fit = ChebyshevTable.fit(sample, k * seg, (end - 0.5) * seg, pad=False)
        for j in range(end - k):
            cache[k + j] = fit.coeffs[j]
        k = end
    return ChebyshevTable(float(k0 * seg), float(seg),
                          np.ascontiguousarray(np.stack([cache[j] for j in range(k0, k1)])))


# --------------------------------------------------------------------------- kernels


@njit(cache=True)
def _rotate(m, first, v, out):
    for i in range(3):
        out[i] = m[first + 3 * i] * v[0] + m[first + 3 * i + 1] * v[1] + m[first + 3 * i + 2] * v[2]


@njit(cache=True)
def _rotate_t(m, first, v, out):
    for i in range(3):
        out[i] = m[first + i] * v[0] + m[first + 3 + i] * v[1] + m[first + 6 + i] * v[2]


@njit(cache=True)
def rhs(tau, y, fd, dy):
    """dy/dtau for y = [r (m), v (m/s), m (kg)] relative to the central body, J2000 axes."""
    t = fd.et_ref + tau
    buf = fd.buf
    cheb_eval(t, fd.cheb_t0, fd.cheb_seg, fd.cheb_coeffs, buf, 0)
    dy[0] = y[3]
    dy[1] = y[4]
    dy[2] = y[5]
    r_bf, a_bf = fd.r_bf, fd.a_bf
    if fd.use_sh:
        _rotate(buf, 0, y, r_bf)
        sh_acceleration(r_bf, fd.sh, a_bf)
        _rotate_t(buf, 0, a_bf, r_bf)                         # back to J2000 (reuse r_bf)
        ax, ay, az = r_bf[0], r_bf[1], r_bf[2]
    else:
        rn = math.sqrt(y[0] * y[0] + y[1] * y[1] + y[2] * y[2])
        k = -fd.mu / (rn * rn * rn)
        ax, ay, az = k * y[0], k * y[1], k * y[2]
    for i in range(fd.tb_mu.shape[0]):                        # M&G eq. 3.37
        c = fd.tb_comp[i]
        sx, sy, sz = buf[c], buf[c + 1], buf[c + 2]
        dx, dy_, dz = sx - y[0], sy - y[1], sz - y[2]
        nd = math.sqrt(dx * dx + dy_ * dy_ + dz * dz)
        ns = math.sqrt(sx * sx + sy * sy + sz * sz)
        kd = fd.tb_mu[i] / (nd * nd * nd)
        ks = fd.tb_mu[i] / (ns * ns * ns)
        ax += kd * dx - ks * sx
        ay += kd * dy_ - ks * sy
        az += kd * dz - ks * sz
    m = y[6]
    if fd.srp_coeff > 0.0 and fd.sun_comp >= 0:
        c = fd.sun_comp
        sun = buf[c:c + 3]
        nu = shadow_fraction(y, sun, fd.origin, fd.central_radius)
        for j in range(fd.occ_comp.shape[0]):
            oc = fd.occ_comp[j]
            nu = min(nu, shadow_fraction(y, sun, buf[oc:oc + 3], fd.occ_radius[j]))
        if nu > 0.0:
            dx, dy_, dz = y[0] - sun[0], y[1] - sun[1], y[2] - sun[2]
            nd = math.sqrt(dx * dx + dy_ * dy_ + dz * dz)
            k = nu * fd.srp_coeff * (AU / nd) ** 2 / (m * nd)   # M&G eq. 3.75
            ax += k * dx
            ay += k * dy_
            az += k * dz
    mdot = 0.0
    for i in range(fd.burns.shape[0]):
        b = fd.burns[i]
        if b[0] <= tau < b[1]:
            mode = int(b[4])
            if mode == 0:
                ux, uy, uz = b[5], b[6], b[7]
            elif mode == 3:
                vn = math.sqrt(y[3] * y[3] + y[4] * y[4] + y[5] * y[5])
                wx, wy, wz = y[3] / vn, y[4] / vn, y[5] / vn
                rv = y[0] * wx + y[1] * wy + y[2] * wz
                px, py, pz = y[0] - rv * wx, y[1] - rv * wy, y[2] - rv * wz
                pn = math.sqrt(px * px + py * py + pz * pz)
                th = b[5] + b[6] * (tau - b[7])
                cth, sth = math.cos(th), math.sin(th) / pn
                ux, uy, uz = -cth * wx + sth * px, -cth * wy + sth * py, -cth * wz + sth * pz
            else:
                vn = math.sqrt(y[3] * y[3] + y[4] * y[4] + y[5] * y[5])
                sgn = 1.0 if mode == 1 else -1.0
                ux, uy, uz = sgn * y[3] / vn, sgn * y[4] / vn, sgn * y[5] / vn
            k = b[2] / m
            ax += k * ux
            ay += k * uy
            az += k * uz
            mdot -= b[3]
    dy[3] = ax
    dy[4] = ay
    dy[5] = az
    dy[6] = mdot
