"""Steering of a simulated entry: its flight phases, the closed-loop bank commands and its events.

:class:`Flight` is the mutable state of the flight loop of :func:`guanghan.gnc.entry_flight.simulate_entry`
(state, time, bank, last command, phase, history); :func:`next_phase` moves it through
``first_entry`` → ``skip`` → ``second_entry`` → ``final`` → ``bank_hold``
(:mod:`guanghan.gnc.entry_guidance`, "Phases"); :class:`ClosedLoopSteering` asks the guidance for
a command every cycle and logs reversals, failures and the load limiter into :class:`EntryLog`.
The open-loop counterpart is :class:`guanghan.gnc.entry_open_loop.OpenLoopSteering`. A steering
gives ``guided``, ``cycle_s(phase)`` (s, None: one integration step) and
``banks(flight, dt, n, rate)``: the bank (rad) of each of the next ``n`` steps of ``dt`` (s),
rolling at most ``rate`` (rad/s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from guanghan.environment.constants import STANDARD_GRAVITY as G0
from guanghan.errors import GuidanceFailure
from guanghan.gnc.entry_guidance import EntryGuidance, GuidanceSettings
from guanghan.gnc.entry_vehicle import rotate_bank

GUIDED_PHASES = ("first_entry", "second_entry", "final")


class EntryLog:
    """The events of a simulated entry (ET s, name, details), one failure and one load-limiter
    event per phase; ``strict`` raises guidance failures instead."""

    def __init__(self, strict: bool):
        self.events, self.strict, self.failed_phases = [], strict, set()
        self.limited_phases = set()

    def load_limited(self, et: float, phase: str, sigma0: float, sensed_g: float) -> None:
        if phase not in self.limited_phases:                  # one event per phase
            self.limited_phases.add(phase)
            self.add(et, "load_limiter_active", phase=phase, sigma0_deg=np.degrees(sigma0),
                     sensed_g=sensed_g)

    def add(self, et: float, event: str, **details) -> None:
        plain = {k: float(v) if isinstance(v, (float, np.floating)) else v
                 for k, v in details.items()}
        self.events.append({"et": float(et), "event": event, "details": plain})

    def failure(self, et: float, exc: GuidanceFailure) -> None:
        if self.strict:
            raise exc
        if exc.phase not in self.failed_phases:           # one event per phase
            self.failed_phases.add(exc.phase)
            self.add(et, "guidance_failure", phase=exc.phase, reason=exc.reason)


@dataclass
class Flight:
    """Mutable state of the flight loop."""

    x: np.ndarray
    t: float = 0.0
    bank: float = 0.0
    command: float = 0.0              # last bank command (rad), held after the guidance ends
    phase: str = "first_entry"
    times: list = field(default_factory=list)
    states: list = field(default_factory=list)
    banks: list = field(default_factory=list)
    phases: list = field(default_factory=list)

    def append(self, hist: np.ndarray, banks: np.ndarray, dt: float) -> None:
        self.times.extend(self.t + dt * np.arange(1, len(hist)))
        self.states.extend(hist[1:])
        self.banks.extend(banks[: len(hist) - 1])
        self.phases.extend([self.phase] * (len(hist) - 1))


class ClosedLoopSteering:
    """Bank of each step from the predictor–corrector guidance, with its events."""

    guided = True

    def __init__(self, guidance: EntryGuidance, truth, log: EntryLog, et0: float):
        self.guidance, self.truth, self.log, self.et0 = guidance, truth, log, et0
        self.first = True

    def cycle_s(self, phase: str) -> float:
        """Guidance cycle (s): ``period_s``, five of them above the atmosphere."""
        return self.guidance.settings.period_s * (5.0 if phase == "skip" else 1.0)

    def banks(self, fl: Flight, dt: float, n: int, rate: float) -> np.ndarray:
        if fl.phase == "skip":                      # above the atmosphere: bank held
            command = fl.bank
        elif fl.phase == "bank_hold":               # guidance ended: last command held
            command = fl.command
        else:
            command = self._command(fl)
            if self.first:                          # the capsule is trimmed at the first command
                fl.bank, self.first = command, False
        fl.command = command
        return rotate_bank(fl.bank, command, rate, dt, n)

    def _command(self, fl: Flight) -> float:
        log, et = self.log, self.et0 + fl.t
        sensed = self.truth.sensed(fl.x, fl.bank)
        cmd = self.guidance.command(fl.x, fl.phase, fl.phase != "final", sensed, fl.bank)
        if cmd.failure is not None:
            log.failure(et, cmd.failure)
        if cmd.load_limited:
            log.load_limited(et, fl.phase, cmd.sigma0, float(np.linalg.norm(sensed)) / G0)
        if cmd.reversed and not self.first:
            log.add(et, "bank_reversal", to_sign=int(np.sign(cmd.bank)),
                    speed_m_s=float(np.linalg.norm(fl.x[3:])))
        return cmd.bank


def next_phase(fl: Flight, gs: GuidanceSettings, h: float, log: EntryLog, et0: float,
               guided: bool) -> None:
    """Move ``fl`` to its next phase at height ``h`` (m) if it is due, logging the event: skip exit
    and second entry (above/below ``sensible_atmosphere_km``); for the guidance (``guided``) the
    final phase below ``final_phase_speed_m_s`` and its end below ``final_phase_end_speed_m_s``."""
    climbing = fl.x[:3] @ fl.x[3:] > 0.0
    speed = math.sqrt(fl.x[3:] @ fl.x[3:])
    h_atm = gs.sensible_atmosphere_km * 1e3
    if fl.phase in GUIDED_PHASES[:2] and climbing and h > h_atm:
        fl.phase = "skip"
        log.add(et0 + fl.t, "skip_exit", altitude_km=h / 1e3, speed_m_s=speed)
    elif fl.phase == "skip" and not climbing and h <= h_atm:
        fl.phase = "second_entry"
        log.add(et0 + fl.t, "second_entry", altitude_km=h / 1e3, speed_m_s=speed)
    elif not guided:
        return
    elif fl.phase in GUIDED_PHASES and speed < gs.final_phase_end_speed_m_s:
        fl.phase = "bank_hold"                      # Apollo's VQUIT: stop steering, hold the bank
        log.add(et0 + fl.t, "guidance_end", altitude_km=h / 1e3, speed_m_s=speed,
                bank_held_deg=np.degrees(fl.command))
    elif fl.phase in GUIDED_PHASES[:2] and speed < gs.final_phase_speed_m_s:
        fl.phase = "final"
        log.add(et0 + fl.t, "final_phase", altitude_km=h / 1e3, speed_m_s=speed)
