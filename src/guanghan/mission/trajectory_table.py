"""Sampled trajectories as Arrow tables with the columns reports and users need.

Columns: ``et_s`` (TDB s past J2000), ``utc`` (ISO text) and ``epoch`` (UTC timestamp, ns),
``phase``, ``segment`` (a counter that changes with the phase or the central body, so a change of
centre is not read as a jump in one series), ``frame``, ``body``, ``x_m``…``vz_m_s``
(body-centred, J2000 axes), ``mass_kg``, ``lat_deg``/``lon_deg``/``altitude_km`` (planetocentric
over the mean sphere in MOON_ME for the Moon; planetodetic in ITRF93 for the Earth) and ``sunlit``
(visible fraction of the Sun's disc, conical shadow of the Moon and the Earth).
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from guanghan.dynamics.eclipse import sunlit_fractions
from guanghan.environment import frames, geodetic, spice_kernels, time_scales

_UNITS = {"et_s": "s (TDB past J2000)", "x_m": "m", "y_m": "m", "z_m": "m", "vx_m_s": "m/s",
          "vy_m_s": "m/s", "vz_m_s": "m/s", "mass_kg": "kg", "lat_deg": "deg", "lon_deg": "deg",
          "altitude_km": "km", "sunlit": "fraction of the solar disc"}
SCHEMA = pa.schema([
    ("et_s", pa.float64()), ("utc", pa.string()), ("epoch", pa.timestamp("ns", tz="UTC")),
    ("phase", pa.string()), ("segment", pa.int32()), ("frame", pa.string()),
    ("body", pa.string()), ("x_m", pa.float64()), ("y_m", pa.float64()), ("z_m", pa.float64()),
    ("vx_m_s", pa.float64()), ("vy_m_s", pa.float64()), ("vz_m_s", pa.float64()),
    ("mass_kg", pa.float64()), ("lat_deg", pa.float64()), ("lon_deg", pa.float64()),
    ("altitude_km", pa.float64()), ("sunlit", pa.float64()),
], metadata={"units": json.dumps(_UNITS), "frame": "J2000 axes, origin the row's `body`",
             "coordinates": "lat/lon/altitude: planetocentric over the mean sphere (MOON_ME) for the "
                            "Moon, planetodetic (ITRF93) for the Earth; longitudes east-positive",
             "time_scales": "et_s TDB; utc and epoch UTC"})


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
    """Visible fraction of the solar disc for body-centred J2000 positions, Moon and Earth occulting.

    The central body occults as a sphere no larger than the one through the point (a lander below
    the mean radius is not "inside" the Moon): on the surface the Sun is then seen above the local
    horizontal plane, half its disc when its centre is on it."""
    sun = spice_kernels.body_positions("SUN", body, "J2000", ets)
    others = [b for b in ("MOON", "EARTH") if b != body]
    occ = np.array([spice_kernels.body_positions(b, body, "J2000", ets) for b in others]).reshape(len(others), -1, 3)
    radius = {b: float(spice_kernels.radii(b).mean()) for b in ("MOON", "EARTH")}
    r = np.ascontiguousarray(r_j2000, dtype=float)
    own = np.minimum(radius[body], (1.0 - 1e-9) * np.linalg.norm(r, axis=1))
    return sunlit_fractions(r, np.ascontiguousarray(sun), own, np.ascontiguousarray(occ),
                            np.array([radius[b] for b in others]))


def build_table(phase: str, body: str, ets: np.ndarray, states: np.ndarray) -> pa.Table:
    """Arrow table of sampled states (n, 7) at ``ets`` (ET s) for one phase."""
    lat, lon, alt = surface_coordinates(body, ets, states[:, :3])
    n = len(ets)
    utc = time_scales.et_to_utc(ets)
    cols = {
        "et_s": ets, "utc": utc, "epoch": utc_timestamps(utc), "phase": [phase] * n,
        "segment": np.zeros(n, np.int32), "frame": ["J2000"] * n,
        "body": [body] * n, "x_m": states[:, 0], "y_m": states[:, 1], "z_m": states[:, 2],
        "vx_m_s": states[:, 3], "vy_m_s": states[:, 4], "vz_m_s": states[:, 5], "mass_kg": states[:, 6],
        "lat_deg": lat, "lon_deg": lon, "altitude_km": alt, "sunlit": sunlit_fraction(body, ets, states[:, :3]),
    }
    return pa.table(cols, schema=SCHEMA)


def utc_timestamps(utc: list[str]) -> pa.Array:
    """UTC timestamps (ns) of ISO texts; a leap second ``:60.x`` is shown as ``:59.x`` (timestamps have no leap seconds)."""
    text = [u.replace(":60.", ":59.") if ":60." in u else u for u in utc]
    return pa.array(np.array([t.rstrip("Z") for t in text], dtype="datetime64[ns]"),
                    pa.timestamp("ns", tz="UTC"))


def with_segments(table: pa.Table) -> pa.Table:
    """``table`` with ``segment`` numbered 0, 1, ... along the rows, a new segment wherever the
    phase or the central body changes from the row before."""
    if table.num_rows == 0:
        return table
    phase = table.column("phase").to_numpy(zero_copy_only=False)
    body = table.column("body").to_numpy(zero_copy_only=False)
    change = np.r_[False, (phase[1:] != phase[:-1]) | (body[1:] != body[:-1])]
    seg = pa.array(np.cumsum(change).astype(np.int32))
    return table.set_column(table.schema.get_field_index("segment"), "segment", seg)


def leg_table(phase: str, traj, step_s: float) -> pa.Table:
    """A propagated leg (:class:`~guanghan.dynamics.trajectory.Trajectory`) sampled every
    ``step_s`` (s) as a table; near the Moon at most 60 s apart, so low orbits keep their shape."""
    step = min(step_s, 60.0) if traj.body == "MOON" else step_s
    ets, states = traj.sample(step)
    return build_table(phase, traj.body, ets, states)


def burn_record(burn) -> dict:
    """A finite burn as a JSON-ready record for a leg's metadata (UTC start, s, N, s, direction)."""
    return {"start_utc": time_scales.et_to_utc(burn.start_et), "duration_s": float(burn.duration_s),
            "thrust_n": float(burn.thrust_n), "isp_s": float(burn.isp_s), "direction": burn.direction}
