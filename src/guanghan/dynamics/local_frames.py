"""Local orbital frames of a state: velocity–normal–binormal (VNB) axes and burn directions in them.

V along the velocity, N along the orbit normal r × v, B = V × N. A burn direction is given by a
pitch angle (from V towards B) and a yaw angle (towards N).

References
    Vallado, *Fundamentals of Astrodynamics and Applications* (4th ed.), §3.3 (NTW/VNB frames).
"""

from __future__ import annotations

import math

import numpy as np


def vnb_axes(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rows: velocity, orbit normal, binormal (V × N) unit vectors."""
    vh = v / np.linalg.norm(v)
    nh = np.cross(r, v)
    nh /= np.linalg.norm(nh)
    return np.array([vh, nh, np.cross(vh, nh)])


def direction_from_angles(axes: np.ndarray, pitch_deg: float, yaw_deg: float) -> np.ndarray:
    """Unit vector at ``pitch`` (towards the binormal) and ``yaw`` (towards the normal) from V."""
    p, y = math.radians(pitch_deg), math.radians(yaw_deg)
    return math.cos(y) * (math.cos(p) * axes[0] + math.sin(p) * axes[2]) + math.sin(y) * axes[1]


def angles_from_direction(axes: np.ndarray, u: np.ndarray) -> tuple[float, float]:
    """Inverse of :func:`direction_from_angles` (deg)."""
    c = axes @ (u / np.linalg.norm(u))
    return math.degrees(math.atan2(c[2], c[0])), math.degrees(math.asin(np.clip(c[1], -1, 1)))
