"""Solar and geomagnetic activity indices (F10.7, Ap) for a date, from CelesTrak's ``SW-All.csv``.

The table ships in the ``ssa_data_core`` data package (``data/environment/space_weather/SW-All.csv``,
CelesTrak format, with a README and a JSON sidecar giving the retrieval date and checksum). It is
parsed once per process and cached. Each record gives the observed and the adjusted (1 AU) daily
10.7 cm solar radio flux (sfu), their centred 81-day averages, the eight 3-hourly ap values and the
daily Ap.

Assumptions and limitations
    * Only observed (``OBS``) and interpolated (``INT``) records are used unless the caller opts in
      to predictions (``allow_predicted=True``: daily ``PRD`` records). Monthly ``PRM`` records have
      no Ap and are never used. A date outside what is allowed raises
      :class:`SpaceWeatherRangeError` naming the span.
    * NRLMSIS takes the *observed* F10.7 of the previous day and the 81-day centred average of the
      observed flux (Picone et al. 2002, §2; Emmert et al. 2021, §2.1); :func:`msis_indices` returns
      those. The adjusted values are kept on :class:`SpaceWeather` for other users.
    * The storm-time ap history (``aps[1:7]``) follows the NRLMSISE-00 definition, built from the
      3-hourly values of the day and the two or three days before.

References
    * CelesTrak, "Space Weather Data Documentation", https://celestrak.org/SpaceData/SpaceWx-format.php
    * Picone, Hedin, Drob, Aikin (2002), "NRLMSISE-00 empirical model of the atmosphere",
      J. Geophys. Res. 107(A12), 1468.
    * Emmert et al. (2021), "NRLMSIS 2.0", Earth and Space Science 8, e2020EA001321.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from importlib.resources import files

import numpy as np
import pyarrow as pa
from pyarrow import csv as pa_csv

from guanghan.errors import EphemerisRangeError

#: Location of the CelesTrak table inside the ``ssa_data_core`` package.
SW_PACKAGE, SW_FILE = "ssa_data_core", "data/environment/space_weather/SW-All.csv"


class SpaceWeatherRangeError(EphemerisRangeError):
    """A date lies outside the usable records of the space-weather table."""


@dataclass(frozen=True)
class SpaceWeather:
    """Indices of one UTC day. Flux in solar flux units (sfu = 1e-22 W m⁻² Hz⁻¹)."""

    date: dt.date
    f107_obs_sfu: float
    f107_adj_sfu: float
    f107_obs_center81_sfu: float
    f107_adj_center81_sfu: float
    ap_daily: float
    ap_3h: tuple[float, ...]   # eight values, 00-03 UTC ... 21-24 UTC
    data_type: str             # OBS, INT or PRD


@dataclass(frozen=True)
class _Table:
    first: int                 # proleptic ordinal of the first row
    f107_obs: np.ndarray
    f107_adj: np.ndarray
    f107_obs_c81: np.ndarray
    f107_adj_c81: np.ndarray
    ap_daily: np.ndarray
    ap_3h: np.ndarray          # (n, 8)
    kind: np.ndarray           # str


_NUMERIC = ("F10.7_OBS", "F10.7_ADJ", "F10.7_OBS_CENTER81", "F10.7_ADJ_CENTER81", "AP_AVG",
            *(f"AP{k}" for k in range(1, 9)))


@functools.lru_cache(maxsize=1)
def _table() -> _Table:
    """Parse ``SW-All.csv`` once (about 25 000 daily rows; pyarrow's CSV reader, ~10× faster
    than the csv module here): empty cells are NaN."""
    path = files(SW_PACKAGE).joinpath(SW_FILE)
    with path.open("rb") as handle:
        tab = pa_csv.read_csv(handle, convert_options=pa_csv.ConvertOptions(
            include_columns=["DATE", "F10.7_DATA_TYPE", *_NUMERIC],
            column_types={"DATE": pa.date32(), "F10.7_DATA_TYPE": pa.string(),
                          **{k: pa.float64() for k in _NUMERIC}}))
    days = tab.column("DATE").cast(pa.int32()).to_numpy().astype(np.int64)   # since 1970-01-01
    first = dt.date(1970, 1, 1).toordinal() + int(days[0])
    daily = days - days[0] == np.arange(len(days))
    # Monthly PRM rows at the end are not daily; keep the daily part only.
    n = len(days) if daily.all() else int(np.argmin(daily))
    col = lambda key: tab.column(key).to_numpy()[:n].astype(float)  # noqa: E731 (null → NaN)
    return _Table(
        first=first,
        f107_obs=col("F10.7_OBS"),
        f107_adj=col("F10.7_ADJ"),
        f107_obs_c81=col("F10.7_OBS_CENTER81"),
        f107_adj_c81=col("F10.7_ADJ_CENTER81"),
        ap_daily=col("AP_AVG"),
        ap_3h=np.column_stack([col(f"AP{k}") for k in range(1, 9)]),
        kind=np.array(tab.column("F10.7_DATA_TYPE").to_pylist()[:n]),
    )


def _as_datetime(utc: str | dt.datetime | dt.date) -> dt.datetime:
    if isinstance(utc, dt.datetime):
        return utc.replace(tzinfo=None) if utc.tzinfo is None else \
            utc.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if isinstance(utc, dt.date):
        return dt.datetime(utc.year, utc.month, utc.day)
    text = str(utc).strip()
    if text[17:19] == "60":                       # a leap second: still the same UTC day
        text = text[:17] + "59.999999" + ("Z" if text.endswith("Z") else "")
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"cannot read {utc!r} as an ISO-8601 UTC time") from None
    return _as_datetime(parsed)


@functools.lru_cache(maxsize=2)
def _usable_span(allow_predicted: bool) -> tuple[int, int]:
    tab = _table()
    ok = np.isin(tab.kind, ["OBS", "INT", "PRD"] if allow_predicted else ["OBS", "INT"])
    ok &= np.isfinite(tab.ap_daily) & np.isfinite(tab.f107_obs)
    idx = np.flatnonzero(ok)
    return int(idx[0]), int(idx[-1])


def _row(day: dt.date, allow_predicted: bool, what: str) -> int:
    lo, hi = _usable_span(allow_predicted)
    i = day.toordinal() - _table().first
    if not lo <= i <= hi:
        first = dt.date.fromordinal(_table().first + lo).isoformat()
        last = dt.date.fromordinal(_table().first + hi).isoformat()
        kinds = "observed and predicted daily" if allow_predicted else "observed"
        raise SpaceWeatherRangeError(f"the {kinds} records of {SW_FILE} ({what})",
                                     day.isoformat(), first, last)
    return i


def space_weather(utc: str | dt.datetime | dt.date, allow_predicted: bool = False) -> SpaceWeather:
    """Indices of the UTC day containing ``utc`` (ISO-8601 string, datetime or date)."""
    day = _as_datetime(utc).date()
    i = _row(day, allow_predicted, "requested day")
    tab = _table()
    return SpaceWeather(day, float(tab.f107_obs[i]), float(tab.f107_adj[i]),
                        float(tab.f107_obs_c81[i]), float(tab.f107_adj_c81[i]),
                        float(tab.ap_daily[i]), tuple(float(a) for a in tab.ap_3h[i]),
                        str(tab.kind[i]))


def msis_indices(utc: str | dt.datetime, allow_predicted: bool = False) -> tuple[float, float, np.ndarray]:
    """NRLMSIS drivers at ``utc``: (F10.7 of the previous day (sfu), 81-day centred F10.7 (sfu), ap[7]).

    ap follows Picone et al. (2002) Table/§2: [daily Ap, 3-h ap now, 3 h before, 6 h before,
    9 h before, mean of the eight 3-h values 12-33 h before, mean of the eight 36-57 h before].
    """
    when = _as_datetime(utc)
    day = when.date()
    i = _row(day, allow_predicted, "requested day")
    tab = _table()
    _row(day - dt.timedelta(days=3), allow_predicted, "3 days before, for the ap history")
    f107_prev = float(tab.f107_obs[i - 1])
    f107a = float(tab.f107_obs_c81[i])
    history = tab.ap_3h[i - 3:i + 1].ravel()      # 32 three-hour values, oldest first
    now = 24 + int(when.hour // 3)                 # index of the current 3-h slot
    aps = np.array([
        tab.ap_daily[i],
        history[now], history[now - 1], history[now - 2], history[now - 3],
        history[now - 11:now - 3].mean(),          # 12-33 h before
        history[now - 19:now - 11].mean(),         # 36-57 h before
    ])
    return f107_prev, f107a, aps
