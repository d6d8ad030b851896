"""Landing-site analysis of a scenario (``guanghan site``): rank the DEM pixels of a lat/lon box
around the planned landing epoch, write the ranking (Parquet) and a map (HTML), and state the DEM's
scale and the flat-area fraction around the scenario's site.

The epoch is the powered-descent start of the scenario's first ``lunar_descent`` phase (else its
timeline's ``powered_descent_start_utc``); the surface stay runs from the timeline's
``touchdown_utc`` to ``ascent_ignition_utc`` when both are given, else
:data:`DEFAULT_STAY_S`. Ranking by :func:`guanghan.gnc.landing_site_ranking.rank_sites` (slope and
roughness at the DEM's scale, Sun over the stay, Earth at the epoch).

Assumptions and limitations
    * DEM-scale figures only (:data:`~guanghan.gnc.landing_site_ranking.SCALE_NOTE`); relay
      visibility for far-side sites is not ranked (the candidates' Earth visibility is reported).
    * "Flat" is a DEM-scale slope below ``flat_slope_deg`` (default 2°, over the ~11 km baseline of
      the 3 × 3-pixel plane): a regional figure for comparing sites, not a landing criterion.

References
    See :mod:`guanghan.gnc.landing_site_ranking` and :mod:`guanghan.environment.lunar_dem`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from guanghan.environment import time_scales
from guanghan.errors import InputError
from guanghan.gnc.landing_site_ranking import SCALE_NOTE, flat_fraction, rank_sites

#: surface stay (s) when the scenario's timeline gives none: two days, as Chang'e-5/6 stayed
DEFAULT_STAY_S = 2 * 86400.0
#: radius (km) of the flat-area fraction around the site (the issue's comparison)
FLAT_RADIUS_KM = 100.0


@dataclass
class SiteReport:
    """The ranking (structured array, best first) and what was written."""

    candidates: np.ndarray
    epoch_utc: str
    stay_s: float
    site_name: str
    site_lat_deg: float
    site_lon_deg: float
    flat_fraction: float
    flat_slope_deg: float
    parquet_path: Path | None
    map_path: Path | None
    scale_note: str = SCALE_NOTE


def _epoch_and_site(scenario):
    phase = next((p for p in scenario.phases if p.type == "lunar_descent"), None)
    tl = scenario.timeline
    if phase is not None:
        utc, site_name = phase.powered_descent_utc, phase.site
    elif "powered_descent_start_utc" in tl:
        utc = tl["powered_descent_start_utc"]
        site_name = next((k for k, s in scenario.sites.items() if s.body == "MOON"), None)
    else:
        raise InputError("has no lunar_descent phase and no timeline powered_descent_start_utc: "
                         "no landing epoch to rank sites for", quantity="scenario",
                         value=scenario.mission.name)
    if site_name is None:
        raise InputError("has no lunar site", quantity="scenario", value=scenario.mission.name)
    return utc, site_name


def site_report(scenario, lat1_deg: float, lat2_deg: float, lon1_deg: float, lon2_deg: float,
                out_dir: str | Path | None = None, flat_slope_deg: float = 2.0) -> SiteReport:
    """Rank the box's DEM pixels for ``scenario``'s landing epoch; write the files to ``out_dir``."""
    utc, site_name = _epoch_and_site(scenario)
    et = time_scales.utc_to_et(utc)
    tl = scenario.timeline
    stay = DEFAULT_STAY_S
    if "touchdown_utc" in tl and "ascent_ignition_utc" in tl:
        stay = float(time_scales.utc_to_et(tl["ascent_ignition_utc"])
                     - time_scales.utc_to_et(tl["touchdown_utc"]))
    ranked = rank_sites(lat1_deg, lat2_deg, lon1_deg, lon2_deg, et, stay_s=max(stay, 0.0))
    site = scenario.sites[site_name]
    flat = flat_fraction(site.lat_deg, site.lon_deg, FLAT_RADIUS_KM, flat_slope_deg)
    rep = SiteReport(ranked, utc, stay, site_name, site.lat_deg, site.lon_deg, flat, flat_slope_deg,
                     None, None)
    if out_dir is not None:
        out = Path(out_dir)
        if out.exists() and not out.is_dir():
            raise InputError("exists and is not a folder", quantity="--out", value=str(out))
        out.mkdir(parents=True, exist_ok=True)
        rep.parquet_path = out / "site_ranking.parquet"
        pq.write_table(_table(rep, scenario), rep.parquet_path)
        rep.map_path = out / "site_ranking.html"
        _map(rep).write_html(rep.map_path, include_plotlyjs=True, full_html=True)
    return rep


def _table(rep: SiteReport, scenario) -> pa.Table:
    c = rep.candidates
    meta = {"scale_note": SCALE_NOTE, "scenario": scenario.mission.name, "epoch_utc": rep.epoch_utc,
            "stay_s": str(rep.stay_s), "site": rep.site_name,
            f"flat_fraction_within_{FLAT_RADIUS_KM:.0f}_km": f"{rep.flat_fraction:.4f}",
            "flat_slope_deg": str(rep.flat_slope_deg),
            "units": "deg, m; score dimensionless (lower is better)"}
    return pa.table({name: c[name] for name in c.dtype.names}).replace_schema_metadata(meta)


def _map(rep: SiteReport):
    import plotly.graph_objects as go

    c = rep.candidates
    fig = go.Figure(go.Scattergl(
        x=c["lon_deg"], y=c["lat_deg"], mode="markers",
        marker=dict(color=np.minimum(c["score"], 10.0), colorscale="Viridis_r", size=6,
                    colorbar=dict(title="score (capped at 10)")),
        text=[f"slope {s:.2f}°, Sun min {m:.1f}°" for s, m in zip(c["slope_deg"],
                                                                  c["sun_elevation_min_deg"])]))
    fig.add_trace(go.Scatter(x=[rep.site_lon_deg], y=[rep.site_lat_deg], mode="markers",
                             name=rep.site_name, marker=dict(symbol="x", size=14, color="red")))
    fig.update_layout(title=f"Candidate sites at {rep.epoch_utc} ({SCALE_NOTE})",
                      xaxis_title="longitude (deg E)", yaxis_title="latitude (deg)")
    return fig
