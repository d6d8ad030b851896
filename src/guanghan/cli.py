"""The ``guanghan`` command line: run a scenario, validate it against published figures, list the
packaged scenarios and their sources.

    guanghan run chang-e-5 --out out/ce5           # a packaged scenario by name, or a TOML path
    guanghan run chang-e-5 --out out/ce5b --design-from out/ce5   # fly that run's design again
    guanghan run chang-e-5-entry --out out/e --set phases.entry.capsule.lift_to_drag=0.25   # what-if
    guanghan report out/ce5                        # rebuild report.html from the run's files
    guanghan validate chang-e-5 --run-dir out/ce5
    guanghan scenarios
    guanghan sources CE5-LROC
    guanghan campaign chang-e-5-entry-dispersed --samples 200 --out out/mc --workers 2
    guanghan export out/ce5 --format oem|oem-xml|spk|czml|csv [--out FILE]

Exit codes: 0 the mission completed (validate: every row passes), 3 the mission failed (outputs
still written, the reason on the last line), 2 bad input (one message naming the file, the field,
the value and why; nothing written), 1 validate found a failing row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from guanghan.errors import GuanghanError, ScenarioError
from guanghan.version import __version__

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Guanghan: simulate and verify robotic lunar sample-return missions.")
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)
_MAX_MESSAGE = 2000


def _say_error(prefix: str, message: str) -> None:
    """Print one error line verbatim (no markup), truncated to a readable length."""
    text = " ".join(str(message).split())
    if len(text) > _MAX_MESSAGE:
        text = text[:_MAX_MESSAGE] + f"… ({len(text) - _MAX_MESSAGE} more characters)"
    err_console.print(f"{prefix} {text}", markup=False, highlight=False)


def _fail(message: str, code: int = 2):
    _say_error("error:", message)
    raise typer.Exit(code=code)


def _load(name: str, overrides: list[str] | None = None):
    from guanghan.mission.scenario_catalogue import resolve
    from guanghan.mission.scenario_overrides import load_with_overrides, parse_override

    try:
        values = dict(parse_override(text) for text in overrides or [])
        return load_with_overrides(resolve(name), values)
    except ScenarioError as exc:
        _fail(str(exc))


def _run(scenario, design=None):
    from guanghan.mission.runner import run

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=err_console, transient=False) as bar:
        task = bar.add_task("starting", total=max(1, len(scenario.phases)))

        def progress(name, i, n):
            bar.update(task, completed=i, description=f"phase {name}" if i < n else "done")

        try:
            return run(scenario, progress=progress, design=design)
        except GuanghanError as exc:
            failure = exc
    # after the progress display has closed, so the message is the last line
    if isinstance(failure, ScenarioError):
        _fail(str(failure))
    _fail(f"run failed: {failure}", code=3)


def _version(value: bool):
    if value:
        console.print(f"guanghan {__version__}", markup=False)
        raise typer.Exit()


@app.callback()
def main_options(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                              help="print the version and exit")):
    """Guanghan: simulate and verify robotic lunar sample-return missions."""


@app.command("run")
def run_command(scenario: str = typer.Argument(..., help="packaged scenario name or TOML file"),
                out: Path = typer.Option(..., "--out", "-o", help="output folder (new, empty, or an "
                                         "earlier run, which is replaced atomically)"),
                overwrite: bool = typer.Option(False, "--overwrite", help="write into a non-empty "
                                               "folder that is not a run, replacing only the run's "
                                               "own files and keeping every other"),
                design_from: Path = typer.Option(None, "--design-from", help="fly the design of an "
                                                 "earlier run of this mission (its folder, or its "
                                                 "design.json) instead of designing again"),
                set_: Annotated[list[str] | None, typer.Option(
                    "--set", metavar="PATH=VALUE", help="set a scenario field (dotted path as in "
                    "[dispersions], e.g. phases.entry.capsule.lift_to_drag=0.25; VALUE in TOML); "
                    "repeatable, checked like the file, recorded in summary.json's "
                    "provenance")] = None):
    """Run a scenario's phases in order and write summary, events, trajectory, series, report and
    design."""
    from guanghan.analysis.outputs import OutputError, check_output_path, write_run
    from guanghan.analysis.validation import validation_rows
    from guanghan.errors import InputError
    from guanghan.mission.mission_design import read_design

    sc = _load(scenario, set_)
    try:
        check_output_path(out, overwrite)
    except OutputError as exc:
        _fail(str(exc))
    design = None
    if design_from is not None:
        try:
            design = read_design(design_from)
            design.check_fits(sc)
        except InputError as exc:
            _fail(f"--design-from {design_from}: {exc.reason}")
    result = _run(sc, design)
    try:
        path = write_run(result, sc, out, overwrite)
    except OutputError as exc:
        _fail(str(exc))
    console.print(f"wrote {path}: summary.json, events.json, trajectory.parquet, report.html "
                  f"({len(result.events)} events, {result.trajectory.num_rows} trajectory rows)",
                  markup=False, highlight=False)
    console.print(result.verdict(validation_rows(sc, result.summary)), markup=False, highlight=False)
    if not result.completed:
        raise typer.Exit(code=3)


@app.command("report")
def report_command(
        run_dir: Annotated[Path, typer.Argument(help="a finished run folder (the --out of "
                                                "`guanghan run`)")],
        scenario: Annotated[Path | None, typer.Option("--scenario", help="the scenario file the "
                                                      "run was made from, for the validation rows "
                                                      "(default: found by the run's SHA-256)")] = None):
    """Rebuild report.html from a finished run's files (summary, events, trajectory, series)."""
    from guanghan.analysis.report_rebuild import rebuild_report

    notes: list[str] = []
    try:
        path = rebuild_report(run_dir, scenario, notes=notes)
    except GuanghanError as exc:
        _fail(str(exc))
    for note in notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    console.print(f"wrote {path}", markup=False, highlight=False)


@app.command("validate")
def validate_command(scenario: str = typer.Argument(..., help="packaged scenario name or TOML file"),
                     run_dir: Path = typer.Option(None, "--run-dir", help="use the summary.json of an "
                                                  "earlier run of this scenario instead of running it")):
    """Print the table of published vs simulated figures (runs the scenario unless --run-dir)."""
    from guanghan.analysis.outputs import OutputError, read_summary
    from guanghan.analysis.validation import validation_rows
    from guanghan.mission.runner import provenance

    sc = _load(scenario)
    if run_dir is not None:
        try:
            doc = read_summary(run_dir)
        except OutputError as exc:
            _fail(str(exc))
        ran = doc.get("provenance", {}).get("scenario_sha256")
        if ran != provenance(sc)["scenario_sha256"]:
            who = doc.get("provenance", {}).get("scenario_file") or "an unknown scenario"
            _fail(f"{run_dir} is a run of another scenario ({who}, or a different version of it), "
                  f"not of {scenario}: run `guanghan run {scenario}` first")
        summary = doc["figures"]
    else:
        summary = _run(sc).summary
    rows = validation_rows(sc, summary)
    table = Table(title=f"{sc.mission.name}: published vs simulated")
    table.add_column("quantity", overflow="fold", min_width=24)
    for col in ("published", "simulated", "tolerance", "unit", "status", "source"):
        table.add_column(col)
    style = {"pass": "green", "fail": "red", "not run": "yellow"}
    for r in rows:
        sim = r["simulated"]
        pub = r["published"]
        shown = f"{sim:.6g}" if isinstance(sim, (int, float)) else (sim if isinstance(sim, str) else "—")
        table.add_row(r["key"], pub if isinstance(pub, str) else f"{pub:g}", shown,
                      f"±{r['tolerance']:g}", r["unit"], f"[{style[r['status']]}]{r['status']}[/]",
                      r["source"].replace("[", "\\["))
    console.print(table)
    for key in sorted(k for k in summary if k.endswith(".propellant_budget_kg")):
        group = key.split(".", 1)[0]
        used, budget = summary.get(f"{group}.total_propellant_kg"), summary[key]
        if isinstance(used, (int, float)) and isinstance(budget, (int, float)):
            console.print(f"{group}: propellant used {used:.1f} kg of the scenario's {budget:.1f} kg "
                          f"budget (margin {budget - used:.1f} kg)", markup=False, highlight=False)
    direct, relay = summary.get("comms.direct_visibility_fraction"), summary.get("comms.relay_coverage_fraction")
    if isinstance(direct, (int, float)) and isinstance(relay, (int, float)):
        console.print(f"comms: direct-to-Earth link {direct:.1%} of the stay, relay coverage {relay:.1%}, "
                      f"{summary.get('comms.data_volume_mbit', float('nan')):.0f} Mbit over the stay",
                      markup=False, highlight=False)
    if any(r["status"] == "fail" for r in rows):
        raise typer.Exit(code=1)


@app.command("scenarios")
def scenarios_command():
    """List the scenarios that ship with Guanghan (run them by name)."""
    from guanghan.mission.scenario_catalogue import packaged

    for name, description in packaged().items():
        console.print(f"{name:22s} {description}", markup=False, highlight=False)


@app.command("sources")
def sources_command(key: str = typer.Argument(None, help="a source key such as CE5-LROC")):
    """Print the sources the packaged scenarios cite, with their addresses (or those of KEY)."""
    from guanghan.mission.scenario_catalogue import sources_text

    lines = sources_text().splitlines()
    if key:
        wanted = f"[{key.strip('[]')}]"
        lines = [line for line in lines if wanted in line]
        if not lines:
            _fail(f"no source {wanted}; `guanghan sources` lists them all")
    console.print("\n".join(lines), markup=False, highlight=False)


@app.command("site")
def site_command(scenario: str = typer.Argument(..., help="packaged scenario name or TOML file"),
                 area: tuple[float, float, float, float] = typer.Option(
                     ..., "--area", help="LAT1 LAT2 LON1 LON2 (deg; longitudes east-positive, the "
                     "box runs eastward from LON1 to LON2)"),
                 out: Path = typer.Option(Path("."), "--out", help="folder for the ranking files"),
                 top: int = typer.Option(10, "--top", min=1, help="rows to print")):
    """Rank candidate landing sites in a lat/lon box from the DEM, the Sun and the Earth."""
    from guanghan.analysis.site_report import FLAT_RADIUS_KM, site_report

    sc = _load(scenario)
    try:
        rep = site_report(sc, *area, out_dir=out)
    except GuanghanError as exc:
        _fail(str(exc))
    table = Table(title=f"{sc.mission.name}: candidate sites at {rep.epoch_utc} "
                        f"(stay {rep.stay_s / 3600:.1f} h)")
    for col in ("lat °", "lon °", "slope °", "rough m", "Sun ° (min)", "Earth °", "score"):
        table.add_column(col, justify="right")
    for r in rep.candidates[:top]:
        table.add_row(f"{r['lat_deg']:.3f}", f"{r['lon_deg']:.3f}", f"{r['slope_deg']:.2f}",
                      f"{r['roughness_m']:.1f}", f"{r['sun_elevation_deg']:.1f} "
                      f"({r['sun_elevation_min_deg']:.1f})", f"{r['earth_elevation_deg']:.1f}",
                      f"{r['score']:.2f}")
    console.print(table)
    console.print(f"note: {rep.scale_note}", markup=False, highlight=False)
    console.print(f"flat (DEM-scale slope < {rep.flat_slope_deg:g}°) within {FLAT_RADIUS_KM:.0f} km "
                  f"of {rep.site_name} ({rep.site_lat_deg:.4f}°, {rep.site_lon_deg:.4f}°): "
                  f"{100 * rep.flat_fraction:.1f} % of the area", markup=False, highlight=False)
    console.print(f"{len(rep.candidates)} candidates written to {rep.parquet_path} "
                  f"(map: {rep.map_path})", markup=False, highlight=False)


@app.command("campaign")
def campaign_command(scenario: str = typer.Argument(..., help="packaged scenario name or TOML file "
                                                    "with a [dispersions] table"),
                     samples: int = typer.Option(..., "--samples", "-n", min=1, help="samples"),
                     out: Path = typer.Option(..., "--out", "-o", help="campaign folder (new or "
                                              "empty; with --resume, the unfinished campaign)"),
                     workers: int = typer.Option(None, "--workers", "-w", min=1, help="local "
                                                 "worker processes (default: one per core)"),
                     scheduler: str = typer.Option(None, "--scheduler", help="a running Dask "
                                                   "scheduler, tcp://HOST:PORT, instead of a "
                                                   "local cluster"),
                     resume: bool = typer.Option(False, "--resume", help="finish a killed campaign "
                                                 "without repeating or losing a sample"),
                     chunk_size: int = typer.Option(None, "--chunk-size", min=1, help="samples per "
                                                    "chunk file (default ~samples/20, at most 50)")):
    """Run a Monte Carlo campaign: samples of the scenario's dispersions on Dask, one row each in
    samples.parquet, and the campaign report."""
    from rich.progress import MofNCompleteColumn, TimeRemainingColumn

    from guanghan.analysis.campaign import CampaignError, run_campaign
    from guanghan.mission.scenario_catalogue import resolve

    try:
        path = resolve(scenario)
    except ScenarioError as exc:
        _fail(str(exc))
    failure = None
    with Progress(SpinnerColumn(), TextColumn("samples"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), TimeElapsedColumn(),
                  console=err_console) as bar:
        task = bar.add_task("samples", total=samples, rate="")

        def progress(done, total):
            speed = bar.tasks[0].speed
            bar.update(task, completed=done, rate=f"{speed:.2f}/s" if speed else "")

        try:
            folder = run_campaign(path, samples, out, workers=workers, scheduler=scheduler,
                                  resume=resume, chunk_size=chunk_size, progress=progress)
        except (ScenarioError, CampaignError) as exc:
            failure = exc
    if failure is not None:
        _fail(str(failure))
    _say_campaign(folder)


def _say_campaign(folder: Path) -> None:
    import collections

    import pyarrow.parquet as pq

    table = pq.read_table(folder / "samples.parquet", columns=["outcome"])
    counts = collections.Counter(table.column("outcome").to_pylist())
    console.print(f"wrote {folder}: samples.parquet ({table.num_rows} samples), report.html; "
                  + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
                  markup=False, highlight=False)


@app.command("campaign-report")
def campaign_report_command(folder: Path = typer.Argument(..., help="a finished campaign folder")):
    """Rebuild a campaign's report.html from its samples.parquet."""
    from guanghan.analysis.campaign import CampaignError, write_report

    try:
        path = write_report(folder)
    except (CampaignError, OSError) as exc:
        _fail(str(exc))
    console.print(f"wrote {path}", markup=False, highlight=False)


@app.command("export")
def export_command(
        run_dir: Annotated[Path, typer.Argument(help="a finished run folder (the --out of "
                                                "`guanghan run`)")],
        fmt: Annotated[str, typer.Option("--format", "-f", help="oem (CCSDS OEM 2.0 KVN), "
                                         "oem-xml, spk (SPICE type 13), czml (Cesium) or csv")],
        out: Annotated[Path | None, typer.Option("--out", "-o", help="file to write (default "
                                                 "RUN_DIR/exports/<scenario>.<ext>)")] = None,
        naif_id: Annotated[int | None, typer.Option("--naif-id", help="SPK object ID, negative "
                                                    "(default -990005); also the OEM "
                                                    "OBJECT_ID")] = None,
        object_id: Annotated[str | None, typer.Option("--object-id", help="OEM OBJECT_ID, e.g. an "
                                                      "international designator (default the "
                                                      "NAIF ID)")] = None):
    """Export a run's trajectory as a CCSDS OEM, a SPICE SPK, Cesium CZML or CSV."""
    from guanghan.analysis.exports import DEFAULT_NAIF_ID, ExportError, export_run

    notes: list[str] = []
    try:
        path = export_run(run_dir, fmt.lower(), out,
                          naif_id=DEFAULT_NAIF_ID if naif_id is None else naif_id,
                          object_id=object_id, notes=notes)
    except ExportError as exc:
        _fail(str(exc))
    for note in notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    console.print(f"wrote {path}", markup=False, highlight=False)


def main():  # pragma: no cover - console entry point
    app()
