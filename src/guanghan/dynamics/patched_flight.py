"""Patched flight between the Moon and the Earth: Moon-centred inside the lunar sphere of influence,
Earth-centred outside, with finite burns and a stop event.

:func:`fly` integrates a state Moon-centred (GRAIL GRGM1200A field, Earth and Sun as third bodies)
until a terminal event at the SOI radius hands it over, re-centred, to an Earth-centred leg (EGM96
field in ITRF93, Moon and Sun as third bodies) that runs to the end epoch or a stop event such as a
geodetic altitude (:func:`geodetic_altitude`). :func:`fly_outbound` is the way out: Earth-centred
until the distance to the Moon falls through the SOI radius, then Moon-centred to the end epoch or
the first of its stop events (periselene, surface). :func:`integrate_to` integrates a state without
burns in either direction (the compiled DOP853, no Python in the loop), for designs that run
backwards from the Earth.

Assumptions and limitations
    * Third bodies are point masses; no SRP (a few metres at the entry interface over 3.6 days for a
      14 m² / 2.7 t stack).
    * The Moon-centred leg is valid inside the SOI; the hand-over radius is a parameter.
    * Geodetic altitudes are over the ITRF93 ellipsoid of ``pck00011.tpc``.

References
    Battin, R. H. (1999), *An Introduction to the Mathematics and Methods of Astrodynamics*, §8.4
    (sphere of influence r = a (m/M)^(2/5), eq. 8.67); Bate, Mueller & White (1971), §7.4
    (patched conics, lunar return).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from guanghan import run_limits
from guanghan.dynamics import dop853
from guanghan.dynamics import events as ev
from guanghan.dynamics.forces import CentralGravity, ForceModel, ThirdBody
from guanghan.dynamics.propagator import PropagationResult, Tolerances, propagate
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import frames, spice_kernels
from guanghan.environment.geodetic import planetodetic_from_cartesian
from guanghan.environment.gravity_field import load_lunar_field, load_packaged_cof
from guanghan.errors import PropagationError

#: Tolerances of cislunar flights (rtol 1e-11, 1 mm): see :mod:`guanghan.gnc.return_targeting`.
CISLUNAR_TOLERANCES = Tolerances(rtol=1e-11, atol_m=1e-3)


@dataclass(frozen=True)
class PatchedModels:
    """Moon-centred and Earth-centred force models (no burns), SOI radius (m), tolerances."""

    moon: ForceModel
    earth: ForceModel
    soi_radius_m: float = 66_000e3
    tolerances: Tolerances = CISLUNAR_TOLERANCES


def build_models(lunar_degree: int = 20, earth_degree: int = 8, soi_radius_km: float = 66_000.0,
                 tolerances: Tolerances = CISLUNAR_TOLERANCES) -> PatchedModels:
    """GRGM1200A (degree ``lunar_degree``) + Earth + Sun; EGM96low (``earth_degree``) + Moon + Sun."""
    moon_field = load_lunar_field("GRGM1200A", lunar_degree)
    earth_field = load_packaged_cof("EGM96low", earth_degree)
    gm = {b: spice_kernels.gm(b) for b in ("MOON", "EARTH", "SUN")}
    moon = ForceModel(CentralGravity("MOON", moon_field.mu, moon_field),
                      [ThirdBody("EARTH", gm["EARTH"]), ThirdBody("SUN", gm["SUN"])])
    earth = ForceModel(CentralGravity("EARTH", earth_field.mu, earth_field),
                       [ThirdBody("MOON", gm["MOON"]), ThirdBody("SUN", gm["SUN"])])
    return PatchedModels(moon, earth, soi_radius_km * 1e3, tolerances)


#: Spacing (s) of the ITRF93 pole look-ups of :func:`geodetic_altitude`.
AXIS_NODE_S = 3600.0


def geodetic_altitude(altitude_m: float, name: str, terminal: bool = True) -> ev.Detector:
    """Descent through a geodetic altitude (m) above the ITRF93 ellipsoid (Earth-centred states).

    A geodetic altitude depends on the position only through its components along and normal to
    the ellipsoid's axis, the ITRF93 z-axis, so the detector needs that axis, not the full
    rotation: it takes it from ``pxform`` at nodes at most an hour apart spanning each request and
    interpolates linearly (normalised) between them. The axis moves slowly (precession, nutation,
    polar motion); measured against a ``pxform`` per epoch, the altitude is within 0.3 mm (a tilt δ
    moves it by ≲ a·f·δ = 21 km·δ). A ``pxform`` per epoch made this detector a fifth of the
    return's targeting.
    """

    def g(ets, states):
        ets = np.asarray(ets, float)
        lo, hi = float(np.min(ets)), float(np.max(ets))
        nodes = np.linspace(lo, hi, max(2, math.ceil((hi - lo) / AXIS_NODE_S) + 1))
        pole = frames.rotation("J2000", "ITRF93", nodes)[:, 2, :]
        axis = np.column_stack([np.interp(ets, nodes, pole[:, k]) for k in range(3)])
        axis /= np.linalg.norm(axis, axis=1, keepdims=True)
        r = states[:, :3]
        z = np.sum(r * axis, axis=1)
        rho = np.sqrt(np.maximum(np.sum(r * r, axis=1) - z * z, 0.0))
        return planetodetic_from_cartesian(np.column_stack([rho, np.zeros_like(rho), z]))[2] - altitude_m

    return ev.user(g, name, terminal=terminal, direction=-1)


def soi_exit(radius_m: float) -> ev.Detector:
    """Moon-centred distance rising through ``radius_m`` (m): hand over to the Earth-centred leg."""
    return ev.user(lambda t, y: np.linalg.norm(y[:, :3], axis=1) - radius_m, "soi_exit",
                   terminal=True, direction=1)


@dataclass
class Flight:
    """Propagated legs (Moon- then Earth-centred), the SOI hand-over and the stop event."""

    legs: list[PropagationResult]
    soi_exit: SpacecraftState | None
    stop: ev.Event | None
    soi_entry: SpacecraftState | None = None      # the hand-over of an outbound flight

    @property
    def final_state(self) -> SpacecraftState:
        return self.legs[-1].final_state


def _fly_patched(state: SpacecraftState, end_et: float, models: PatchedModels, burns, first, second,
                 handover: ev.Detector, first_chunk: int, stops: list[ev.Detector]):
    """(legs, hand-over state, stop event): a ``state`` centred on ``first`` = (body, model, where)
    flies there until ``handover`` fires, then re-centred on ``second`` to ``end_et`` or the first
    terminal event of ``stops`` (a state already centred on ``second`` flies there only)."""
    legs, handover_state, stop_event = [], None, None
    body, model, where = first
    if state.body == body:
        try:
            res = propagate(state, end_et, replace(model, burns=list(burns)), models.tolerances,
                            [handover], chunk_steps=first_chunk)
        except PropagationError as exc:
            raise PropagationError(f"propagation failed {where}: {exc}") from None
        legs.append(res)
        if res.terminated_by is None:
            return legs, None, None
        handover_state = res.final_state
        state = handover_state.recentered(second[0])
    body, model, where = second
    if end_et > state.et:
        try:                    # short chunks: terminal events are checked after each chunk
            res = propagate(state, end_et, replace(model, burns=list(burns)), models.tolerances,
                            list(stops), chunk_steps=64)
        except PropagationError as exc:
            raise PropagationError(f"propagation failed {where}: {exc}") from None
        legs.append(res)
        stop_event = res.terminated_by
    return legs, handover_state, stop_event


def fly(state: SpacecraftState, end_et: float, models: PatchedModels, burns=(),
        stop: ev.Detector | None = None) -> Flight:
    """Propagate to ``end_et`` (s) or the ``stop`` event, Moon-centred until the SOI, then Earth."""
    legs, handover, stop_event = _fly_patched(
        state, end_et, models, burns, ("MOON", models.moon, "near the Moon"),
        ("EARTH", models.earth, "near the Earth"), soi_exit(models.soi_radius_m), 256,
        [stop] if stop is not None else [])
    return Flight(legs, handover, stop_event)


def soi_entry(radius_m: float) -> ev.Detector:
    """Earth-centred distance to the Moon (DE440) falling through ``radius_m`` (m): hand over to
    the Moon-centred leg."""
    return ev.Detector(lambda t, y, env: np.linalg.norm(y[:, :3] - env.position("MOON", t), axis=1)
                       - radius_m, falling="soi_entry", terminal=True)


def fly_outbound(state: SpacecraftState, end_et: float, models: PatchedModels, burns=(),
                 stops: list[ev.Detector] = ()) -> Flight:
    """Propagate an Earth-centred ``state`` to ``end_et`` (s), handing over Moon-centred at the SOI
    entry; the Moon-centred leg stops at the first terminal event of ``stops``. A Moon-centred
    ``state`` flies Moon-centred only."""
    legs, handover, stop_event = _fly_patched(
        state, end_et, models, burns, ("EARTH", models.earth, "near the Earth"),
        ("MOON", models.moon, "near the Moon"), soi_entry(models.soi_radius_m), 64, list(stops))
    return Flight(legs, None, stop_event, handover)


def integrator(model: ForceModel, et0: float, et1: float, rtol: float = 1e-11):
    """A function (et_from, y0, et_to) -> y integrating ``model`` (no burns) with the compiled
    DOP853 (:func:`guanghan.dynamics.dop853.integrate`, scipy's method and error norm), either
    direction, inside [et0, et1]; the model is compiled once for every call."""
    fd = replace(model, burns=[]).compile(et0, et1, et_ref=et0)
    atol = np.array([1e-3] * 3 + [1e-6] * 3 + [1e-6])
    cap = 512
    t_out, y_out = np.empty(cap + 1), np.empty((cap + 1, 7))
    k_unused = np.empty((1, dop853.N_STAGES + 1, 7))            # stages are not kept
    n_eval = np.zeros(1, np.int64)

    def run(et_from, y0, et_to):
        tau, tau_end = et_from - et0, et_to - et0
        y, h = np.asarray(y0, float).copy(), 0.0
        while True:
            before = int(n_eval[0])
            status, n, h = dop853.integrate(fd, tau, y, tau_end, rtol, atol, h, math.inf, False,
                                            t_out, y_out, k_unused, n_eval)
            run_limits.charge(n, int(n_eval[0]) - before)
            if n:
                tau, y = t_out[n], y_out[n].copy()
            if status == dop853.DONE:
                return y
            if status != dop853.BUFFER_FULL:
                raise PropagationError(f"step size underflow at {et0 + tau:.3f} s integrating "
                                       f"{model.body}-centred towards {et_to:.3f} s")

    return run


def integrate_to(model: ForceModel, state: SpacecraftState, et_to: float) -> SpacecraftState:
    """``state`` integrated (either direction, no burns) to ``et_to`` (s) with ``model``."""
    y = integrator(model, min(state.et, et_to), max(state.et, et_to))(state.et, state.vector, et_to)
    return SpacecraftState.from_vector(et_to, y, body=model.body)
