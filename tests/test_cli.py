"""The command line and the Python API end to end: outputs, exit codes, no partial output on bad input."""

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import guanghan as gh
from guanghan.cli import app

ROOT = Path(__file__).resolve().parents[1]
CE5 = ROOT / "scenarios" / "chang-e-5.toml"
runner = CliRunner()


@pytest.fixture(scope="module")
def ce5_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "ce5"
    result = runner.invoke(app, ["run", str(CE5), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_run_writes_the_four_outputs(ce5_run):
    assert sorted(p.name for p in ce5_run.iterdir()) == ["events.json", "report.html", "summary.json",
                                                       "trajectory.parquet"]
    events = json.loads((ce5_run / "events.json").read_text())
    assert all(set(e) == {"utc", "phase", "event", "details"} for e in events)
    kinds = {e["event"] for e in events}
    assert {"phase_start", "phase_end", "periapsis", "apoapsis", "site_longitude_crossing",
            "earth_occultation_start", "moon_umbra_entry"} <= kinds
    assert {"tei2_start", "mcc1", "separation", "entry_interface", "skip_exit", "touchdown"} <= kinds
    assert [e["phase"] for e in events][-1] == "entry"
    summary = json.loads((ce5_run / "summary.json").read_text())
    assert all(k.count(".") == 1 for k in summary)
    assert abs(summary["lunar_orbit_coast.mean_altitude_km"] - 200.0) < 5.0
    table = pq.read_table(ce5_run / "trajectory.parquet")
    for col in ("et_s", "utc", "frame", "body", "x_m", "vx_m_s", "mass_kg", "phase"):
        assert col in table.column_names
    assert set(table.column("frame").to_pylist()) == {"J2000"}
    assert set(table.column("phase").to_pylist()) == {"lunar_orbit_coast", "trans_earth", "entry"}
    html = (ce5_run / "report.html").read_text()
    links = _external_links(html)
    assert html.count("<script") >= 2 and links == []


def _external_links(html: str) -> list[str]:
    """src/href attributes that point off the page (the plotly bundle's code strings don't count)."""
    from html.parser import HTMLParser

    found = []

    class Links(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend(v for k, v in attrs if k in ("src", "href") and v and "//" in v)

    Links().feed(html)
    return found


def test_validate_prints_published_vs_simulated(ce5_run):
    """Exit code 1 exactly when a row fails (Chang'e-5 keeps one: the TEI-2 duration, see the
    scenario), 0 otherwise; every row is printed either way."""
    from guanghan.analysis.validation import validation_rows

    result = runner.invoke(app, ["validate", str(CE5), "--run-dir", str(ce5_run)])
    rows = validation_rows(gh.load_scenario(CE5), json.loads((ce5_run / "summary.json").read_text()))
    failed = {r["key"] for r in rows if r["status"] == "fail"}
    assert result.exit_code == (1 if failed else 0), result.output
    assert failed <= {"trans_earth.tei2_duration_s"}
    assert "published" in result.output and "pass" in result.output
    if failed:
        assert "fail" in result.output


def test_python_api_matches_readme_example():
    result = gh.run(gh.load_scenario(CE5))
    assert isinstance(result.events, list) and isinstance(result.summary, dict)
    assert result.trajectory.num_rows > 100


BAD_CASES = {
    "unknown_key": ("[mission]\n", "[mission]\ncolour = \"red\"\n", "mission.colour"),
    "orbit_below_surface": ("periapsis_altitude_km = 200.0", "periapsis_altitude_km = -5.0",
                            "phases[0].initial_orbit.periapsis_altitude_km"),
    "negative_mass": ("dry_mass_kg = ", "dry_mass_kg = -", "dry_mass_kg"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_scenario_exit_2_and_no_output(tmp_path, case):
    old, new, field = BAD_CASES[case]
    text = CE5.read_text()
    assert old in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(old, new, 1))
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(bad), "--out", str(out)])
    assert result.exit_code == 2
    assert "bad.toml" in result.output and field.split(".")[-1] in result.output
    assert "Traceback" not in result.output
    assert not out.exists() and not list(tmp_path.glob(".out.*"))


def test_phase_running_past_the_ephemeris_is_a_clear_error(tmp_path):
    text = CE5.read_text()
    bad = tmp_path / "late.toml"
    import re
    bad.write_text(re.sub(r"duration_h = [0-9.]+", "duration_h = 6000000.0", text, count=1))
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(bad), "--out", str(out)])
    assert result.exit_code == 2 and "duration_h" in result.output
    assert not out.exists()


def test_missing_file_exit_2(tmp_path):
    result = runner.invoke(app, ["run", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "nope.toml" in result.output


def test_entry_only_scenario_writes_issue_keys_and_entry_figures(tmp_path):
    """The entry leg alone (CE-5 returner): the summary keys the return-leg issue names, the
    published touchdown time within 5 min, and the entry figures in the report."""
    out = tmp_path / "ce5e"
    result = runner.invoke(app, ["run", str(ROOT / "scenarios" / "chang-e-5-entry.toml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    for key in ("entry.interface_utc", "entry.interface_speed_m_s", "entry.interface_fpa_deg",
                "entry.skip_apogee_km", "entry.peak_g", "entry.peak_heat_flux_w_m2",
                "entry.heat_load_j_m2", "entry.downrange_km", "earth_landing.utc",
                "earth_landing.lat_deg", "earth_landing.lon_deg", "earth_landing.miss_km"):
        assert key in summary
    assert summary["earth_landing.miss_km"] < 2.0
    assert summary["entry.skip_apogee_km"] > 100.0
    from guanghan.environment import time_scales
    late = time_scales.utc_to_et(summary["earth_landing.utc"]) - time_scales.utc_to_et("2020-12-16T17:59:00Z")
    assert abs(late) < 300.0                                   # s, published touchdown 17:59 UTC
    events = [e["event"] for e in json.loads((out / "events.json").read_text())]
    for name in ("entry_interface", "skip_exit", "second_entry", "drogue_deploy", "main_deploy", "touchdown"):
        assert name in events
    html = (out / "report.html").read_text()
    assert "fig-entry-profile-entry" in html and "fig-entry-loads-entry" in html
