"""Monte Carlo campaigns: dispersion specs checked before any sample runs, samples as pure
functions of (scenario, seed, index), the same table with 1 and 2 workers, a killed campaign
resumed to the same table, and the --scheduler path against a scheduler and two workers started
as separate processes. The campaigns fly the packaged Chang'e-5 entry with its [dispersions]."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import pytest
from helpers import scenario_data, set_
from typer.testing import CliRunner

import guanghan as gh
from guanghan.analysis.campaign import CampaignError, run_campaign
from guanghan.cli import app
from guanghan.errors import ScenarioError
from guanghan.mission.dispersions import draw_sample, sample_generator
from guanghan.mission.scenario import dumps_toml
from guanghan.mission.scenario_catalogue import resolve

ENTRY = resolve("chang-e-5-entry")
SAMPLES = 3


def _table(folder):
    return pq.read_table(folder / "samples.parquet").drop_columns(["wall_s"])


def _entry_with(tmp_path, *mutations):
    data = scenario_data("chang-e-5-entry")
    for m in mutations:
        m(data)
    path = tmp_path / "mc.toml"
    path.write_text(dumps_toml(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("mutation, field, words", [
    (set_("dispersions.field.1.path", "phases.entry.entry_interface.fpa"),
     "dispersions.field[1].path", "no field 'fpa'"),
    (set_("dispersions.field.1.sigma", 0.0), "dispersions.field[1].sigma", "greater than 0"),
    (set_("dispersions.field.0.low", 1.5), "dispersions.field[0].high", "above low = 1.5"),
    (set_("dispersions.field.1.path", "phases.entry.site"), "dispersions.field[1].path",
     "not a number"),
    (set_("dispersions.field.1.path", "phases.9.capsule.lift_to_drag"), "dispersions.field[1].path",
     "no item 9"),
    (set_("dispersions.field.2.path", "phases.entry.entry_interface.fpa_deg"),
     "dispersions.field[1].path", "dispersed twice"),
    (set_("dispersions.field.1.low", -6.0), "dispersions.field[1].low", "not a parameter"),
])
def test_bad_dispersion_specs_are_refused_on_load(tmp_path, mutation, field, words):
    with pytest.raises(ScenarioError) as err:
        gh.load_scenario(_entry_with(tmp_path, mutation))
    assert err.value.field == field and words in err.value.reason, str(err.value)


def test_a_sample_is_a_pure_function_of_seed_and_index():
    sc = gh.load_scenario(ENTRY)
    full, sparse = sc.nominal_data(full=True), sc.nominal_data()
    a = [draw_sample(full, sparse, sc.dispersions, i) for i in (0, 1, 2)]
    b = [draw_sample(full, sparse, sc.dispersions, i) for i in (2, 0, 1)]     # another order
    assert [x[1] for x in a] == [b[1][1], b[2][1], b[0][1]]
    assert a[0][1] != a[1][1] and a[0][2] != a[1][2]
    # the index-th child of SeedSequence(seed).spawn, NumPy's parallel-stream scheme
    child = np.random.SeedSequence(sc.dispersions.seed).spawn(3)[2]
    assert np.random.default_rng(child).random() == sample_generator(sc.dispersions.seed, 2).random()
    # a field of a table the file leaves to its defaults ([phases.atmosphere]) is created
    assert a[0][0]["phases"][0]["atmosphere"]["density_scale"] == \
        a[0][1]["phases.entry.atmosphere.density_scale"]
    assert sparse == sc.nominal_data()                       # the nominal is left alone


def test_reseeding_gives_each_sample_its_own_seeds():
    sc = gh.load_scenario(resolve("chang-e-5"))
    assert sc.dispersions is not None
    full, sparse = sc.nominal_data(full=True), sc.nominal_data()
    s0, s1 = (draw_sample(full, sparse, sc.dispersions, i)[0] for i in (0, 1))
    i = sc.phase_index("lunar_descent")
    assert s0["phases"][i]["seed"] != s1["phases"][i]["seed"]
    assert s0["phases"][i]["hazard"]["seed"] != sc.phases[i].hazard.seed


def test_a_sample_keeps_the_figures_of_a_full_run():
    """A campaign sample runs summary-only (the legs skip their tables and series): its figures
    and events are those of the same scenario run in full."""
    from guanghan.mission.runner import run

    sc = gh.load_scenario(ENTRY)
    full, brief = run(sc), run(sc, summary_only=True)
    assert brief.summary == full.summary and brief.events == full.events
    assert full.trajectory.num_rows > 1000 and brief.trajectory.num_rows == 0


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    out = tmp_path_factory.mktemp("mc") / "w1"
    t0 = time.perf_counter()
    run_campaign(ENTRY, SAMPLES, out, workers=1, chunk_size=1)
    print(f"\n{SAMPLES}-sample entry campaign, 1 worker: {time.perf_counter() - t0:.1f} s")
    return out


def test_one_and_two_workers_give_the_same_table(one_worker, tmp_path):
    t1 = _table(one_worker)
    assert t1.num_rows == SAMPLES and t1.column("index").to_pylist() == list(range(SAMPLES))
    assert set(t1.column("outcome").to_pylist()) == {"completed"}
    assert "input:phases.entry.atmosphere.density_scale" in t1.column_names
    assert "earth_landing.miss_km" in t1.column_names
    run_campaign(ENTRY, SAMPLES, tmp_path / "w2", workers=2, chunk_size=1)
    assert _table(tmp_path / "w2").equals(t1)
    assert (one_worker / "report.html").is_file()


def test_a_killed_campaign_resumes_to_the_same_table(one_worker, tmp_path):
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "guanghan", "campaign", str(ENTRY), "--samples",
                             str(SAMPLES), "--out", str(out), "--workers", "1", "--chunk-size", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while not (out / "chunks" / "chunk-000000.parquet").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "no chunk was written"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)                      # the CLI and its workers
    proc.wait()
    assert not (out / "samples.parquet").exists()
    with pytest.raises(CampaignError, match="--resume"):
        run_campaign(ENTRY, SAMPLES, out, workers=1, chunk_size=1)
    with pytest.raises(CampaignError, match="samples"):
        run_campaign(ENTRY, SAMPLES + 1, out, workers=1, chunk_size=1, resume=True)
    run_campaign(ENTRY, SAMPLES, out, workers=1, chunk_size=1, resume=True)
    assert _table(out).equals(_table(one_worker))


def test_the_scheduler_path_with_two_worker_processes(one_worker, tmp_path):
    file = tmp_path / "scheduler.json"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               NUMBA_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "distributed.cli.dask_scheduler", "--scheduler-file", str(file),
           "--port", "0", "--no-dashboard"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while not file.exists():
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        address = __import__("json").loads(file.read_text())["address"]
        for _ in range(2):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                 "--no-dashboard"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        run_campaign(ENTRY, SAMPLES, tmp_path / "remote", scheduler=address, chunk_size=1)
        assert _table(tmp_path / "remote").equals(_table(one_worker))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


def test_cli_refusals(tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["campaign", "chang-e-5-return", "--samples", "2", "--out",
                            str(tmp_path / "x")])
    assert r.exit_code == 2 and "[dispersions]" in r.output and not (tmp_path / "x").exists()
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    r = runner.invoke(app, ["campaign", "chang-e-5-entry", "--samples", "2", "--out",
                            str(tmp_path / "busy")])
    assert r.exit_code == 2 and "not empty" in r.output
    r = runner.invoke(app, ["campaign-report", str(tmp_path / "busy")])
    assert r.exit_code == 2 and "samples.parquet" in r.output
