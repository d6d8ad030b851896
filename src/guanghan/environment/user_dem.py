"""User-supplied lunar DEMs: PDS3 ``.IMG`` + ``.LBL`` (e.g. LROC NAC DTMs, LOLA LDEM) and GeoTIFF.

Both loaders return a :class:`UserDem`: heights (m) over the 1737.4 km sphere (NaN where the file
has no data), the grid geometry (:class:`CylindricalGrid`) giving lat/lon ↔ fractional pixel, and
the pixel size ``resolution_m``.

Supported projections: EQUIRECTANGULAR and SIMPLE CYLINDRICAL (PDS3), and for GeoTIFF the
equidistant cylindrical CRS (``+proj=eqc``) or a geographic (degree) CRS on a lunar sphere. Both
are the same map: ``x = R (λ − λ₀) cos φ₁``, ``y = R φ`` (Snyder 1987 eqs. 12-1, 12-2). Others
(e.g. the polar-stereographic NAC DTMs) raise :class:`TerrainError`; reproject them first
(``gdalwarp -t_srs "+proj=eqc +a=1737400 +b=1737400 +units=m"``).

PDS3 registration (PDS Standards Reference, ch. "Map projection", DSMAP): the projection origin
lies ``SAMPLE_PROJECTION_OFFSET`` samples right of and ``LINE_PROJECTION_OFFSET`` lines below the
*centre* of the first pixel, so for 0-based centre indices ``x = (col − SPO) · scale`` and
``y = (LPO − row) · scale``. LOLA's LDEM_4 satisfies this exactly (its 1440 × 720 grid then spans
0–360° E and 90° N–90° S, as its extent keywords say). Because some exports write the offsets
with a half- or one-pixel shift (GDAL's PDS driver documents this), the loader checks the result
against the label's MAXIMUM_LATITUDE / WESTERNMOST_LONGITUDE when they are present and, if they
disagree by exactly ½ or 1 pixel, re-derives the offsets from those extents (with a warning).

Heights: ``value = DN · SCALING_FACTOR + OFFSET`` (PDS3). When OFFSET is a reference radius
(> 10⁶ m, the LOLA convention where ``HEIGHT = DN · SCALING_FACTOR``) or the values themselves are
radii (median > 10⁶ m), 1 737 400 m is subtracted; otherwise the values are heights over the
label's sphere (A_AXIS_RADIUS, default 1737.4 km) and are re-referenced to 1737.4 km. Missing data:
``MISSING_CONSTANT``/``NULL``/``CORE_NULL`` (also in PDS ``16#…#`` bit-pattern form), and for
real-valued data every ISIS special pixel (≤ −3.0·10³⁸, bit patterns 0xFF7FFFFB–0xFF7FFFFF).

Assumptions and limitations
    * One band only; no map rotation (MAP_PROJECTION_ROTATION must be 0); detached labels, or
      attached labels with ``^IMAGE`` as a record pointer.
    * The sphere of the map is the label's A_AXIS_RADIUS (default 1737.4 km); lunar triaxiality
      is ignored (it is ~1 km and no lunar DEM uses it).
    * Longitudes may be east- or west-positive (POSITIVE_LONGITUDE_DIRECTION); returned ones are
      east-positive in (−180, 180].

References
    * NASA PDS (2009), *Planetary Data System Standards Reference* v3.8: Appendix A (IMAGE and
      IMAGE_MAP_PROJECTION objects), pointer usage, and the DSMAP map-projection catalogue
      (line/sample ↔ x/y).
    * Snyder, J. P. (1987), *Map Projections — A Working Manual*, USGS PP 1395, §12,
      eqs. 12-1, 12-2 (equidistant cylindrical).
    * USGS ISIS documentation, "Special pixels" (NULL = 0xFF7FFFFB … HRS = 0xFF7FFFFF, 32-bit).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from guanghan.environment.geodetic import MOON_MEAN_RADIUS, wrap_longitude_deg
from guanghan.environment import pds3_label as pds3
from guanghan.environment.lunar_dem import TerrainError

_ISIS_SPECIAL_BELOW = -3.0e38       # every ISIS real special pixel is ≈ −3.4028e38
_RADIUS_THRESHOLD_M = 1.0e6


@dataclass(frozen=True)
class CylindricalGrid:
    """Equidistant-cylindrical grid: 0-based pixel-centre indices ↔ planetocentric lat/lon.

    ``x = (col − sample_offset)·scale_x_m``, ``y = (line_offset − row)·scale_y_m``,
    ``lon = center_lon + sign·x / (R cos φ₁)``, ``lat = y / R`` (Snyder eq. 12-1, 12-2).
    """

    radius_m: float
    center_lat_deg: float        # standard parallel φ₁
    center_lon_deg: float        # central meridian λ₀
    scale_x_m: float             # m per pixel east(ing)
    scale_y_m: float             # m per pixel north(ing)
    line_offset: float
    sample_offset: float
    east_positive: bool = True

    def latlon_from_pixel(self, row, col):
        """(lat_deg, lon_deg east in (−180, 180]) of fractional 0-based pixel centres."""
        x = (np.asarray(col, float) - self.sample_offset) * self.scale_x_m
        y = (self.line_offset - np.asarray(row, float)) * self.scale_y_m
        lat = np.rad2deg(y / self.radius_m)
        dlon = np.rad2deg(x / (self.radius_m * np.cos(np.deg2rad(self.center_lat_deg))))
        lon = self.center_lon_deg + (dlon if self.east_positive else -dlon)
        return lat, wrap_longitude_deg(lon)

    def pixel_from_latlon(self, lat_deg, lon_deg):
        """Fractional 0-based (row, col) of points; longitudes taken nearest the central meridian."""
        lat, lon = np.asarray(lat_deg, float), np.asarray(lon_deg, float)
        dlon = np.mod(lon - self.center_lon_deg + 180.0, 360.0) - 180.0
        if not self.east_positive:
            dlon = -dlon
        x = np.deg2rad(dlon) * self.radius_m * np.cos(np.deg2rad(self.center_lat_deg))
        y = np.deg2rad(lat) * self.radius_m
        return self.line_offset - y / self.scale_y_m, self.sample_offset + x / self.scale_x_m


@dataclass(frozen=True)
class UserDem:
    """A DEM read from a user file: heights (m) over the 1737.4 km sphere, NaN where missing."""

    height_m: np.ndarray          # (lines, samples), row 0 = first line of the file
    grid: CylindricalGrid
    resolution_m: float           # pixel size (m); the larger of the two axes
    source: str
    projection: str

    def latlon_from_pixel(self, row, col):
        return self.grid.latlon_from_pixel(row, col)

    def pixel_from_latlon(self, lat_deg, lon_deg):
        return self.grid.pixel_from_latlon(lat_deg, lon_deg)

    @property
    def is_global(self) -> bool:
        """True when the columns span the full 360° of longitude (columns then wrap)."""
        g = self.grid
        turn_px = 2.0 * np.pi * g.radius_m * np.cos(np.deg2rad(g.center_lat_deg)) / g.scale_x_m
        return abs(self.height_m.shape[1] - turn_px) < 0.5

    def height_at(self, lat_deg, lon_deg):
        """Bilinear height (m) at points; NaN outside the grid or next to missing pixels."""
        row, col = self.pixel_from_latlon(lat_deg, lon_deg)
        n_r, n_c = self.height_m.shape
        if self.is_global:
            col = np.mod(col, n_c)
            c0 = np.floor(col).astype(np.int64)
            c1 = np.mod(c0 + 1, n_c)
            in_c = np.ones(np.shape(col), bool)
        else:
            in_c = (col >= 0) & (col <= n_c - 1)
            col = np.clip(col, 0, n_c - 1)
            c0 = np.minimum(np.floor(col).astype(np.int64), max(n_c - 2, 0))
            c1 = np.minimum(c0 + 1, n_c - 1)
        inside = in_c & (row >= 0) & (row <= n_r - 1)
        r = np.clip(row, 0, n_r - 1)
        r0 = np.minimum(np.floor(r).astype(np.int64), max(n_r - 2, 0))
        r1 = np.minimum(r0 + 1, n_r - 1)
        fr, fc = r - r0, col - c0
        h = self.height_m
        v = ((h[r0, c0] * (1 - fc) + h[r0, c1] * fc) * (1 - fr)
             + (h[r1, c0] * (1 - fc) + h[r1, c1] * fc) * fr)
        out = np.where(inside, v, np.nan)
        return float(out) if np.ndim(out) == 0 else out


# --------------------------------------------------------------------------- PDS3 label


def read_pds3(path: str | Path) -> UserDem:
    """Read a PDS3 DEM: ``path`` is the ``.LBL`` (or an ``.IMG`` with a sibling ``.LBL`` or an
    attached label)."""
    path = Path(path)
    if not path.exists():
        raise TerrainError("file not found", field="path", value=str(path))
    label_path = path
    if path.suffix.lower() != ".lbl":
        siblings = [p for p in path.parent.glob(path.stem + ".*") if p.suffix.lower() == ".lbl"]
        label_path = siblings[0] if siblings else path
    with open(label_path, "rb") as fh:
        head = fh.read(1 << 20)
    if b"PDS_VERSION_ID" not in head[:4096] and b"OBJECT" not in head[:65536]:
        raise TerrainError("no PDS3 label found (expected a .LBL next to it or an attached label)",
                           field="path", value=str(path))
    text = head.decode("latin-1")
    if label_path == path and path.suffix.lower() != ".lbl":
        end = re.search(r"^\s*END\s*$", text, flags=re.MULTILINE)
        text = text[:end.end()] if end else text
    label = pds3.parse_label(text)
    top = label[""]
    img = next((d for p, d in label.items() if p.split("/")[-1] == "IMAGE"), None)
    if img is None:
        raise TerrainError("label has no OBJECT = IMAGE", field="label", value=str(label_path))

    def need(key):
        if key not in img:
            raise TerrainError("required keyword missing from the IMAGE object", field=key, value=None)
        return img[key]

    lines, samples = int(pds3.number(need("LINES"))), int(pds3.number(need("LINE_SAMPLES")))
    sample_type = need("SAMPLE_TYPE").strip('"').upper()
    bits = int(pds3.number(need("SAMPLE_BITS")))
    dtype = pds3.SAMPLE_TYPES.get((sample_type, bits))
    if dtype is None:
        raise TerrainError("unsupported SAMPLE_TYPE/SAMPLE_BITS; supported: "
                           f"{sorted(set(pds3.SAMPLE_TYPES))}",
                           field="SAMPLE_TYPE", value=(sample_type, bits))
    if int(pds3.number(img.get("BANDS", "1"))) != 1:
        raise TerrainError("only single-band DEMs are supported", field="BANDS", value=img.get("BANDS"))
    def anywhere(key):
        if key in top:
            return top[key]
        return next((d[key] for d in label.values() if key in d), None)

    record_bytes = int(pds3.number(anywhere("RECORD_BYTES") or "1") or 1)
    pointer = anywhere("^IMAGE")
    if pointer is None:
        raise TerrainError("label has no ^IMAGE pointer", field="^IMAGE", value=None)
    img_path, offset = pds3.pointer(pointer, record_bytes, label_path)
    img_path = pds3.resolve_case(img_path)
    prefix = int(pds3.number(img.get("LINE_PREFIX_BYTES", "0")) or 0)
    suffix = int(pds3.number(img.get("LINE_SUFFIX_BYTES", "0")) or 0)
    itemsize = np.dtype(dtype).itemsize
    row_bytes = prefix + samples * itemsize + suffix
    need_bytes = offset + lines * row_bytes
    size = img_path.stat().st_size
    if size < need_bytes:
        raise TerrainError(f"file holds {size} bytes, label needs {need_bytes} "
                           f"({lines} lines × {samples} samples × {itemsize} B from byte {offset})",
                           field="LINES", value=lines)
    raw = np.fromfile(img_path, dtype=np.uint8, count=lines * row_bytes, offset=offset)
    raw = raw.reshape(lines, row_bytes)[:, prefix:prefix + samples * itemsize]
    dn = raw.copy().view(dtype).reshape(lines, samples).astype(np.float64)

    missing = np.zeros(dn.shape, bool)
    for key in ("MISSING_CONSTANT", "NULL", "CORE_NULL", "MISSING"):
        if key in img:
            missing |= dn == pds3.bits_constant(img[key], sample_type, bits)
    if "REAL" in sample_type:
        missing |= ~np.isfinite(dn) | (dn <= _ISIS_SPECIAL_BELOW)
    scaling = pds3.number(img.get("SCALING_FACTOR")) or 1.0
    offset_v = pds3.number(img.get("OFFSET")) or 0.0
    unit = (img.get("UNIT") or "METER").strip('"').upper()
    to_m = 1e3 if unit.startswith("KILOMET") or unit == "KM" else 1.0
    proj = next((d for p, d in label.items() if p.split("/")[-1] == "IMAGE_MAP_PROJECTION"), {})
    radius_m = (pds3.number(proj.get("A_AXIS_RADIUS")) or MOON_MEAN_RADIUS / 1e3) * 1e3
    values = (dn * scaling + offset_v) * to_m                       # PDS3: DN·SCALING + OFFSET
    if offset_v * to_m > _RADIUS_THRESHOLD_M:
        height = values - MOON_MEAN_RADIUS                          # OFFSET is a radius (LOLA)
    elif np.any(~missing) and np.median(values[~missing]) > _RADIUS_THRESHOLD_M:
        height = values - MOON_MEAN_RADIUS                          # values are radii
    else:
        height = values + (radius_m - MOON_MEAN_RADIUS)             # heights over the label sphere
    height[missing] = np.nan
    grid, projection = _pds_grid(proj, lines, samples, radius_m)
    return UserDem(height, grid, float(max(grid.scale_x_m, grid.scale_y_m)), str(img_path), projection)


def _pds_grid(proj: dict, lines: int, samples: int, radius_m: float):
    ptype = (proj.get("MAP_PROJECTION_TYPE") or "").strip().strip('"').upper()
    if ptype not in ("EQUIRECTANGULAR", "SIMPLE CYLINDRICAL", "SIMPLE_CYLINDRICAL"):
        raise TerrainError("unsupported map projection; supported: EQUIRECTANGULAR, SIMPLE CYLINDRICAL "
                           "(reproject others with gdalwarp)", field="MAP_PROJECTION_TYPE", value=ptype)
    rot = pds3.number(proj.get("MAP_PROJECTION_ROTATION")) or 0.0
    if rot != 0.0:
        raise TerrainError("rotated map projections are not supported", field="MAP_PROJECTION_ROTATION",
                           value=rot)
    lat_c = pds3.number(proj.get("CENTER_LATITUDE")) or 0.0
    lon_c = pds3.number(proj.get("CENTER_LONGITUDE")) or 0.0
    east = (proj.get("POSITIVE_LONGITUDE_DIRECTION") or "EAST").strip('"').upper() != "WEST"
    scale = pds3.number(proj.get("MAP_SCALE"))
    if scale is not None:
        unit = pds3.unit(proj.get("MAP_SCALE"))
        scale *= 1e3 if unit.startswith(("KM", "KILOMET")) else 1.0
    else:
        res = pds3.number(proj.get("MAP_RESOLUTION"))
        if res is None:
            raise TerrainError("label gives neither MAP_SCALE nor MAP_RESOLUTION", field="MAP_SCALE",
                               value=None)
        scale = radius_m * np.deg2rad(1.0) / res
    res = pds3.number(proj.get("MAP_RESOLUTION"))
    if res is not None:                           # pix/deg is exact; MAP_SCALE is often rounded
        scale_from_res = radius_m * np.deg2rad(1.0) / res
        if abs(scale_from_res / scale - 1.0) < 1e-3:
            scale = scale_from_res
    lpo = pds3.number(proj.get("LINE_PROJECTION_OFFSET"))
    spo = pds3.number(proj.get("SAMPLE_PROJECTION_OFFSET"))
    if lpo is None or spo is None:
        raise TerrainError("label lacks LINE/SAMPLE_PROJECTION_OFFSET", field="LINE_PROJECTION_OFFSET",
                           value=(lpo, spo))
    grid = CylindricalGrid(float(radius_m), lat_c, lon_c, float(scale), float(scale), lpo, spo, east)
    grid = _check_extent(grid, proj, lines, samples)
    return grid, ptype


def _is_convention_shift(diff: float) -> bool:
    """A half- or one-pixel disagreement: the known offset conventions, not rounded extents."""
    return any(abs(abs(diff) - k) < 0.02 for k in (0.5, 1.0))


def _check_extent(grid: CylindricalGrid, proj: dict, lines: int, samples: int) -> CylindricalGrid:
    """Compare the offsets with MAXIMUM_LATITUDE / WESTERNMOST_LONGITUDE.

    If an extent disagrees with the offsets by exactly ½ or 1 pixel (a known export convention),
    the offset is re-derived from the extent, with a warning; other disagreements (extents
    rounded in the label) leave the PDS3-standard reading unchanged.
    """
    lat_max = pds3.number(proj.get("MAXIMUM_LATITUDE"))
    west = pds3.number(proj.get("WESTERNMOST_LONGITUDE"))
    new_lpo, new_spo = grid.line_offset, grid.sample_offset
    if lat_max is not None:
        # Top edge of row 0 (row −0.5) lies at MAXIMUM_LATITUDE: (lpo + ½)·scale = R φ_max.
        lpo = np.deg2rad(lat_max) * grid.radius_m / grid.scale_y_m - 0.5
        if _is_convention_shift(lpo - grid.line_offset):
            new_lpo = float(lpo)
    if west is not None:
        sign = 1.0 if grid.east_positive else -1.0
        dlon = sign * (west - grid.center_lon_deg)
        x_w = np.deg2rad(dlon) * grid.radius_m * np.cos(np.deg2rad(grid.center_lat_deg))
        # Left edge of column 0 (col −0.5) lies at x_w: (−½ − spo)·scale = x_w; modulo a full turn.
        spo = -0.5 - x_w / grid.scale_x_m
        turn = 2.0 * np.pi * grid.radius_m * np.cos(np.deg2rad(grid.center_lat_deg)) / grid.scale_x_m
        diff = spo - grid.sample_offset
        diff -= turn * np.round(diff / turn)
        if _is_convention_shift(diff):
            new_spo = float(grid.sample_offset + diff)
    if (new_lpo, new_spo) != (grid.line_offset, grid.sample_offset):
        warnings.warn(f"PDS projection offsets (line {grid.line_offset}, sample {grid.sample_offset}) "
                      f"disagree with the label's extent by a known half/one-pixel convention; "
                      f"using ({new_lpo:.3f}, {new_spo:.3f})", stacklevel=3)
        grid = CylindricalGrid(grid.radius_m, grid.center_lat_deg, grid.center_lon_deg, grid.scale_x_m,
                               grid.scale_y_m, new_lpo, new_spo, grid.east_positive)
    return grid


# --------------------------------------------------------------------------- GeoTIFF


def read_geotiff(path: str | Path, band: int = 1) -> UserDem:
    """Read a lunar GeoTIFF DEM (eqc or geographic CRS on a sphere) through ``rasterio``."""
    try:
        import rasterio
    except ImportError:
        raise TerrainError("reading GeoTIFF needs rasterio: pip install rasterio", field="path",
                           value=str(path)) from None
    path = Path(path)
    if not path.exists():
        raise TerrainError("file not found", field="path", value=str(path))
    with rasterio.open(path) as ds:
        data = ds.read(band).astype(np.float64)
        nodata = ds.nodata
        t = ds.transform
        crs = ds.crs
        scales = ds.scales[band - 1] if ds.scales else 1.0
        offsets = ds.offsets[band - 1] if ds.offsets else 0.0
    if t.b != 0 or t.d != 0:
        raise TerrainError("rotated geotransforms are not supported", field="transform", value=tuple(t)[:6])
    if crs is None:
        raise TerrainError("GeoTIFF has no CRS", field="crs", value=None)
    params = crs.to_dict()
    radius_m = float(params.get("a") or params.get("R") or MOON_MEAN_RADIUS)
    if radius_m < 1.0e6 or radius_m > 2.0e6:
        raise TerrainError("CRS sphere is not lunar (expected ~1737400 m)", field="crs a", value=radius_m)
    missing = ~np.isfinite(data) | (data <= _ISIS_SPECIAL_BELOW)
    if nodata is not None:
        missing |= data == nodata
    values = data * (scales or 1.0) + (offsets or 0.0)
    if np.any(~missing) and np.median(values[~missing]) > _RADIUS_THRESHOLD_M:
        values = values - MOON_MEAN_RADIUS
    else:
        values = values + (radius_m - MOON_MEAN_RADIUS)
    values[missing] = np.nan
    # GDAL affine maps (col, row) of pixel corners: centre of 0-based col c is c0 + (c + ½)·a.
    if crs.is_geographic:
        m_per_deg = radius_m * np.deg2rad(1.0)
        sx, sy = t.a * m_per_deg, -t.e * m_per_deg
        x0, y0 = t.c * m_per_deg, t.f * m_per_deg
        lat_ts, lon0, projection = 0.0, 0.0, "GEOGRAPHIC"
    elif params.get("proj") == "eqc":
        lat_ts, lon0 = float(params.get("lat_ts", 0.0)), float(params.get("lon_0", 0.0))
        sx, sy, x0, y0 = t.a, -t.e, t.c, t.f
        x0 -= float(params.get("x_0", 0.0))
        y0 -= float(params.get("y_0", 0.0))
        projection = "EQUIRECTANGULAR"
    else:
        raise TerrainError("unsupported CRS; supported: +proj=eqc or geographic (reproject with gdalwarp)",
                           field="crs", value=crs.to_string())
    grid = CylindricalGrid(radius_m, lat_ts, lon0, float(sx), float(sy),
                           line_offset=float(y0 / sy - 0.5), sample_offset=float(-x0 / sx - 0.5))
    return UserDem(values, grid, float(max(abs(sx), abs(sy))), str(path), projection)


def read_dem(path: str | Path) -> UserDem:
    """Read a user DEM by extension: ``.tif``/``.tiff`` → GeoTIFF, otherwise PDS3."""
    suffix = Path(path).suffix.lower()
    return read_geotiff(path) if suffix in (".tif", ".tiff") else read_pds3(path)
