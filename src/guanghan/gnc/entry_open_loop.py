"""Open-loop entry modes for studies: a constant bank, a bank profile against time or speed, and a
ballistic (zero-lift or spinning) entry, flown in place of the closed-loop guidance.

Each mode is a configuration record (``mode`` is the tag the scenario's ``[phases.guidance]``
selects by) and :class:`OpenLoopSteering` turns it into the bank angle of every integration step
of :func:`guanghan.gnc.entry_flight.simulate_entry`. Nothing is fed back: no landing site is
needed, and the capsule lands where its bank history takes it.

Conventions: the bank σ is signed, σ = 0 lift up, σ = ±180° lift down, σ > 0 rolls the lift to the
right of the Earth-relative velocity (:mod:`guanghan.dynamics.entry_kernels`). The capsule starts
trimmed at the first command; after that it rolls towards each command at most at its
``max_bank_rate_deg_s``, through lift-up when the sign changes (as the closed loop's reversals).

* ``constant_bank``: σ(t) = ``bank_deg``.
* ``bank_profile``: σ interpolated linearly in ``bank_deg`` against ``time_s`` (from the entry
  interface) or against ``speed_m_s`` (Earth-relative), held at the end values beyond the table.
  Interpolation is in the signed angle, so a row from +170° to −170° rolls through lift-up; give
  an intermediate row through ±180° to roll through lift-down. The command is sampled at the start
  of each step (zero-order hold, step ``step_s``).
* ``ballistic``: ``roll_rate_deg_s = 0`` flies with no lift at all (the capsule's L/D is set to 0
  for the flight: trimmed at zero angle of attack, the drag table unchanged); a non-zero rate spins
  the trimmed capsule, σ(t) = ``initial_bank_deg`` + rate·t, so the lift turns round the velocity
  and averages to ~0 over a turn (the spinning ballistic entry of capsules without guidance, e.g.
  Gemini's and Apollo's back-up "rolling entry" at ~15 deg/s; Soyuz's ballistic mode). The bank of
  each step is taken at its mid-point: the step's mean lift direction to O(ω²Δt²).

Assumptions and limitations
    * Perfect attitude control within the capsule's bank-rate limit; a spin faster than that limit
      is refused (``roll_rate_deg_s``).
    * Zero-lift ballistic keeps the Cd(Mach) table of the trimmed capsule: at zero angle of attack
      a blunt capsule's drag coefficient differs by a few per cent, which this does not model.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.gnc.entry_vehicle import rotate_bank

OPEN_LOOP_MODES = ("constant_bank", "bank_profile", "ballistic")


def _require(data, mode: str, needs: dict[str, str]):
    """Refuse (naming the field and the mode) a mode whose required fields are missing."""
    if isinstance(data, dict):
        for name, what in needs.items():
            if name not in data:
                fail(f"guidance mode = {mode!r} needs {name} ({what})", name, None)
    return data


class ConstantBank(ConfigModel):
    """Open loop: the same bank angle (deg, signed) from the interface to the drogue."""

    mode: Literal["constant_bank"]
    bank_deg: float = Field(ge=-180.0, le=180.0, description=(
        "a signed bank angle within [-180, 180] deg: 0 lift up, ±180 lift down, > 0 to the right"))

    @model_validator(mode="before")
    @classmethod
    def _needs(cls, data):
        return _require(data, "constant_bank", {"bank_deg": "the bank angle, deg"})


class BankProfile(ConfigModel):
    """Open loop: a table of bank angles (deg, signed) against time from the interface (s) or
    against Earth-relative speed (m/s), interpolated linearly, held beyond its ends."""

    mode: Literal["bank_profile"]
    bank_deg: list[float] = Field(min_length=2, max_length=10_000, description=(
        "a profile needs 2 to 10,000 rows"))
    time_s: list[float] | None = None
    speed_m_s: list[float] | None = None

    @model_validator(mode="before")
    @classmethod
    def _needs(cls, data):
        data = _require(data, "bank_profile", {"bank_deg": "the bank angles of the table, deg"})
        if isinstance(data, dict) and ("time_s" in data) == ("speed_m_s" in data):
            both = "speed_m_s" in data
            fail("guidance mode = 'bank_profile' needs exactly one abscissa: time_s (s from the "
                 "entry interface) or speed_m_s (Earth-relative speed)" + (", not both" if both else ""),
                 "speed_m_s" if both else "time_s", data["speed_m_s"] if both else None)
        return data

    @model_validator(mode="after")
    def _check_table(self) -> "BankProfile":
        name = "time_s" if self.time_s is not None else "speed_m_s"
        x = np.asarray(getattr(self, name), float)
        if x.size != len(self.bank_deg):
            fail(f"has {x.size} rows but bank_deg has {len(self.bank_deg)}: one abscissa per bank "
                 "angle", name, getattr(self, name))
        if np.any(np.diff(x) <= 0.0):
            k = int(np.flatnonzero(np.diff(x) <= 0.0)[0])
            hint = "; list a speed profile from the slowest speed up" if name == "speed_m_s" else ""
            fail(f"must be strictly increasing ({x[k + 1]:g} follows {x[k]:g} at index {k + 1})"
                 + hint, name, getattr(self, name))
        if name == "time_s" and not (x[0] >= 0.0 and x[-1] <= 86_400.0):
            fail("times run from 0 (the entry interface) to at most 86,400 s", name, self.time_s)
        if name == "speed_m_s" and not (x[0] > 0.0 and x[-1] <= 20_000.0):
            fail("speeds must be > 0 and at most 20,000 m/s (an entry is at most ~16 km/s)", name,
                 self.speed_m_s)
        bad = [b for b in self.bank_deg if not -180.0 <= b <= 180.0]
        if bad:
            fail(f"bank angles lie within [-180, 180] deg (got {bad[0]:g})", "bank_deg",
                 self.bank_deg)
        return self

    @property
    def against(self) -> str:
        """``"time"`` or ``"speed"``: what the table's abscissa is."""
        return "time" if self.time_s is not None else "speed"


class Ballistic(ConfigModel):
    """Open loop, ballistic: no lift (``roll_rate_deg_s = 0``) or the trimmed capsule spinning at
    ``roll_rate_deg_s`` (deg/s, signed) from ``initial_bank_deg``."""

    mode: Literal["ballistic"]
    roll_rate_deg_s: float = Field(default=0.0, ge=-90.0, le=90.0, description=(
        "a roll rate within ±90 deg/s (0: zero-lift trim; spinning capsules roll at ~10-20 deg/s)"))
    initial_bank_deg: float = Field(default=0.0, ge=-180.0, le=180.0, description=(
        "a signed bank angle within [-180, 180] deg"))

    @model_validator(mode="after")
    def _check(self) -> "Ballistic":
        if self.roll_rate_deg_s == 0.0 and "initial_bank_deg" in self.model_fields_set:
            fail("has no effect on a zero-lift entry (roll_rate_deg_s = 0): give a roll rate or drop "
                 "it", "initial_bank_deg", self.initial_bank_deg)
        return self

    @property
    def zero_lift(self) -> bool:
        return self.roll_rate_deg_s == 0.0


OpenLoopMode = ConstantBank | BankProfile | Ballistic


def _wrap(angle):
    """Angle(s) (rad) wrapped into (-π, π]."""
    return np.pi - (np.pi - np.asarray(angle)) % (2.0 * np.pi)


class OpenLoopSteering:
    """Bank angles (rad) of the steps of an open-loop entry (see the module docstring), with the
    interface of :mod:`guanghan.gnc.entry_steering`: one integration step per cycle."""

    guided = False

    def __init__(self, mode: OpenLoopMode):
        self.mode = mode
        self.trimmed = False

    @property
    def lift_factor(self) -> float:
        """Factor on the capsule's L/D for the flight: 0 for a zero-lift ballistic entry, else 1."""
        return 0.0 if isinstance(self.mode, Ballistic) and self.mode.zero_lift else 1.0

    def cycle_s(self, phase: str) -> None:
        return None

    def command(self, t: float, speed: float) -> float:
        """Bank command (rad) at ``t`` (s from the interface) and Earth-relative ``speed`` (m/s)."""
        m = self.mode
        if isinstance(m, ConstantBank):
            return float(np.radians(m.bank_deg))
        if isinstance(m, BankProfile):
            x = m.time_s if m.against == "time" else m.speed_m_s
            return float(np.radians(np.interp(t if m.against == "time" else speed, x, m.bank_deg)))
        return float(_wrap(np.radians(m.initial_bank_deg + m.roll_rate_deg_s * t)))

    def banks(self, fl, dt: float, n: int, rate: float) -> np.ndarray:
        """Bank (rad) of each of the next ``n`` steps of ``dt`` (s) of the flight ``fl`` (its time
        ``t`` (s), Earth-fixed state ``x`` and bank (rad)), rolling at most ``rate`` (rad/s)."""
        m = self.mode
        if isinstance(m, Ballistic):
            if m.zero_lift:
                out = np.zeros(n)
            else:
                mid = fl.t + dt * (np.arange(n) + 0.5)
                out = _wrap(np.radians(m.initial_bank_deg + m.roll_rate_deg_s * mid))
        else:
            command, current = self.command(fl.t, float(np.linalg.norm(fl.x[3:]))), fl.bank
            if not self.trimmed:                    # the capsule is trimmed at the first command
                current, self.trimmed = command, True
            out = rotate_bank(current, command, rate, dt, n)
        fl.command = float(out[-1])
        return out
