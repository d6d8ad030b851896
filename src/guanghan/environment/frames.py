"""Reference frames: rotations and full-state transformations between inertial and body-fixed frames.

Frames (SPICE names):
    * ``J2000`` — the ICRF-aligned inertial frame of DE440 (axes; the origin is set by the state's body);
    * ``MOON_PA`` — lunar principal axes of DE440 (binary PCK ``moon_pa_de440_200625.bpc``); the frame
      of the GRAIL and LP gravity fields;
    * ``MOON_ME`` — lunar mean-Earth/polar-axis frame of DE440 (frames kernel
      ``moon_de440_220930.tf``); the frame of lunar maps, LOLA topography and landing-site coordinates;
    * ``ITRF93`` — Earth body-fixed, from the NAIF Earth orientation kernels (measured EOP history and
      long-term prediction).

Velocities transform with the full 6×6 state matrix (``sxform``), so body-fixed velocities are
relative to the rotating frame.

Assumptions and limitations
    Transformations are geometric: no light time, no aberration.

References
    NAIF, "Frames Required Reading"; Archinal, B. A. et al. (2018), "Report of the IAU Working Group
    on Cartographic Coordinates and Rotational Elements: 2015", Celest. Mech. Dyn. Astron. 130:22.
"""

from __future__ import annotations

import numpy as np

from guanghan.environment import spice_kernels

INERTIAL_FRAMES = ("J2000",)
BODY_FIXED_FRAMES = {"MOON_PA": "MOON", "MOON_ME": "MOON", "ITRF93": "EARTH", "IAU_EARTH": "EARTH",
                     "IAU_MOON": "MOON"}
KNOWN_FRAMES = INERTIAL_FRAMES + tuple(BODY_FIXED_FRAMES)

#: Body-fixed frame used for coordinates (lat/lon/alt) of each body.
COORDINATE_FRAME = {"MOON": "MOON_ME", "EARTH": "ITRF93"}


def check_frame(frame: str) -> str:
    """Return ``frame`` if Guanghan knows it, else raise ``ValueError`` listing the known frames."""
    if frame not in KNOWN_FRAMES:
        raise ValueError(f"unknown frame {frame!r}; known frames: {', '.join(KNOWN_FRAMES)}")
    return frame


def rotation(frame_from: str, frame_to: str, ets) -> np.ndarray:
    """Rotation matrices (n, 3, 3) taking components in ``frame_from`` to ``frame_to`` at ``ets`` (s)."""
    check_frame(frame_from), check_frame(frame_to)
    return spice_kernels.rotation_matrices(frame_from, frame_to, ets)


def state_transform(frame_from: str, frame_to: str, ets) -> np.ndarray:
    """6×6 state matrices (n, 6, 6) from ``frame_from`` to ``frame_to`` at ``ets`` (s)."""
    check_frame(frame_from), check_frame(frame_to)
    return spice_kernels.state_transforms(frame_from, frame_to, ets)


def transform_positions(r: np.ndarray, frame_from: str, frame_to: str, ets) -> np.ndarray:
    """Positions (n, 3) expressed in ``frame_from`` re-expressed in ``frame_to`` (same origin)."""
    r = np.atleast_2d(r)
    if frame_from == frame_to:
        return r.copy()
    rot = rotation(frame_from, frame_to, ets)
    return np.einsum("nij,nj->ni", rot, r) if rot.shape[0] == r.shape[0] else r @ rot[0].T


def transform_states(x: np.ndarray, frame_from: str, frame_to: str, ets) -> np.ndarray:
    """States (n, 6) (m, m/s) in ``frame_from`` re-expressed in ``frame_to`` (same origin).

    Between an inertial and a rotating frame the velocity picks up the ω × r term (``sxform``).
    """
    x = np.atleast_2d(x)
    if frame_from == frame_to:
        return x.copy()
    mat = state_transform(frame_from, frame_to, ets)
    return np.einsum("nij,nj->ni", mat, x) if mat.shape[0] == x.shape[0] else x @ mat[0].T
