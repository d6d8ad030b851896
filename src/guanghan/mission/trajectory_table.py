"""Sampled trajectories as Arrow tables with the columns reports and users need.

Columns: ``et_s`` (TDB s past J2000), ``utc``, ``phase``, ``frame``, ``body``, ``x_m``…``vz_m_s``
(body-centred, J2000 axes), ``mass_kg``, ``lat_deg``/``lon_deg``/``altitude_km`` (planetocentric
over the mean sphere in MOON_ME for the Moon; planetodetic in ITRF93 for the Earth) and ``sunlit``
(visible fraction of the Sun's disc, conical shadow of the Moon and the Earth).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from guanghan.dynamics.forces import shadow_fraction
from guanghan.environment import frames, geodetic, spice_kernels, time_scales

SCHEMA = pa.schema([
    ("et_s", pa.float64()), ("utc", pa.string()), ("phase", pa.string()), ("frame", pa.string()),
    ("body", pa.string()), ("x_m", pa.float64()), ("y_m", pa.float64()), ("z_m", pa.float64()),
    ("vx_m_s", pa.float64()), ("vy_m_s", pa.float64()), ("vz_m_s", pa.float64()),
    ("mass_kg", pa.float64()), ("lat_deg", pa.float64()), ("lon_deg", pa.float64()),
    ("altitude_km", pa.float64()), ("sunlit", pa.float64()),
])


def surface_coordinates(body: str, ets: np.ndarray, r_j2000: np.ndarray):
    """(lat_deg, lon_deg, altitude_km) of J2000 body-centred positions (m) at ``ets``."""
    frame = frames.COORDINATE_FRAME[body]
    rot = frames.rotation("J2000", frame, ets)
    r_bf = np.einsum("nij,nj->ni", rot, r_j2000)
    if body == "EARTH":
        lat, lon, h = geodetic.planetodetic_from_cartesian(r_bf)
    else:
        lat, lon, rad = geodetic.planetocentric_from_cartesian(r_bf)
        h = rad - float(spice_kernels.radii(body).mean())
    return np.degrees(lat), geodetic.wrap_longitude_deg(np.degrees(lon)), h / 1e3


def sunlit_fraction(body: str, ets: np.ndarray, r_j2000: np.ndarray) -> np.ndarray:
    """Visible fraction of the solar disc for body-centred J2000 positions, Moon and Earth occulting."""
    sun = spice_kernels.body_positions("SUN", body, "J2000", ets)
    others = [b for b in ("MOON", "EARTH") if b != body]
    occ = {b: spice_kernels.body_positions(b, body, "J2000", ets) for b in others}
    radius = {b: float(spice_kernels.radii(b).mean()) for b in ("MOON", "EARTH")}
    out = np.empty(len(ets))
    zero = np.zeros(3)
    for i in range(len(ets)):
        nu = shadow_fraction(r_j2000[i], sun[i], zero, radius[body])
        for b in others:
            nu = min(nu, shadow_fraction(r_j2000[i], sun[i], occ[b][i], radius[b]))
        out[i] = nu
    return out


def build_table(phase: str, body: str, ets: np.ndarray, states: np.ndarray) -> pa.Table:
    """Arrow table of sampled states (n, 7) at ``ets`` (ET s) for one phase."""
    lat, lon, alt = surface_coordinates(body, ets, states[:, :3])
    n = len(ets)
    cols = {
        "et_s": ets, "utc": time_scales.et_to_utc(ets), "phase": [phase] * n, "frame": ["J2000"] * n,
        "body": [body] * n, "x_m": states[:, 0], "y_m": states[:, 1], "z_m": states[:, 2],
        "vx_m_s": states[:, 3], "vy_m_s": states[:, 4], "vz_m_s": states[:, 5], "mass_kg": states[:, 6],
        "lat_deg": lat, "lon_deg": lon, "altitude_km": alt, "sunlit": sunlit_fraction(body, ets, states[:, :3]),
    }
    return pa.table(cols, schema=SCHEMA)
