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
