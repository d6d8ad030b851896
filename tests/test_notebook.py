"""Guanghan in a notebook: the docs notebook runs, a run's figures and HTML, the trajectory as a
DataFrame, the packaged examples, and an import that leaves the process's numba cache alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import plotly.graph_objects as go
import pytest

import guanghan as gh

ROOT = Path(__file__).resolve().parents[1]
SRC = Path(gh.__file__).resolve().parents[1]


def test_docs_notebook_runs_from_import_to_a_figure(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(ROOT / "docs" / "quickstart.ipynb", as_version=4)
    env_path = os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = env_path          # the kernel imports this Guanghan
    try:
        nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = old
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs)
    text = "\n".join(str(o.get("text", "")) for o in outputs)
    assert "mission completed" in text
    what_if = [o for o in outputs if "earth_landing.miss_km" in str(o.get("data", {}).get("text/plain"))]
    assert what_if                                  # the what-if cell compared the two runs
    last = nb.cells[-1].outputs[0]["data"]
    assert "text/html" in last and "mission completed" in last["text/html"]


def test_figures_are_public_plotly_figures(ce5_run):
    _, result = ce5_run
    figures = result.figures()
    assert {"milestones", "earth-moon", "altitude", "groundtrack-moon", "landing-dem-lunar-descent",
            "earth-landing-entry", "entry-profile-entry"} <= set(figures)
    assert all(isinstance(f, go.Figure) for f in figures.values())
    assert figures["altitude"] is not result.figures()["altitude"]        # fresh, free to restyle


def test_repr_html_has_the_verdict_and_the_key_figures(ce5_run):
    scenario, result = ce5_run
    page = result._repr_html_()
    from guanghan.analysis.validation import validation_rows

    assert result.verdict(validation_rows(scenario, result.summary)) in page
    for name in ("milestones", "earth-moon", "altitude"):
        assert f'-{name}"' in page and "Plotly.newPlot(" in page
    assert page.count("plotly.js v") == 1 and "touchdown" in page
    assert repr(result).startswith("<RunResult Chang'e-5: mission completed")


def test_trajectory_to_pandas(ce5_run):
    _, result = ce5_run
    df = result.trajectory.to_pandas()
    assert len(df) == result.trajectory.num_rows
    assert {"utc", "epoch", "phase", "body", "x_m", "altitude_km"} <= set(df.columns)
    assert str(df["epoch"].dtype).startswith("datetime64") and df["epoch"].is_monotonic_increasing
    assert set(df["phase"]) == set(result.trajectory.column("phase").to_pylist())


def test_examples_list_and_load_the_packaged_scenarios():
    names = gh.examples.available()
    assert {"chang-e-5", "chang-e-6", "chang-e-5-entry"} <= set(names) and gh.examples.QUICK in names
    assert gh.examples.path("chang-e-5").name == "chang-e-5.toml" and gh.examples.path("chang-e-5").is_file()
    scenario = gh.examples.load("chang-e-5-entry")
    assert scenario.phases[0].type == "earth_entry"
    assert gh.load_scenario("chang-e-5-entry").source_path == gh.examples.path("chang-e-5-entry")


_PROBE = textwrap.dedent("""
    import json, os, sys
    before = dict(os.environ)
    import guanghan
    same_env = dict(os.environ) == before
    imported_numba = "numba" in sys.modules
    import numpy as np
    from numba.core import config
    from guanghan.dynamics import kepler
    import user_kernel
    r = kepler.kepler_universal(np.array([7.0e6, 0, 0]), np.array([0, 7.5e3, 0]), 60.0, 3.986e14)
    user_kernel.twice(2.0)
    print(json.dumps({"same_env": same_env, "imported_numba": imported_numba,
                      "numba_cache_dir": config.CACHE_DIR,
                      "guanghan_path": kepler.kepler_universal.stats.cache_path,
                      "user_path": user_kernel.twice.stats.cache_path,
                      "hits": sum(kepler.kepler_universal.stats.cache_hits.values())}))
""")


def test_import_leaves_the_numba_cache_of_user_code_alone_and_guanghan_kernels_cache(tmp_path):
    """``import guanghan`` changes no environment variable and no numba setting; Guanghan's own
    kernels go to its source-keyed folder (and load from it in the next process), a user's
    ``cache=True`` function to numba's default place beside its file."""
    (tmp_path / "user_kernel.py").write_text(
        "from numba import njit\n\n@njit(cache=True)\ndef twice(x):\n    return 2.0 * x\n")
    (tmp_path / "probe.py").write_text(_PROBE)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(GUANGHAN_CACHE_DIR=str(tmp_path / "gcache"), NUMBA_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(SRC), str(tmp_path)]))
    runs = [json.loads(subprocess.run([sys.executable, "probe.py"], cwd=tmp_path, env=env, check=True,
                                      capture_output=True, text=True).stdout.strip().splitlines()[-1])
            for _ in range(2)]
    first, second = runs
    assert first["same_env"] and not first["imported_numba"] and first["numba_cache_dir"] == ""
    assert Path(first["guanghan_path"]).is_relative_to(tmp_path / "gcache")
    assert Path(first["guanghan_path"]).parent.name.startswith("numba-")
    assert list(Path(first["guanghan_path"]).glob("kepler.kepler_universal-*.nbi"))
    assert Path(first["user_path"]) == tmp_path / "__pycache__"          # numba's default, untouched
    assert first["hits"] == 0 and second["hits"] == 1                    # cached, then loaded
