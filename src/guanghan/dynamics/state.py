"""The spacecraft state: epoch, position, velocity and mass, with its frame and central body."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from guanghan.environment import ephemeris, frames, time_scales


@dataclass(frozen=True)
class SpacecraftState:
    """State at ``et`` (TDB s past J2000): position ``r`` (m), velocity ``v`` (m/s) relative to
    ``body`` in ``frame`` axes, and mass (kg)."""

    et: float
    r: np.ndarray
    v: np.ndarray
    mass: float
    frame: str = "J2000"
    body: str = "MOON"

    def __post_init__(self):
        frames.check_frame(self.frame)
        object.__setattr__(self, "r", np.asarray(self.r, dtype=float).reshape(3))
        object.__setattr__(self, "v", np.asarray(self.v, dtype=float).reshape(3))

    @property
    def utc(self) -> str:
        return time_scales.et_to_utc(self.et)

    @property
    def vector(self) -> np.ndarray:
        """[r, v, m] as the propagator's 7-vector."""
        return np.concatenate([self.r, self.v, [self.mass]])

    @classmethod
    def from_vector(cls, et: float, y: np.ndarray, frame: str = "J2000", body: str = "MOON"):
        return cls(float(et), y[:3].copy(), y[3:6].copy(), float(y[6]), frame, body)

    def to_frame(self, frame: str) -> "SpacecraftState":
        """The same state expressed in ``frame`` (same origin; rotating-frame velocity if body-fixed)."""
        if frame == self.frame:
            return self
        x = frames.transform_states(np.concatenate([self.r, self.v]), self.frame, frame, [self.et])[0]
        return SpacecraftState(self.et, x[:3], x[3:], self.mass, frame, self.body)

    def close_to(self, other: "SpacecraftState", position_m: float = 1.0, velocity_m_s: float = 1e-3,
                 mass_kg: float = 0.01) -> bool:
        """Same epoch, frame and centre, and within ``position_m`` (m), ``velocity_m_s`` (m/s)
        and ``mass_kg`` (kg) of ``other``: a plan solved from ``other`` may be flown from here as
        it is (the stored designs' test; a campaign sample's own flight is farther)."""
        return (self.et == other.et and self.frame == other.frame and self.body == other.body
                and float(np.linalg.norm(self.r - other.r)) <= position_m
                and float(np.linalg.norm(self.v - other.v)) <= velocity_m_s
                and abs(self.mass - other.mass) <= mass_kg)

    def with_mass(self, mass: float) -> "SpacecraftState":
        return SpacecraftState(self.et, self.r, self.v, mass, self.frame, self.body)

    def recentered(self, body: str) -> "SpacecraftState":
        """The same state relative to another central ``body`` (DE440), same axes (inertial only)."""
        if body == self.body:
            return self
        if self.frame != "J2000":
            raise ValueError(f"re-centre in J2000 only (state is in {self.frame}); use to_frame('J2000') first")
        offset = ephemeris.state(self.body, body, [self.et])[0]          # old centre seen from the new
        return SpacecraftState(self.et, self.r + offset[:3], self.v + offset[3:], self.mass, "J2000", body)
