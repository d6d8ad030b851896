"""Statistics of a Monte Carlo campaign: success probabilities with confidence intervals, overall
and per leg, percentiles of every summary figure, landing dispersion ellipses, failure counts and
propellant margins.

Every function reads the campaign's samples table (``pyarrow.Table``, one row per sample): the
bookkeeping columns ``index``, ``seed``, ``outcome`` ("completed", "failed", "invalid", "timeout"
or "error"), ``failed_leg`` (phase name or null), ``reason`` and ``wall_s``; the dispersed inputs
``input:<path>``; and the summary figures ``<group>.<name>`` (null where a sample did not produce
one). The campaign's description is JSON under the schema metadata key ``b"campaign"``
(:func:`campaign_metadata`).

Assumptions and limitations
- The samples are independent draws of one scenario distribution, so successes are binomial; the
  intervals bound the success probability *of that distribution*, not of the real mission.
- "invalid" samples (dispersed inputs the scenario or a leg refused) never flew: they are counted
  but left out of every probability. All other outcomes are flights; "timeout" and "error" are
  failures like "failed".
- Per-leg probabilities are conditional on reaching the leg. A failure whose ``failed_leg`` is null
  or not one of the campaign's legs is "unlocated": it counts against the overall probability only
  and is left out of every leg's row, so the product of the leg probabilities equals the overall
  one exactly when no failure is unlocated.
- Percentiles interpolate linearly between order statistics (numpy's default, definition 7 of
  Hyndman & Fan 1996); NaN and ±inf values are left out of the statistics and counted.
- The dispersion ellipse assumes landing points scatter as a 2-D Gaussian in the local tangent
  plane and plugs in the sample mean and covariance; it is a coverage region for the points, not a
  tolerance region, so with few samples it covers less than its nominal probability (no Hotelling
  T² correction). The body is a sphere of the given radius.

References
- Wilson, E. B. (1927), "Probable inference, the law of succession, and statistical inference",
  J. Am. Stat. Assoc. 22(158), 209-212.
- Agresti, A. & Coull, B. A. (1998), "Approximate is better than 'exact' for interval estimation
  of binomial proportions", Am. Stat. 52(2), 119-126.
- Clopper, C. J. & Pearson, E. S. (1934), "The use of confidence or fiducial limits illustrated in
  the case of the binomial", Biometrika 26(4), 404-413; as beta quantiles: Brown, L. D., Cai, T. T.
  & DasGupta, A. (2001), "Interval estimation for a binomial proportion", Stat. Sci. 16(2), 101-133.
- Newcombe, R. G. (1998), Stat. Med. 17, 857-872, Table I: worked examples used by the tests.
- Johnson, R. A. & Wichern, D. W. (2007), Applied Multivariate Statistical Analysis, 6th ed.,
  §4.2 and Result 4.7: (x-μ)ᵀΣ⁻¹(x-μ) of a p-variate Gaussian is χ²_p, so its probability-α contour
  is the ellipse with semi-axes √(χ²_p(α) λᵢ) along the eigenvectors of Σ.
- Snyder, J. P. (1987), Map Projections - A Working Manual, USGS Prof. Paper 1395, §25 (azimuthal
  equidistant projection, sphere).
- Hyndman, R. J. & Fan, Y. (1996), "Sample quantiles in statistical packages", Am. Stat. 50(4),
  361-365.
- Spearman, C. (1904), "The proof and measurement of association between two things", Am. J.
  Psychol. 15(1), 72-101 (rank correlation).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from guanghan.environment.constants import EARTH_MEAN_RADIUS
from guanghan.environment.geodetic import MOON_MEAN_RADIUS
from guanghan.errors import InputError

__all__ = ["BODY_RADIUS_M", "OUTCOMES", "LandingEllipse", "campaign_metadata",
           "clopper_pearson_interval", "dispersion_ellipse", "failure_table", "figure_columns",
           "figure_statistics", "leg_success", "local_east_north_m", "local_lat_lon_deg",
           "propellant_margins", "proportion_interval", "rank_correlations", "wilson_interval"]

OUTCOMES = ("completed", "failed", "invalid", "timeout", "error")
BOOKKEEPING = ("index", "seed", "outcome", "failed_leg", "reason", "wall_s")
BODY_RADIUS_M = {"MOON": MOON_MEAN_RADIUS, "EARTH": EARTH_MEAN_RADIUS}  # mean radii (m)
PERCENTILES = (1, 5, 50, 95, 99)
_NUMBER = re.compile(r"(?<![\w.\-])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?!\w)")


def campaign_metadata(table: pa.Table) -> dict:
    """The campaign's description from the schema metadata key ``b"campaign"`` ({} when absent)."""
    raw = (table.schema.metadata or {}).get(b"campaign")
    return json.loads(raw) if raw else {}


# --------------------------------------------------------------------------- proportions

def _check_counts(successes, n, confidence) -> tuple[int, int]:
    if int(n) != n or n < 0:
        raise InputError("must be a whole number ≥ 0", quantity="n", value=n)
    if int(successes) != successes or not 0 <= successes <= n:
        raise InputError(f"must be a whole number from 0 to n = {n}", quantity="successes",
                         value=successes)
    if not 0.0 < confidence < 1.0:
        raise InputError("must lie strictly between 0 and 1", quantity="confidence",
                         value=confidence, limit=(0.0, 1.0))
    return int(successes), int(n)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (low, high) of a binomial probability from ``successes`` of ``n``.

    The set of p that a two-sided score test at level 1 - confidence does not reject (Wilson 1927;
    recommended by Agresti & Coull 1998). n = 0 gives (nan, nan): no trial, no information.
    """
    x, n = _check_counts(successes, n, confidence)
    if n == 0:
        return (float("nan"), float("nan"))
    z = stats.norm.ppf(0.5 + 0.5 * confidence)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)  # score interval closed form (A&C 1998)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if x == 0 else max(0.0, centre - half)
    high = 1.0 if x == n else min(1.0, centre + half)
    return (float(low), float(high))


def clopper_pearson_interval(successes: int, n: int,
                             confidence: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson ("exact") interval (low, high): beta quantiles B(α/2; x, n-x+1) and
    B(1-α/2; x+1, n-x), α = 1 - confidence (Clopper & Pearson 1934; Brown, Cai & DasGupta 2001);
    0 when x = 0 and 1 when x = n. Coverage is at least the nominal one. n = 0 gives (nan, nan)."""
    x, n = _check_counts(successes, n, confidence)
    if n == 0:
        return (float("nan"), float("nan"))
    alpha = 1.0 - confidence
    low = 0.0 if x == 0 else stats.beta.ppf(alpha / 2, x, n - x + 1)
    high = 1.0 if x == n else stats.beta.ppf(1 - alpha / 2, x + 1, n - x)
    return (float(low), float(high))


def proportion_interval(successes: int, n: int, confidence: float = 0.95,
                        method: str = "wilson") -> tuple[float, float]:
    """Interval by ``method``: "wilson" (default) or "clopper-pearson"."""
    methods = {"wilson": wilson_interval, "clopper-pearson": clopper_pearson_interval}
    if method not in methods:
        raise InputError(f"is not one of {sorted(methods)}", quantity="method", value=method)
    return methods[method](successes, n, confidence)


# --------------------------------------------------------------------------- success by leg

def _strings(table: pa.Table, name: str) -> list:
    if name not in table.column_names:
        return [None] * table.num_rows
    return table.column(name).to_pylist()


def _outcomes(table: pa.Table) -> np.ndarray:
    if "outcome" not in table.column_names:
        raise InputError("the samples table has no 'outcome' column", quantity="outcome")
    out = np.array(table.column("outcome").to_pylist(), dtype=object)
    unknown = sorted({str(o) for o in out} - set(OUTCOMES))
    if unknown:
        raise InputError(f"outcomes must be among {list(OUTCOMES)}", quantity="outcome",
                         value=unknown[0])
    return out


def leg_success(table: pa.Table, legs: list[str] | None = None, confidence: float = 0.95,
                method: str = "wilson") -> list[dict]:
    """Success of each leg in flight order, then of the whole mission, as dicts.

    ``legs`` are the phase names in order (default: the metadata's ``legs``; ``[]`` gives the
    overall row alone). Of the *flown*
    samples (every outcome but "invalid"), leg i is **reached** by those whose failure is not in
    legs 0..i-1, leaving out unlocated failures (null ``failed_leg`` or a name not in ``legs``);
    it **succeeded** for those reached whose failure is not leg i ("failed", "timeout" and "error"
    alike). ``probability`` = succeeded / reached (nan when none reached), the conditional
    probability of flying leg i given that it started, with its ``interval`` (low, high) by
    ``method`` at ``confidence``. The last row, ``leg = "overall"``, is completed / flown and also
    carries ``unlocated`` and ``invalid`` counts. Keys: leg, leg_type, reached, succeeded, failed,
    probability, interval.
    """
    meta = campaign_metadata(table)
    if legs is None:
        legs = list(meta.get("legs") or [])
        if not legs:
            raise InputError("none given and none in the table's campaign metadata; pass legs=[] "
                             "for the overall row alone", quantity="legs")
    leg_types = meta.get("leg_types") or {}
    outcome = _outcomes(table)
    failed_leg = np.array([str(v) if v is not None else "" for v in _strings(table, "failed_leg")],
                          dtype=object)
    flown = outcome != "invalid"
    failure = flown & (outcome != "completed")
    position = {name: i for i, name in enumerate(legs)}
    where = np.array([position.get(f, -1) for f in failed_leg], dtype=int)  # -1: unlocated
    unlocated = failure & (where < 0)
    rows = []
    for i, name in enumerate(legs):
        reached = flown & ~(failure & (where < i))  # unlocated failures (-1) reach no leg
        failed = int(np.sum(reached & failure & (where == i)))
        rows.append(_row(name, leg_types.get(name, ""), int(reached.sum()), failed, confidence,
                         method))
    overall = _row("overall", "", int(flown.sum()), int(failure.sum()), confidence, method)
    overall.update(unlocated=int(unlocated.sum()), invalid=int((~flown).sum()))
    return rows + [overall]


def _row(leg, leg_type, reached, failed, confidence, method) -> dict:
    succeeded = reached - failed
    return {"leg": leg, "leg_type": leg_type, "reached": reached, "succeeded": succeeded,
            "failed": failed, "probability": succeeded / reached if reached else float("nan"),
            "interval": proportion_interval(succeeded, reached, confidence, method)}


# --------------------------------------------------------------------------- figures

def figure_columns(table: pa.Table) -> list[str]:
    """Summary-figure columns that hold numbers: named ``<group>.<name>``, not ``input:``, of
    integer, floating, boolean (read as 0/1) or null type (no sample produced the figure)."""
    def numeric(t):
        return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) \
            or pa.types.is_null(t)
    return [f.name for f in table.schema if "." in f.name and not f.name.startswith("input:")
            and f.name not in BOOKKEEPING and numeric(f.type)]


def _floats(table: pa.Table, name: str) -> np.ndarray:
    """The column as float64 with NaN for null (booleans as 0/1)."""
    return np.asarray(pc.cast(table.column(name), pa.float64()).to_numpy(zero_copy_only=False),
                      dtype=np.float64)


def _describe(values: np.ndarray) -> dict:
    finite = values[np.isfinite(values)]
    row = {"count": int(finite.size), "non_finite": int(np.sum(np.isinf(values)))}
    nan = float("nan")
    row["mean"] = float(finite.mean()) if finite.size else nan
    row["std"] = float(finite.std(ddof=1)) if finite.size > 1 else nan  # sample std, n - 1
    row["min"] = float(finite.min()) if finite.size else nan
    pct = np.percentile(finite, PERCENTILES) if finite.size else [nan] * len(PERCENTILES)
    row.update({f"p{p}": float(v) for p, v in zip(PERCENTILES, pct)})  # Hyndman & Fan def. 7
    row["max"] = float(finite.max()) if finite.size else nan
    return row


def figure_statistics(table: pa.Table) -> list[dict]:
    """For every :func:`figure_columns` column, over the samples that produced it (whatever their
    outcome): figure, count (finite values), non_finite (±inf, left out), mean, std (n - 1), min,
    p1, p5, p50, p95, p99, max, in the figure's own unit; nan where count is too small."""
    return [{"figure": name, **_describe(_floats(table, name))} for name in figure_columns(table)]


def propellant_margins(table: pa.Table) -> list[dict]:
    """For each ``*propellant_margin_kg`` column: figure, count, min, p1, p5, median (kg),
    negative (samples with a margin below 0 kg) and fraction_negative (of count; nan when 0)."""
    rows = []
    for name in (c for c in figure_columns(table) if c.endswith("propellant_margin_kg")):
        values = _floats(table, name)
        d = _describe(values)
        negative = int(np.sum(values[np.isfinite(values)] < 0.0))
        rows.append({"figure": name, "count": d["count"], "min": d["min"], "p1": d["p1"],
                     "p5": d["p5"], "median": d["p50"], "negative": negative,
                     "fraction_negative": negative / d["count"] if d["count"] else float("nan")})
    return rows


def rank_correlations(table: pa.Table, figure: str) -> list[dict]:
    """Spearman rank correlation (Spearman 1904) of each numeric ``input:`` column with ``figure``
    over the samples that have both: input, n, rho (nan when n < 3 or either is constant). Choice
    (string) inputs get rho nan. Sorted by |rho|, largest first, nan last."""
    y = _floats(table, figure)
    rows = []
    for f in table.schema:
        if not f.name.startswith("input:"):
            continue
        rho, n = float("nan"), 0
        if pa.types.is_integer(f.type) or pa.types.is_floating(f.type):
            x = _floats(table, f.name)
            ok = np.isfinite(x) & np.isfinite(y)
            n = int(ok.sum())
            if n >= 3 and np.ptp(x[ok]) > 0 and np.ptp(y[ok]) > 0:
                rho = float(stats.spearmanr(x[ok], y[ok]).statistic)
        rows.append({"input": f.name, "n": n, "rho": rho})
    return sorted(rows, key=lambda r: (np.isnan(r["rho"]), -abs(np.nan_to_num(r["rho"]))))


# --------------------------------------------------------------------------- landing dispersion

def _unit(lat_deg, lon_deg) -> np.ndarray:
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def _east_north_up(lat0_deg, lon0_deg):
    lat0, lon0 = np.radians(lat0_deg), np.radians(lon0_deg)
    east = np.array([-np.sin(lon0), np.cos(lon0), 0.0])
    north = np.array([-np.sin(lat0) * np.cos(lon0), -np.sin(lat0) * np.sin(lon0), np.cos(lat0)])
    return east, north, _unit(lat0_deg, lon0_deg)


def local_east_north_m(lat_deg, lon_deg, lat0_deg, lon0_deg, radius_m):
    """East and north (m) of points (deg) in the azimuthal equidistant projection about
    (lat0, lon0) on a sphere of ``radius_m``: true great-circle distance and azimuth from the
    centre are kept (Snyder 1987, §25: x = R k' cos φ sin Δλ, y = R k' (cos φ₀ sin φ - sin φ₀ cos φ
    cos Δλ), k' = c / sin c); the central angle c is taken by atan2, exact for small c."""
    east, north, up = _east_north_up(lat0_deg, lon0_deg)
    u = _unit(np.asarray(lat_deg, float), np.asarray(lon_deg, float))
    x, y = u @ east, u @ north
    sin_c = np.hypot(x, y)
    c = np.arctan2(sin_c, u @ up)
    k = np.where(sin_c > 0, c / np.where(sin_c > 0, sin_c, 1.0), 1.0)
    return radius_m * k * x, radius_m * k * y


def local_lat_lon_deg(east_m, north_m, lat0_deg, lon0_deg, radius_m):
    """Inverse of :func:`local_east_north_m`: the point at distance ρ = hypot(e, n) and azimuth
    atan2(e, n) from the centre along the great circle (c = ρ / R, Snyder 1987 §25); (lat, lon) deg,
    lon in (-180, 180]."""
    east, north, up = _east_north_up(lat0_deg, lon0_deg)
    e, n = np.asarray(east_m, float), np.asarray(north_m, float)
    rho = np.hypot(e, n)
    c = rho / radius_m
    safe = np.where(rho > 0, rho, 1.0)
    u = (np.cos(c)[..., None] * up + (np.sin(c) * e / safe)[..., None] * east
         + (np.sin(c) * n / safe)[..., None] * north)
    lat = np.degrees(np.arctan2(u[..., 2], np.hypot(u[..., 0], u[..., 1])))
    return lat, np.degrees(np.arctan2(u[..., 1], u[..., 0]))


@dataclass(frozen=True, eq=False)
class LandingEllipse:
    """The probability ellipse of landing points in the local tangent plane (east, north)."""

    n: int                        # landing points used
    probability: float           # Gaussian probability inside the ellipse
    radius_m: float              # sphere radius of the projection (m)
    centre_lat_deg: float        # sample mean point (deg)
    centre_lon_deg: float
    covariance_m2: np.ndarray    # 2×2 sample covariance of (east, north) (m²), n - 1
    semi_major_m: float
    semi_minor_m: float
    orientation_deg: float       # azimuth of the major axis, from north through east, [0, 180)
    outline_lat_deg: np.ndarray  # closed outline to draw (deg)
    outline_lon_deg: np.ndarray
    origin_lat_lon_deg: tuple    # centre of the projection: direction of the unit vectors' sum
    mean_east_north_m: np.ndarray  # sample mean (east, north) in that projection (m), ≈ 0

    def mahalanobis2(self, lat_deg, lon_deg) -> np.ndarray:
        """Squared Mahalanobis distance (dimensionless) of points (deg) from the sample mean;
        a point lies inside the ellipse when it is ≤ χ²₂(probability) (pseudo-inverse for a
        degenerate covariance)."""
        e, n = local_east_north_m(lat_deg, lon_deg, *self.origin_lat_lon_deg, self.radius_m)
        d = np.stack([e, n], axis=-1) - self.mean_east_north_m
        return np.einsum("...i,ij,...j->...", d, np.linalg.pinv(self.covariance_m2), d)

    def contains(self, lat_deg, lon_deg) -> np.ndarray:
        """True for points (deg) inside the ellipse."""
        return self.mahalanobis2(lat_deg, lon_deg) <= stats.chi2.ppf(self.probability, 2)


def dispersion_ellipse(lat_deg, lon_deg, probability: float = 0.99, *, radius_m: float,
                       n_points: int = 181) -> LandingEllipse | None:
    """The ``probability`` ellipse of landing points (deg) on a sphere of ``radius_m`` (m), e.g.
    ``BODY_RADIUS_M["MOON"]``; None for fewer than 3 finite points.

    Points are projected (azimuthal equidistant) about the direction of their unit vectors' sum;
    the sample mean μ and covariance Σ (n - 1) of (east, north) give the ellipse
    (x-μ)ᵀΣ⁻¹(x-μ) = χ²₂(probability) (Johnson & Wichern 2007, Result 4.7), semi-axes
    √(χ²₂ λ) along Σ's eigenvectors; ``n_points`` outline points are mapped back to lat/lon.
    """
    if not 0.0 < probability < 1.0:
        raise InputError("must lie strictly between 0 and 1", quantity="probability",
                         value=probability, limit=(0.0, 1.0))
    if not radius_m > 0.0:
        raise InputError("must be a positive radius (m)", quantity="radius_m", value=radius_m)
    lat, lon = np.asarray(lat_deg, float).ravel(), np.asarray(lon_deg, float).ravel()
    ok = np.isfinite(lat) & np.isfinite(lon)
    lat, lon = lat[ok], lon[ok]
    if lat.size < 3:
        return None
    s = _unit(lat, lon).sum(axis=0)
    origin = (float(np.degrees(np.arctan2(s[2], np.hypot(s[0], s[1])))),
              float(np.degrees(np.arctan2(s[1], s[0]))))
    xy = np.stack(local_east_north_m(lat, lon, *origin, radius_m), axis=-1)
    mean = xy.mean(axis=0)
    cov = np.cov(xy, rowvar=False, ddof=1)
    k2 = stats.chi2.ppf(probability, 2)  # = -2 ln(1 - probability) for 2 dof
    lam, vec = np.linalg.eigh(cov)  # ascending eigenvalues; columns are (east, north) vectors
    lam = np.clip(lam, 0.0, None)
    a, b = np.sqrt(k2 * lam[1]), np.sqrt(k2 * lam[0])
    major, minor = vec[:, 1], vec[:, 0]
    t = np.linspace(0.0, 2 * np.pi, n_points)
    outline = mean + np.outer(a * np.cos(t), major) + np.outer(b * np.sin(t), minor)
    o_lat, o_lon = local_lat_lon_deg(outline[:, 0], outline[:, 1], *origin, radius_m)
    c_lat, c_lon = local_lat_lon_deg(mean[0], mean[1], *origin, radius_m)
    return LandingEllipse(int(lat.size), float(probability), float(radius_m), float(c_lat),
                          float(c_lon), cov, float(a), float(b),
                          float(np.degrees(np.arctan2(major[0], major[1])) % 180.0),
                          o_lat, o_lon, origin, mean)


# --------------------------------------------------------------------------- failures

def failure_table(table: pa.Table, group_numbers: bool = True) -> list[dict]:
    """Samples that did not complete, counted by (outcome, failed_leg, reason), most first.

    With ``group_numbers`` the numbers in a reason are replaced by "#" before grouping, so
    "landed 12.3 km from X" and "landed 40.1 km from X" are one row. Keys: outcome, failed_leg
    (None when unnamed), reason (the pattern), count, fraction (of all samples), example (the
    first such reason verbatim) and first_index (its sample's ``index``).
    """
    outcome = _outcomes(table)
    legs, reasons = _strings(table, "failed_leg"), _strings(table, "reason")
    index = _strings(table, "index") if "index" in table.column_names else range(table.num_rows)
    groups: dict[tuple, dict] = {}
    for i in np.flatnonzero(outcome != "completed"):
        reason = "" if reasons[i] is None else str(reasons[i])
        key = (str(outcome[i]), legs[i], _NUMBER.sub("#", reason) if group_numbers else reason)
        row = groups.setdefault(key, {"outcome": key[0], "failed_leg": key[1], "reason": key[2],
                                      "count": 0, "example": reason, "first_index": index[i]})
        row["count"] += 1
    rows = sorted(groups.values(), key=lambda r: (-r["count"], r["outcome"],
                                                  str(r["failed_leg"] or ""), r["reason"]))
    for row in rows:
        row["fraction"] = row["count"] / table.num_rows
    return rows
