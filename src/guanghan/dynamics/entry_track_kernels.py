"""Compiled 3-DOF entry propagation through an atmosphere that varies along the ground track.

The same dynamics and RK4 step as :mod:`guanghan.dynamics.entry_kernels`, but before every step
the stations bracketing the current position and their weight are found on an
:class:`guanghan.environment.atmosphere.AtmosphereTrack` (stations along a great circle,
:func:`guanghan.environment.atmosphere.track_weights`), and each stage reads density and sound
speed from the blend of those two columns (:func:`guanghan.environment.atmosphere.track_state`:
the numbers of :func:`~guanghan.environment.atmosphere.profile_state` on the blended column, read
at the two altitude nodes it needs). The truth of a simulated entry and the guidance's predictor
fly through this.

Track parameter arrays (float64, SI): ``theta`` (n_st,) station angles (rad), ``start`` and
``normal`` (3,) unit vectors of the great circle (ITRF93), ``logrho_table`` and ``sound_table``
(n_st, n_alt) on the grid ``h0 + k·dh`` (m); ``scale`` multiplies density. Nothing is allocated per
step.

The RK4 step is written again here rather than shared with :mod:`~guanghan.dynamics.entry_kernels`
with the lookup as an argument: numba's cached compilation does not take function arguments.

Assumptions and limitations
    * The stations' weight is held over each RK4 step (all four stages): at 11 km/s and 0.5 s
      steps the capsule moves 5.5 km along a track whose stations are hundreds of km apart.
    * Other assumptions as in :mod:`guanghan.dynamics.entry_kernels` and
      :class:`~guanghan.environment.atmosphere.AtmosphereTrack`.

Compiled with numba's numpy error model, as :mod:`guanghan.dynamics.entry_kernels` (reason there).

References: see :mod:`guanghan.dynamics.entry_kernels`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from guanghan.dynamics.entry_kernels import add_motion, gravity, height, lift_drag
from guanghan.environment.atmosphere import track_state, track_weights


@njit(cache=True, error_model="numpy")
def aero_at(x, bank, vehicle, mach_nodes, cd_nodes, planet, h0, dh, logrho_table, sound_table,
            k, k1, w, scale, out):
    """Lift + drag acceleration (m/s²) at ``x`` into ``out`` in the column between stations ``k``
    and ``k1`` (weight ``w`` of ``k1``); returns (density, sound speed, Mach)."""
    h = height(x, planet[6], planet[7])
    rho, a = track_state(h, h0, dh, logrho_table, sound_table, k, k1, w, scale)
    return rho, a, lift_drag(x, rho, a, np.cos(bank), np.sin(bank), vehicle, mach_nodes, cd_nodes,
                             out)


@njit(cache=True, error_model="numpy")
def derivatives_at(x, cb, sb, planet, vehicle, mach_nodes, cd_nodes, h0, dh, logrho_table,
                   sound_table, k, k1, w, scale, acc, out):
    """dx/dt of the Earth-fixed state (Coriolis and centrifugal terms included) into ``out``,
    for the bank's cosine ``cb`` and sine ``sb``."""
    gravity(x, planet, acc)
    out[3], out[4], out[5] = acc[0], acc[1], acc[2]
    rho, a = track_state(height(x, planet[6], planet[7]), h0, dh, logrho_table, sound_table, k, k1,
                         w, scale)
    lift_drag(x, rho, a, cb, sb, vehicle, mach_nodes, cd_nodes, acc)
    add_motion(x, planet, acc, out)


@njit(cache=True, error_model="numpy")
def rk4_step_track(x, bank, dt, planet, vehicle, mach_nodes, cd_nodes, h0, dh, theta, start,
                   normal, logrho_table, sound_table, scale, work, out):
    """One classical RK4 step of ``dt`` (s) with constant bank (rad) in the track's column at
    ``x``; ``work`` is (6, 6) scratch. Returns |lift + drag| (m/s²) at ``x`` (the first stage's)."""
    k, k1, w = track_weights(x, theta, start, normal)
    cb, sb = np.cos(bank), np.sin(bank)
    d1, d2, d3, d4, tmp, acc = work[0], work[1], work[2], work[3], work[4], work[5]
    derivatives_at(x, cb, sb, planet, vehicle, mach_nodes, cd_nodes, h0, dh, logrho_table,
                   sound_table, k, k1, w, scale, acc, d1)
    aero = np.sqrt(acc[0] * acc[0] + acc[1] * acc[1] + acc[2] * acc[2])
    for i in range(6):
        tmp[i] = x[i] + 0.5 * dt * d1[i]
    derivatives_at(tmp, cb, sb, planet, vehicle, mach_nodes, cd_nodes, h0, dh, logrho_table,
                   sound_table, k, k1, w, scale, acc, d2)
    for i in range(6):
        tmp[i] = x[i] + 0.5 * dt * d2[i]
    derivatives_at(tmp, cb, sb, planet, vehicle, mach_nodes, cd_nodes, h0, dh, logrho_table,
                   sound_table, k, k1, w, scale, acc, d3)
    for i in range(6):
        tmp[i] = x[i] + dt * d3[i]
    derivatives_at(tmp, cb, sb, planet, vehicle, mach_nodes, cd_nodes, h0, dh, logrho_table,
                   sound_table, k, k1, w, scale, acc, d4)
    for i in range(6):
        out[i] = x[i] + dt / 6.0 * (d1[i] + 2.0 * d2[i] + 2.0 * d3[i] + d4[i])
    return aero


@njit(cache=True, error_model="numpy")
def integrate_track(x0, banks, dt, planet, vehicle, mach_nodes, cd_nodes, h0, dh, theta, start,
                    normal, logrho_table, sound_table, scale):
    """States (len(banks)+1, 6) after each RK4 step of ``dt`` (s), bank ``banks[k]`` on step k."""
    n = banks.size
    hist = np.empty((n + 1, 6))
    work = np.empty((6, 6))
    hist[0] = x0
    for k in range(n):
        rk4_step_track(hist[k], banks[k], dt, planet, vehicle, mach_nodes, cd_nodes, h0, dh,
                       theta, start, normal, logrho_table, sound_table, scale, work, hist[k + 1])
    return hist


@njit(cache=True, error_model="numpy")
def aero_track(x, bank, vehicle, mach_nodes, cd_nodes, planet, h0, dh, theta, start, normal,
               logrho_table, sound_table, scale, out):
    """Lift + drag acceleration (m/s²) at ``x`` into ``out``; returns (density, sound speed, Mach)."""
    k, k1, w = track_weights(x, theta, start, normal)
    return aero_at(x, bank, vehicle, mach_nodes, cd_nodes, planet, h0, dh, logrho_table,
                   sound_table, k, k1, w, scale, out)


@njit(cache=True, error_model="numpy")
def aero_history_track(states, banks, planet, vehicle, mach_nodes, cd_nodes, h0, dh, theta, start,
                       normal, logrho_table, sound_table, scale):
    """Per state: (density (kg/m³), Mach, |aerodynamic acceleration| (m/s²)), each (n,)."""
    n = states.shape[0]
    rho, mach, acc_n = np.empty(n), np.empty(n), np.empty(n)
    acc = np.empty(3)
    for k in range(n):
        rho[k], _, mach[k] = aero_track(states[k], banks[k], vehicle, mach_nodes, cd_nodes,
                                        planet, h0, dh, theta, start, normal, logrho_table,
                                        sound_table, scale, acc)
        acc_n[k] = np.sqrt(acc[0] * acc[0] + acc[1] * acc[1] + acc[2] * acc[2])
    return rho, mach, acc_n
