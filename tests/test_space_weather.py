"""Space-weather indices against the CelesTrak CSV lines themselves."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pytest

from guanghan.environment import space_weather as sw
from guanghan.errors import EphemerisRangeError


def _csv_row(date: str) -> dict:
    """The raw CSV line of ``date``, read here independently of the module's parser."""
    path = files("ssa_data_core").joinpath("data/environment/space_weather/SW-All.csv")
    with path.open() as handle:
        header = handle.readline().strip().split(",")
        for line in handle:
            if line.startswith(date):
                return dict(zip(header, line.strip().split(",")))
    raise LookupError(date)


def test_indices_of_ce5_entry_day_match_csv_line():
    row = _csv_row("2020-12-16")
    got = sw.space_weather("2020-12-16T17:33:00Z")
    assert got.f107_obs_sfu == float(row["F10.7_OBS"])
    assert got.f107_adj_sfu == float(row["F10.7_ADJ"])
    assert got.f107_obs_center81_sfu == float(row["F10.7_OBS_CENTER81"])
    assert got.f107_adj_center81_sfu == float(row["F10.7_ADJ_CENTER81"])
    assert got.ap_daily == float(row["AP_AVG"])
    assert got.ap_3h == tuple(float(row[f"AP{k}"]) for k in range(1, 9))
    assert got.data_type == "OBS"


def test_msis_drivers_follow_nrlmsise_definition():
    f107, f107a, aps = sw.msis_indices("2020-12-16T17:33:00Z")
    today, before = _csv_row("2020-12-16"), _csv_row("2020-12-15")
    assert f107 == float(before["F10.7_OBS"])              # previous day's observed flux
    assert f107a == float(today["F10.7_OBS_CENTER81"])
    assert aps[0] == float(today["AP_AVG"])
    assert aps[1] == float(today["AP6"])                    # 15-18 UTC slot holds 17:33
    assert aps[4] == float(today["AP3"])                    # 9 h before: 06-09 UTC
    rows = [_csv_row(d) for d in ("2020-12-14", "2020-12-15", "2020-12-16")]
    history = [float(r[f"AP{k}"]) for r in rows for k in range(1, 9)]
    now = 16 + 5
    assert aps[5] == pytest.approx(np.mean(history[now - 11:now - 3]), abs=1e-12)


def test_dates_outside_the_table_raise_range_error():
    with pytest.raises(EphemerisRangeError) as err:
        sw.space_weather("1950-01-01")
    assert err.value.utc == "1950-01-01"
    with pytest.raises(sw.SpaceWeatherRangeError):
        sw.space_weather("2040-01-01", allow_predicted=True)     # monthly PRM rows only


def test_predicted_records_need_opt_in():
    last_observed = sw._usable_span(False)[1]
    import datetime as dt
    day = dt.date.fromordinal(sw._table().first + last_observed + 5)
    with pytest.raises(sw.SpaceWeatherRangeError):
        sw.space_weather(day.isoformat())
    assert sw.space_weather(day.isoformat(), allow_predicted=True).data_type == "PRD"
