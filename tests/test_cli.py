"""The command line and the Python API end to end: outputs, exit codes, no partial output on bad input."""

import hashlib
import re
import json
import os
from pathlib import Path

import numpy as np

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import guanghan as gh
from helpers import SCENARIOS, external_links
from guanghan.cli import app

ROOT = Path(__file__).resolve().parents[1]
CE5 = SCENARIOS / "chang-e-5.toml"
runner = CliRunner()


@pytest.fixture(scope="module")
def ce5_dir(tmp_path_factory, ce5_run):
    """The session's Chang'e-5 run written by the same writer the CLI uses."""
    from guanghan.analysis.outputs import write_run

    scenario, result = ce5_run
    return write_run(result, scenario, tmp_path_factory.mktemp("runs") / "ce5")


def test_run_writes_the_outputs_and_the_results_contract(ce5_dir):
    assert sorted(p.name for p in ce5_dir.iterdir()) == [
        ".guanghan-run", "design.json", "events.json", "report.html", "series", "summary.json",
        "trajectory.parquet"]
    assert {"entry.entry.parquet", "trans_earth.orbiter.parquet", "lunar_descent.descent.parquet"} <= \
        {p.name for p in (ce5_dir / "series").iterdir()}
    events = json.loads((ce5_dir / "events.json").read_text())
    assert all(set(e) == {"utc", "phase", "event", "details"} for e in events)
    kinds = {e["event"] for e in events}
    assert {"phase_start", "phase_end", "periapsis", "apoapsis", "site_longitude_crossing",
            "earth_occultation_start", "moon_umbra_entry"} <= kinds
    assert {"tei2_start", "mcc1", "separation", "entry_interface", "skip_exit", "touchdown"} <= kinds
    assert "mass_budget_mismatch" not in kinds                       # 4 modules add up to 8,200 kg
    assert [e["phase"] for e in events][-1] == "entry"
    doc = json.loads((ce5_dir / "summary.json").read_text())
    prov = doc["provenance"]
    assert prov["scenario_file"] == "chang-e-5.toml" and prov["guanghan_version"] == gh.__version__
    assert prov["scenario_sha256"] == hashlib.sha256(CE5.read_bytes()).hexdigest()
    assert prov["seed"] == 20201125                     # the first execution-error seed (the transfer)
    assert doc["outcome"]["status"] == "completed"
    assert doc["outcome"]["verdict"].startswith("mission completed; validation ")
    assert doc["outcome"]["non_finite_figures"] == []              # null only where not applicable
    summary = doc["figures"]
    assert all(k.count(".") == 1 for k in summary)
    assert abs(summary["lunar_orbit_coast.mean_altitude_km"] - 200.0) < 5.0
    table = pq.read_table(ce5_dir / "trajectory.parquet")
    for col in ("et_s", "utc", "epoch", "segment", "frame", "body", "x_m", "vx_m_s", "mass_kg", "phase"):
        assert col in table.column_names
    units = json.loads(table.schema.metadata[b"units"])
    assert units["x_m"] == "m" and units["et_s"].startswith("s (TDB")
    assert str(table.schema.field("epoch").type) == "timestamp[ns, tz=UTC]"
    assert set(table.column("frame").to_pylist()) == {"J2000"}
    assert set(table.column("phase").to_pylist()) == {"earth_moon_transfer", "lunar_orbit_coast", "lunar_descent",
                                                      "surface", "ascent", "rendezvous", "trans_earth", "entry"}
    seg = table.column("segment").to_numpy()
    body = np.array(table.column("body").to_pylist())
    phase = np.array(table.column("phase").to_pylist())
    assert np.all(np.diff(seg) >= 0)
    change = (body[1:] != body[:-1]) | (phase[1:] != phase[:-1])
    assert np.array_equal(np.diff(seg) == 1, change)            # a new segment exactly at each switch
    html = (ce5_dir / "report.html").read_text()
    links = external_links(html)
    assert html.count("<script") >= 2 and links == []


def test_validate_prints_published_vs_simulated(ce5_dir):
    """Exit code 1 exactly when a row fails (Chang'e-5 keeps three: the TEI-2 duration, the drill
    depth and the sample mass; see the scenario), 0 otherwise; every row is printed either way."""
    from guanghan.analysis.validation import validation_rows

    result = runner.invoke(app, ["validate", "chang-e-5", "--run-dir", str(ce5_dir)])
    rows = validation_rows(gh.load_scenario(CE5), json.loads((ce5_dir / "summary.json").read_text())["figures"])
    failed = {r["key"] for r in rows if r["status"] == "fail"}
    assert result.exit_code == (1 if failed else 0), result.output
    # the rows that fail on purpose, each with its reason in the scenario's note
    assert failed <= {"trans_earth.tei2_duration_s", "surface.drill_depth_m", "surface.sample_mass_g"}
    assert "published" in result.output and "pass" in result.output
    assert "descent: propellant used" in result.output and "budget" in result.output
    assert "comms: direct-to-Earth link" in result.output and "relay coverage" in result.output
    if failed:
        assert "fail" in result.output


def test_validate_refuses_a_run_of_another_scenario(ce5_dir):
    result = runner.invoke(app, ["validate", "chang-e-6", "--run-dir", str(ce5_dir)])
    assert result.exit_code == 2
    assert "another scenario" in result.output and "chang-e-5.toml" in result.output


def test_validate_on_a_corrupt_summary_is_a_clear_error(tmp_path):
    (tmp_path / "summary.json").write_text("{not json")
    result = runner.invoke(app, ["validate", "chang-e-5-entry", "--run-dir", str(tmp_path)])
    assert result.exit_code == 2 and "summary.json" in result.output
    assert "Traceback" not in result.output


def test_python_api_matches_readme_example(ce5_run):
    _, result = ce5_run
    assert isinstance(result.events, list) and isinstance(result.summary, dict)
    assert result.trajectory.num_rows > 100 and result.completed


BAD_CASES = {
    "unknown_key": ("[mission]\n", "[mission]\ncolour = \"red\"\n", "mission.colour"),
    "periselene_below_surface": ("periselene_altitude_km = 200.0", "periselene_altitude_km = -5.0",
                                 "phases[0].arrival.periselene_altitude_km"),
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
    coast_end = 'end_utc = "2020-11-29T20:40:00Z"'
    assert coast_end in text
    bad.write_text(text.replace(coast_end, "duration_h = 6000000.0", 1))
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(bad), "--out", str(out)])
    assert result.exit_code == 2 and "duration_h" in result.output
    assert not out.exists()


def test_missing_file_exit_2(tmp_path):
    result = runner.invoke(app, ["run", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "nope.toml" in result.output


@pytest.fixture(scope="module")
def entry_dir(tmp_path_factory):
    """The packaged entry-only scenario run by name from a folder outside the repository."""
    where = tmp_path_factory.mktemp("elsewhere")
    cwd = os.getcwd()
    os.chdir(where)
    try:
        result = runner.invoke(app, ["run", "chang-e-5-entry", "--out", "ce5e"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("mission completed")
    return where / "ce5e"


def test_entry_only_scenario_writes_issue_keys_and_entry_figures(entry_dir):
    """The entry leg alone (CE-5 returner): the summary keys the return-leg issue names, the
    published touchdown time within 5 min, and the entry figures in the report."""
    out = entry_dir
    summary = json.loads((out / "summary.json").read_text())["figures"]
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


def test_an_entry_whose_guidance_fails_exits_3_with_the_reason_last(tmp_path):
    """A landing site 1,000 km from the interface (5,000 km nearer than planned): the guidance
    cannot shed the energy, the mission fails, outputs are still written."""
    import math

    from guanghan.environment.geodetic import destination
    text = (SCENARIOS / "chang-e-5-entry.toml").read_text()
    lat, lon = destination(math.radians(42.3), math.radians(111.4), math.radians(230.0), 5.0e6 / 6371000.0)
    text = text.replace("lat_deg = 42.3", f"lat_deg = {math.degrees(lat):.4f}", 1)
    text = text.replace("lon_deg = 111.4", f"lon_deg = {math.degrees(lon):.4f}", 1)
    bad = tmp_path / "near.toml"
    bad.write_text(text)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(bad), "--out", str(out)])
    assert result.exit_code == 3, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("mission failed in leg entry: entry guidance failed")
    doc = json.loads((out / "summary.json").read_text())
    assert doc["outcome"]["status"] == "failed" and doc["outcome"]["failed_leg"] == "entry"


def test_out_refuses_a_folder_that_is_not_a_run_and_a_file(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    result = runner.invoke(app, ["run", "chang-e-5-entry", "--out", str(folder)])
    assert result.exit_code == 2 and "not a Guanghan run" in result.output
    assert (folder / "notes.txt").read_text() == "keep me"
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    result = runner.invoke(app, ["run", "chang-e-5-entry", "--out", str(a_file)])
    assert result.exit_code == 2 and "is a file" in result.output and a_file.read_text() == "x"


def test_out_replaces_an_earlier_run(entry_dir):
    (entry_dir / "summary.json").write_text("{}")
    result = runner.invoke(app, ["run", "chang-e-5-entry", "--out", str(entry_dir)])
    assert result.exit_code == 0, result.output
    assert "figures" in json.loads((entry_dir / "summary.json").read_text())
    assert not list(entry_dir.parent.glob(f".{entry_dir.name}.*"))


def test_scenarios_sources_and_version():
    listed = runner.invoke(app, ["scenarios"])
    assert listed.exit_code == 0 and "chang-e-5 " in listed.output and "chang-e-6 " in listed.output
    src = runner.invoke(app, ["sources", "CE5-LROC"])
    assert src.exit_code == 0 and "[CE5-LROC]" in src.output and "." in src.output
    assert runner.invoke(app, ["sources", "NO-SUCH"]).exit_code == 2
    ver = runner.invoke(app, ["--version"])
    assert ver.exit_code == 0 and gh.__version__ in ver.output


def test_error_messages_are_verbatim_and_one_line(tmp_path):
    """Text in square brackets is printed as written (no markup); a long value is truncated."""
    text = (SCENARIOS / "chang-e-5-entry.toml").read_text().replace(
        "[mission]\n", "[mission]\ncolour = \"[/x] " + "y" * 5000 + "\"\n", 1)
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    result = runner.invoke(app, ["run", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "[/x]" in result.output and len(result.output) < 3000
    assert len(result.output.strip().splitlines()) == 1


# --------------------------------------------------------------------------- issue 16, item 4

def test_set_overrides_a_field_and_the_summary_records_it(tmp_path, entry_dir):
    """A capsule with half the lift (L/D 0.3 → 0.15) cannot skip far enough to reach the aim from
    the nominal interface: the same scenario that completes (entry_dir) fails, and the summary
    says why."""
    out = tmp_path / "low-ld"
    result = runner.invoke(app, ["run", "chang-e-5-entry", "--out", str(out),
                                 "--set", "phases.entry.capsule.lift_to_drag=0.15",
                                 "--set", 'mission.description="L/D 0.15"'])
    assert result.exit_code == 3, result.output
    doc = json.loads((out / "summary.json").read_text())
    assert doc["provenance"]["overrides"] == {"phases.entry.capsule.lift_to_drag": 0.15,
                                              "mission.description": "L/D 0.15"}
    assert doc["provenance"]["scenario_sha256"] == hashlib.sha256(
        (SCENARIOS / "chang-e-5-entry.toml").read_bytes()).hexdigest()          # still the file's
    assert doc["outcome"]["failed_leg"] == "entry"
    nominal = json.loads((entry_dir / "summary.json").read_text())
    assert nominal["outcome"]["status"] == "completed" and nominal["provenance"]["overrides"] == {}


@pytest.mark.parametrize("setting, names", [
    ("phases.entry.capsule.lift_to_drag=9", ("phases.entry.capsule.lift_to_drag=9",
                                             "phases[7].capsule.lift_to_drag", "at most 1")),
    ("phases.entri.capsule.lift_to_drag=0.3", ("phases.entri", "no item named 'entri'")),
    ("phases.entry.capsule.lift=0.3", ("no field 'lift'", "lift_to_drag")),
    ("phases.entry.capsule.lift_to_drag", ("PATH=VALUE",)),
    ('phases.entry.capsule.lift_to_drag="high"', ("lift_to_drag", "high")),
    ("dispersions.seed=3", ("guanghan campaign",)),
])
def test_an_invalid_override_exits_2_naming_the_path(tmp_path, setting, names):
    """Checked before anything flies (the full mission here), one message, nothing written."""
    out = tmp_path / "o"
    result = runner.invoke(app, ["run", "chang-e-5", "--out", str(out), "--set", setting])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and result.output.startswith("error: --set ")
    for name in names:
        assert name in result.output
    assert not out.exists()


def test_overrides_reach_the_model_as_the_file_would():
    from guanghan.mission.scenario_overrides import load_with_overrides, parse_override

    sc = load_with_overrides(CE5, dict(map(parse_override, [
        "phases.entry.capsule.lift_to_drag=0.28", "phases.lunar_descent.seed=7",
        "phases.trans_earth.output_step_s=600", "timeline.touchdown_utc=2020-12-01T15:12:00Z"])))
    entry = sc.phases[sc.phase_index("entry")]
    assert entry.capsule.lift_to_drag == 0.28 and sc.phases[sc.phase_index("lunar_descent")].seed == 7
    assert sc.phases[sc.phase_index("trans_earth")].output_step_s == 600.0
    assert sc.timeline["touchdown_utc"] == "2020-12-01T15:12:00Z"        # a TOML datetime, as in a file
    assert sc.overrides["timeline.touchdown_utc"] == "2020-12-01T15:12:00Z"


def test_report_rebuilds_the_page_from_a_run_folder(ce5_dir, tmp_path):
    import shutil

    folder = tmp_path / "ce5"
    shutil.copytree(ce5_dir, folder)
    original = (folder / "report.html").read_text()
    (folder / "report.html").unlink()
    result = runner.invoke(app, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    rebuilt = (folder / "report.html").read_text()
    ids = re.compile(r'Plotly\.newPlot\("([^"]+)"')
    assert ids.findall(rebuilt) == ids.findall(original) and len(ids.findall(rebuilt)) >= 25
    badges = re.compile(r'<span class="badge (\w+)">')
    assert badges.findall(rebuilt) == badges.findall(original) and "pass" in badges.findall(rebuilt)
    other = runner.invoke(app, ["report", str(folder), "--scenario", str(SCENARIOS / "chang-e-6.toml")])
    assert other.exit_code == 2 and "not the scenario this run was made from" in other.output
    missing = runner.invoke(app, ["report", str(tmp_path / "nothing")])
    assert missing.exit_code == 2 and "summary.json" in missing.output
