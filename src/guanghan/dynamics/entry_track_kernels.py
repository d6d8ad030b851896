"""Compiled 3-DOF entry propagation through an atmosphere that varies along the ground track.

The same dynamics and RK4 step as :mod:`guanghan.dynamics.entry_kernels`, but before every step
the atmosphere column is re-interpolated at the current position from an
:class:`guanghan.environment.atmosphere.AtmosphereTrack` (stations along a great circle,
:func:`guanghan.environment.atmosphere.track_column`). The truth of a simulated entry flies
through this; the guidance predictor keeps its single altitude profile.

Track parameter arrays (float64, SI): ``theta`` (n_st,) station angles (rad), ``start`` and
``normal`` (3,) unit vectors of the great circle (ITRF93), ``logrho_table`` and ``sound_table``
(n_st, n_alt) on the grid ``h0 + k·dh`` (m); ``scale`` multiplies density; ``col_logrho`` and
``col_sound`` (n_alt,) are scratch columns owned by the caller (nothing is allocated per step).

Assumptions and limitations
    * The column is held over each RK4 step (all four stages): at 11 km/s and 0.5 s steps the
      capsule moves 5.5 km along a track whose stations are hundreds of km apart.
    * Other assumptions as in :mod:`guanghan.dynamics.entry_kernels` and
      :class:`~guanghan.environment.atmosphere.AtmosphereTrack`.

References: see :mod:`guanghan.dynamics.entry_kernels`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from guanghan.dynamics.entry_kernels import aero_acceleration, rk4_step
from guanghan.environment.atmosphere import track_column


@njit(cache=True)
def integrate_track(x0, banks, dt, planet, vehicle, mach_nodes, cd_nodes, h0, dh, theta, start,
                    normal, logrho_table, sound_table, scale, col_logrho, col_sound):
    """States (len(banks)+1, 6) after each RK4 step of ``dt`` (s), bank ``banks[k]`` on step k."""
    n = banks.size
    hist = np.empty((n + 1, 6))
    work = np.empty((6, 6))
    hist[0] = x0
    for k in range(n):
        track_column(hist[k], theta, start, normal, logrho_table, sound_table, col_logrho,
                     col_sound)
        rk4_step(hist[k], banks[k], dt, planet, vehicle, mach_nodes, cd_nodes, h0, dh, col_logrho,
                 col_sound, scale, work, hist[k + 1])
    return hist


@njit(cache=True)
def aero_track(x, bank, vehicle, mach_nodes, cd_nodes, planet, h0, dh, theta, start, normal,
               logrho_table, sound_table, scale, col_logrho, col_sound, out):
    """Lift + drag acceleration (m/s²) at ``x`` into ``out``; returns (density, sound speed, Mach)."""
    track_column(x, theta, start, normal, logrho_table, sound_table, col_logrho, col_sound)
    return aero_acceleration(x, bank, vehicle, mach_nodes, cd_nodes, planet, h0, dh, col_logrho,
                             col_sound, scale, out)


@njit(cache=True)
def aero_history_track(states, banks, planet, vehicle, mach_nodes, cd_nodes, h0, dh, theta, start,
                       normal, logrho_table, sound_table, scale):
    """Per state: (density (kg/m³), Mach, |aerodynamic acceleration| (m/s²)), each (n,)."""
    n = states.shape[0]
    rho, mach, acc_n = np.empty(n), np.empty(n), np.empty(n)
    acc = np.empty(3)
    col_logrho = np.empty(logrho_table.shape[1])
    col_sound = np.empty(logrho_table.shape[1])
    for k in range(n):
        rho[k], _, mach[k] = aero_track(states[k], banks[k], vehicle, mach_nodes, cd_nodes,
                                        planet, h0, dh, theta, start, normal, logrho_table,
                                        sound_table, scale, col_logrho, col_sound, acc)
        acc_n[k] = np.sqrt(acc[0] * acc[0] + acc[1] * acc[1] + acc[2] * acc[2])
    return rho, mach, acc_n
