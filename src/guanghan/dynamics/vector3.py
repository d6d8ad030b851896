"""Three-vector helpers for per-step Python loops (closed-loop ascent, relative navigation,
phasing scans).

Why hand-written: numpy's general routines cost far more than the arithmetic on one 3-vector
(``np.cross`` ~30 µs, ``np.linalg.norm`` ~5 µs a call against ~1 µs here) and dominated the
closed-loop ascent's step; the formulas are the textbook ones.
"""

from __future__ import annotations

import math

import numpy as np


def cross(a, b) -> np.ndarray:
    """a × b of two 3-vectors."""
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])


def norm(x) -> float:
    """Euclidean length of a 3-vector."""
    return math.sqrt(float(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]))


def unit(x, zero=None) -> np.ndarray:
    """x / |x|; for a zero vector ``zero`` (default: x itself, unchanged)."""
    x = np.asarray(x, float)
    n = norm(x)
    if n > 0:
        return x / n
    return x if zero is None else np.asarray(zero, float)


class AxisRotation:
    """Rotation by the angle |ω| t about the fixed axis ω (rad/s), as matrices of t (s):
    R(t) = I + sin(|ω|t) K + (1 − cos(|ω|t)) K², K the cross-product matrix of ω/|ω| (Rodrigues);
    K and K² are formed once."""

    def __init__(self, omega) -> None:
        omega = np.asarray(omega, float)
        self.rate = norm(omega)
        k = omega / self.rate if self.rate > 0 else np.zeros(3)
        self.K = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
        self.K2 = self.K @ self.K

    def matrix(self, t: float) -> np.ndarray:
        a = self.rate * t
        return np.eye(3) + math.sin(a) * self.K + (1.0 - math.cos(a)) * self.K2
