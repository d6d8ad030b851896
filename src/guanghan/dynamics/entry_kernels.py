"""Compiled 3-DOF point-mass entry dynamics over the rotating Earth, with a fixed-step RK4.

State ``x = [r, v]`` (m, m/s) in the Earth-fixed frame ITRF93: position and velocity *relative to
the rotating Earth*. Acceleration (Vinh, Busemann & Culp 1980, ch. 2, eq. 2-10 in vector form):

    dv/dt = g_J2(r) + (L + D)/m − 2 ω × v − ω × (ω × r)

with ω the Earth's rotation vector in ITRF93 components, taken from SPICE at the entry epoch
(:func:`earth_rotation_itrf93`) and held constant over the ~30 min of an entry (precession,
nutation and length-of-day change over that time are below 1e-9 rad/s).

Parameter arrays (all float64, SI) passed to every kernel:
    ``planet = [μ (m³/s²), J2, R_J2 (m), ωx, ωy, ωz (rad/s), a, b (m, ellipsoid semi-axes)]``
    ``vehicle = [mass (kg), reference area (m²), L/D]`` and a Cd(Mach) table ``mach``, ``cd``
    ``atm = (altitude0 (m), step (m), log_density, sound_speed, density_scale)`` of
    :class:`guanghan.environment.atmosphere.AtmosphereProfile`.

Bank angle σ (rad) rotates the lift vector about the relative velocity, from the vertical plane
(σ = 0: lift up, away from the Earth's centre) towards the right of the velocity for σ > 0.

Assumptions and limitations
    * Gravity: point mass plus J2 (zonal, axis = ITRF93 z). μ, C̄20 and R from EGM96
      (Lemoine et al. 1998), read from the packaged ``data/gravity/EGM96low.cof``;
      J2 = −√5·C̄20. Higher harmonics change an entry trajectory by far less than the atmosphere.
    * Altitude inside the kernels is the height above the ellipsoid along the geocentric radius:
      it differs from the geodetic height by less than 1 m below 200 km (e²·h·sin²2φ/8 order).
      Exact geodetic coordinates for output come from :func:`geodetic_from_itrf`.
    * Aerodynamics: trimmed capsule with constant L/D, Cd a function of Mach only, no winds,
      "vertical" = geocentric radial direction. Bank angle is held constant over each step.

The kernels are compiled with numba's ``error_model="numpy"``: a division gives IEEE inf/NaN
instead of a Python ZeroDivisionError check on every division (a quarter of the guidance
predictor's time); none of their divisions can be by zero for a state off the Earth's centre
moving at a non-zero speed, and the results are the same numbers. The small ones a stage of
these kernels calls (height, gravity, lift and drag) are inlined into their callers by numba
(``inline="always"``). The guidance predictor's and the track kernels' helpers are not: numba's
IR inlining made the predictor a third faster (0.10 → 0.07 s for an entry leg) but took its
first compilation from ~9 to ~37 s, a third of a cold Chang'e-5 mission (issue 12's ≤ 60 s);
LLVM still inlines what it chooses, with the same numbers.

References
    * Vinh, N. X., Busemann, A., Culp, R. D. (1980), Hypersonic and Planetary Entry Flight
      Mechanics, University of Michigan Press, ch. 2.
    * Lemoine, F. G., et al. (1998), "The development of the joint NASA GSFC and NIMA geopotential
      model EGM96", NASA/TP-1998-206861.
    * Bowring, B. R. (1976), "Transformation from spatial to geographical coordinates",
      Survey Review 23(181), 323-327.
"""

from __future__ import annotations

import functools
import re
from importlib.resources import files

import numpy as np
from numba import njit

from guanghan.environment import spice_kernels
from guanghan.environment.atmosphere import profile_state



# --------------------------------------------------------------------------- set-up (Python)


@functools.lru_cache(maxsize=1)
def egm96_j2() -> tuple[float, float, float]:
    """(μ (m³/s²), J2, reference radius (m)) from the packaged EGM96 ``.cof`` file."""
    text = files("guanghan").joinpath("data/gravity/EGM96low.cof").read_text()
    mu = radius = c20 = None
    for line in text.splitlines():
        if line.startswith("POTFIELD"):
            mu, radius = (float(f) for f in re.findall(r"[-+]?\d\.\d+E[-+]\d+", line)[:2])
        elif line.startswith("RECOEF"):
            parts = line.split()            # n, m never touch; the lone C̄20 field neither
            if int(parts[1]) == 2 and int(parts[2]) == 0:
                c20 = float(parts[3])
                break
    if mu is None or c20 is None:
        raise ValueError("EGM96low.cof: POTFIELD or the C20 RECOEF line is missing")
    return mu, -np.sqrt(5.0) * c20, radius


def earth_rotation_itrf93(et: float) -> np.ndarray:
    """Earth rotation vector ω (rad/s) in ITRF93 components at ``et``, from SPICE ``sxform``.

    With r_f = R r_i, v_f = R v_i + Ṙ r_i and v_f = R v_i − ω × r_f, the skew matrix of ω is −Ṙ Rᵀ.
    """
    xf = spice_kernels.state_transforms("J2000", "ITRF93", np.array([et]))[0]
    skew = -xf[3:, :3] @ xf[:3, :3].T
    return np.array([skew[2, 1], skew[0, 2], skew[1, 0]])


def planet_array(et: float | None = None, rotation: bool = True, j2: bool = True) -> np.ndarray:
    """The ``planet`` parameter array for epoch ``et`` (rotation and J2 can be switched off)."""
    mu, j2_value, r_ref = egm96_j2()
    omega = earth_rotation_itrf93(et) if (rotation and et is not None) else np.zeros(3)
    a, _, b = spice_kernels.radii("EARTH")
    return np.array([mu, j2_value if j2 else 0.0, r_ref, *omega, a, b])


# --------------------------------------------------------------------------- kernels


@njit(cache=True, error_model="numpy", inline="always")
def height(r, a, b):
    """Height (m) above the ellipsoid (a, b) along the geocentric radius of ``r`` (m)."""
    rn = np.sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2])
    s2 = r[2] * r[2] / (rn * rn)
    return rn - a * b / np.sqrt(b * b * (1.0 - s2) + a * a * s2)


@njit(cache=True, error_model="numpy")
def heights(states, a, b):
    """:func:`height` (m) of each row of ``states`` (n, ≥3)."""
    out = np.empty(states.shape[0])
    for i in range(states.shape[0]):
        out[i] = height(states[i], a, b)
    return out


@njit(cache=True, error_model="numpy", inline="always")
def gravity(r, planet, out):
    """Point-mass + J2 acceleration (m/s²) at ``r`` (m, Earth-fixed) into ``out``.

    Vallado, Fundamentals of Astrodynamics and Applications (4th ed.), eq. 8-30 (J2 terms).
    """
    mu, j2, re = planet[0], planet[1], planet[2]
    r2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2]
    rn = np.sqrt(r2)
    k = -mu / (r2 * rn)
    f = 1.5 * j2 * re * re / r2
    z2 = 5.0 * r[2] * r[2] / r2
    out[0] = k * r[0] * (1.0 + f * (1.0 - z2))
    out[1] = k * r[1] * (1.0 + f * (1.0 - z2))
    out[2] = k * r[2] * (1.0 + f * (3.0 - z2))


@njit(cache=True, error_model="numpy", inline="always")
def drag_coefficient(mach, mach_nodes, cd_nodes):
    """Cd at ``mach`` by linear interpolation, held constant beyond the table ends (what
    ``np.interp`` gives, written out: numba's ``np.interp`` costs a third of an RK4 stage)."""
    n = mach_nodes.size
    if mach <= mach_nodes[0]:
        return cd_nodes[0]
    if mach >= mach_nodes[n - 1]:
        return cd_nodes[n - 1]
    j = 0
    while mach_nodes[j + 1] < mach:
        j += 1
    return cd_nodes[j] + (cd_nodes[j + 1] - cd_nodes[j]) * (mach - mach_nodes[j]) \
        / (mach_nodes[j + 1] - mach_nodes[j])


@njit(cache=True, error_model="numpy")
def aero_acceleration(x, bank, vehicle, mach_nodes, cd_nodes, planet, h0, dh, logrho, sound,
                      scale, out):
    """Lift + drag acceleration (m/s²) into ``out``; returns (density, sound speed, Mach)."""
    h = height(x, planet[6], planet[7])
    rho, a = profile_state(h, h0, dh, logrho, sound, scale)
    return rho, a, lift_drag(x, rho, a, np.cos(bank), np.sin(bank), vehicle, mach_nodes, cd_nodes,
                             out)


@njit(cache=True, error_model="numpy", inline="always")
def lift_drag(x, rho, a, cb, sb, vehicle, mach_nodes, cd_nodes, out):
    """Lift + drag acceleration (m/s²) into ``out`` at density ``rho`` (kg/m³) and sound speed
    ``a`` (m/s), for the bank's cosine ``cb`` and sine ``sb``; returns the Mach number."""
    vx, vy, vz = x[3], x[4], x[5]
    vn = np.sqrt(vx * vx + vy * vy + vz * vz)
    mach = vn / a
    if vn < 1e-9:
        out[:] = 0.0
        return mach
    cd = drag_coefficient(mach, mach_nodes, cd_nodes)
    drag = 0.5 * rho * vn * vn * cd * vehicle[1] / vehicle[0]       # m/s²
    lift = vehicle[2] * drag
    ux, uy, uz = vx / vn, vy / vn, vz / vn                          # velocity direction
    rn = np.sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2])
    px, py, pz = x[0] / rn, x[1] / rn, x[2] / rn                    # radial (up)
    d = px * ux + py * uy + pz * uz
    lx, ly, lz = px - d * ux, py - d * uy, pz - d * uz              # lift-up direction
    ln = np.sqrt(lx * lx + ly * ly + lz * lz)
    if ln < 1e-12:                                                   # vertical flight: no plane
        lx, ly, lz, ln = 0.0, 0.0, 0.0, 1.0
    lx, ly, lz = lx / ln, ly / ln, lz / ln
    sx, sy, sz = uy * lz - uz * ly, uz * lx - ux * lz, ux * ly - uy * lx   # right of velocity
    out[0] = -drag * ux + lift * (cb * lx + sb * sx)
    out[1] = -drag * uy + lift * (cb * ly + sb * sy)
    out[2] = -drag * uz + lift * (cb * lz + sb * sz)
    return mach


@njit(cache=True, error_model="numpy")
def derivatives(x, bank, planet, vehicle, mach_nodes, cd_nodes, h0, dh, logrho, sound, scale,
                acc, out):
    """dx/dt of the Earth-fixed state (Coriolis and centrifugal terms included) into ``out``."""
    gravity(x, planet, acc)
    out[3], out[4], out[5] = acc[0], acc[1], acc[2]
    aero_acceleration(x, bank, vehicle, mach_nodes, cd_nodes, planet, h0, dh, logrho, sound,
                      scale, acc)
    add_motion(x, planet, acc, out)


@njit(cache=True, error_model="numpy", inline="always")
def add_motion(x, planet, aero, out):
    """Complete dx/dt in ``out`` (its gravity in ``out[3:]``): velocity, the aerodynamic
    acceleration ``aero`` and the Coriolis and centrifugal terms of the rotating frame."""
    wx, wy, wz = planet[3], planet[4], planet[5]
    rx, ry, rz, vx, vy, vz = x[0], x[1], x[2], x[3], x[4], x[5]
    # ω × r, then −2 ω × v − ω × (ω × r)
    cx, cy, cz = wy * rz - wz * ry, wz * rx - wx * rz, wx * ry - wy * rx
    out[3] += aero[0] - 2.0 * (wy * vz - wz * vy) - (wy * cz - wz * cy)
    out[4] += aero[1] - 2.0 * (wz * vx - wx * vz) - (wz * cx - wx * cz)
    out[5] += aero[2] - 2.0 * (wx * vy - wy * vx) - (wx * cy - wy * cx)
    out[0], out[1], out[2] = vx, vy, vz


@njit(cache=True, error_model="numpy")
def rk4_step(x, bank, dt, planet, vehicle, mach_nodes, cd_nodes, h0, dh, logrho, sound, scale,
             work, out):
    """One classical RK4 step of ``dt`` (s) with constant bank (rad); ``work`` is (6, 6) scratch."""
    k1, k2, k3, k4, tmp, acc = work[0], work[1], work[2], work[3], work[4], work[5]
    derivatives(x, bank, planet, vehicle, mach_nodes, cd_nodes, h0, dh, logrho, sound, scale,
                acc, k1)
    for i in range(6):
        tmp[i] = x[i] + 0.5 * dt * k1[i]
    derivatives(tmp, bank, planet, vehicle, mach_nodes, cd_nodes, h0, dh, logrho, sound, scale,
                acc, k2)
    for i in range(6):
        tmp[i] = x[i] + 0.5 * dt * k2[i]
    derivatives(tmp, bank, planet, vehicle, mach_nodes, cd_nodes, h0, dh, logrho, sound, scale,
                acc, k3)
    for i in range(6):
        tmp[i] = x[i] + dt * k3[i]
    derivatives(tmp, bank, planet, vehicle, mach_nodes, cd_nodes, h0, dh, logrho, sound, scale,
                acc, k4)
    for i in range(6):
        out[i] = x[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])


@njit(cache=True, error_model="numpy")
def integrate(x0, banks, dt, planet, vehicle, mach_nodes, cd_nodes, h0, dh, logrho, sound, scale):
    """States (len(banks)+1, 6) after each RK4 step of ``dt`` (s), bank ``banks[k]`` on step k."""
    n = banks.size
    hist = np.empty((n + 1, 6))
    work = np.empty((6, 6))
    hist[0] = x0
    for k in range(n):
        rk4_step(hist[k], banks[k], dt, planet, vehicle, mach_nodes, cd_nodes, h0, dh, logrho,
                 sound, scale, work, hist[k + 1])
    return hist


@njit(cache=True, error_model="numpy")
def jacobi_energy(x, planet):
    """Specific Jacobi energy (J/kg) v²/2 − U − |ω×r|²/2, conserved in vacuum (rotating frame)."""
    mu, j2, re = planet[0], planet[1], planet[2]
    r2 = x[0] * x[0] + x[1] * x[1] + x[2] * x[2]
    rn = np.sqrt(r2)
    s2 = x[2] * x[2] / r2
    u = mu / rn * (1.0 - j2 * (re * re / r2) * 0.5 * (3.0 * s2 - 1.0))
    wx, wy, wz = planet[3], planet[4], planet[5]
    cx, cy, cz = wy * x[2] - wz * x[1], wz * x[0] - wx * x[2], wx * x[1] - wy * x[0]
    v2 = x[3] * x[3] + x[4] * x[4] + x[5] * x[5]
    return 0.5 * v2 - u - 0.5 * (cx * cx + cy * cy + cz * cz)


# --------------------------------------------------------------------------- coordinates (numpy)


def aero_history(states, banks, planet, vehicle, mach_nodes, cd_nodes, profile, scale=1.0):
    """Per state: (density (kg/m³), Mach, sensed aerodynamic acceleration (m/s²)), each (n,)."""
    n = len(states)
    rho, mach, acc_n = np.empty(n), np.empty(n), np.empty(n)
    acc = np.empty(3)
    for k in range(n):
        rho[k], _, mach[k] = aero_acceleration(
            np.ascontiguousarray(states[k]), banks[k], vehicle, mach_nodes, cd_nodes, planet,
            profile.altitude0, profile.step, profile.log_density, profile.sound_speed, scale, acc)
        acc_n[k] = np.sqrt(acc @ acc)
    return rho, mach, acc_n
