"""Never lose a user's files (issue 8): a run killed while writing leaves a `.partial` folder that
the next run to the same place removes; the writer replaces only an earlier run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from guanghan.analysis.outputs import MARKER, OutputError, check_output_path

_WRITER = textwrap.dedent("""
    import sys, time
    import pyarrow as pa
    from guanghan.analysis import outputs
    from guanghan.mission.runner import RunResult
    from guanghan.mission.trajectory_table import SCHEMA

    class Scenario:                     # just what the writer reads
        validation = []
        mission = type("M", (), {"name": "t"})

    def slow_report(*args, **kwargs):   # the kill lands while the report is being written
        print("writing", flush=True)
        time.sleep(float(sys.argv[2]))
        return "<html></html>"

    outputs.render_report = slow_report
    result = RunResult("t", [], {"x.y_m": 1.0}, SCHEMA.empty_table(), meta={"provenance": {}})
    outputs.write_run(result, Scenario(), sys.argv[1])
    print("done", flush=True)
""")


def _writer(out, delay_s: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _WRITER, str(out), str(delay_s)],
                            stdout=subprocess.PIPE, text=True)


def test_sigkill_while_writing_then_a_rerun_leaves_no_partial_folder(tmp_path):
    out = tmp_path / "run"
    proc = _writer(out, 60.0)
    assert proc.stdout.readline().strip() == "writing"
    time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert list(tmp_path.glob(".run.*.partial")) and not out.exists()   # what a kill leaves
    again = _writer(out, 0.0)
    assert again.communicate(timeout=120)[0].strip().endswith("done")
    assert not list(tmp_path.glob(".run.*")), list(tmp_path.iterdir())
    assert (out / MARKER).is_file() and (out / "summary.json").is_file()


def test_check_output_path_refuses_what_is_not_a_run(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match="not a Guanghan run"):
        check_output_path(tmp_path)
    with pytest.raises(OutputError, match="is a file"):
        check_output_path(tmp_path / "keep.txt")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / MARKER).write_text("{}")
    (tmp_path / "old" / "summary.json").write_text("{}")
    assert check_output_path(tmp_path / "old") == (tmp_path / "old").resolve()
    assert check_output_path(tmp_path / "new" / "deeper") == (tmp_path / "new" / "deeper").resolve()


def _tiny_result():
    import pyarrow as pa

    from guanghan.mission.runner import RunResult
    from guanghan.mission.trajectory_table import SCHEMA
    return RunResult("t", [], {"x.y_m": 1.0}, SCHEMA.empty_table(), meta={"provenance": {}},
                     series={"leg": pa.table({"t_s": [0.0, 1.0]})})


class _Scenario:                        # just what the writer reads
    validation = ()
    mission = type("M", (), {"name": "t"})


def test_overwrite_into_a_foreign_folder_replaces_only_the_runs_own_files(tmp_path):
    from guanghan.analysis.outputs import write_run
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data.csv").write_text("1,2")
    (tmp_path / "summary.json").write_text("stale")          # a run's own name: replaced
    (tmp_path / "series").mkdir()
    (tmp_path / "series" / "old.parquet").write_text("x")    # the run's own folder: replaced whole
    check_output_path(tmp_path, overwrite=True)
    write_run(_tiny_result(), _Scenario(), tmp_path, overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (tmp_path / "sub" / "data.csv").read_text() == "1,2"
    assert '"x.y_m": 1.0' in (tmp_path / "summary.json").read_text()
    assert (tmp_path / MARKER).is_file() and (tmp_path / "report.html").is_file()
    assert sorted(p.name for p in (tmp_path / "series").iterdir()) == ["leg.parquet"]
    assert not list(tmp_path.glob(".*.old")) and not list(tmp_path.parent.glob(f".{tmp_path.name}.*"))
    f = tmp_path / "notes.txt"                                # a file stays refused, even so
    with pytest.raises(OutputError, match="is a file"):
        check_output_path(f, overwrite=True)


def test_cli_overwrite_flag_keeps_the_users_files(tmp_path):
    """`guanghan run … --out DIR` refuses a foreign folder with exit 2 and writes nothing; with
    `--overwrite` it runs and keeps the user's file."""
    from typer.testing import CliRunner

    from guanghan.cli import app
    (tmp_path / "notes.txt").write_text("mine")
    runner = CliRunner()
    refused = runner.invoke(app, ["run", "chang-e-5-entry", "--out", str(tmp_path)])
    assert refused.exit_code == 2 and "--overwrite" in refused.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    ok = runner.invoke(app, ["run", "chang-e-5-entry", "--out", str(tmp_path), "--overwrite"])
    assert ok.exit_code in (0, 3), ok.output
    assert (tmp_path / "notes.txt").read_text() == "mine" and (tmp_path / "summary.json").is_file()


def test_nan_figures_are_named_apart_from_not_applicable_ones(tmp_path):
    """JSON has no NaN: both become null, and the NaN (or inf) figures are listed in the outcome."""
    import json

    from guanghan.analysis.outputs import write_run
    from guanghan.mission.runner import RunResult
    from guanghan.mission.trajectory_table import SCHEMA
    result = RunResult("t", [], {"a.ok_m": 1.0, "a.bad_m": float("nan"), "a.far_m": float("inf"),
                                 "a.none_m": None}, SCHEMA.empty_table(), meta={"provenance": {}})
    write_run(result, _Scenario(), tmp_path / "run")
    doc = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert doc["figures"] == {"a.ok_m": 1.0, "a.bad_m": None, "a.far_m": None, "a.none_m": None}
    assert doc["outcome"]["non_finite_figures"] == ["a.bad_m", "a.far_m"]
