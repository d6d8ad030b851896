"""The ``guanghan`` command line: run a scenario, validate it against published figures.

    guanghan run scenarios/chang-e-5.toml --out out/ce5
    guanghan validate scenarios/chang-e-5.toml

Bad input exits with code 2 and one message naming the file, the field, the value and why.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from guanghan.errors import GuanghanError, ScenarioError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Guanghan: simulate and verify robotic lunar sample-return missions.")
console = Console()
err_console = Console(stderr=True)


def _load(path: Path):
    from guanghan.mission.scenario import load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(code=2) from None


def _run(scenario):
    from guanghan.mission.runner import run

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=err_console, transient=False) as bar:
        task = bar.add_task("starting", total=max(1, len(scenario.phases)))

        def progress(name, i, n):
            bar.update(task, completed=i, description=f"phase {name}" if i < n else "done")

        try:
            return run(scenario, progress=progress)
        except ScenarioError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(code=2) from None
        except GuanghanError as exc:
            err_console.print(f"[bold red]run failed:[/] {exc}", highlight=False)
            raise typer.Exit(code=1) from None


@app.command("run")
def run_command(scenario: Path = typer.Argument(..., help="scenario TOML file"),
                out: Path = typer.Option(..., "--out", "-o", help="output directory (replaced atomically)")):
    """Run a scenario's phases in order and write events, summary, trajectory and report to OUT."""
    from guanghan.analysis.outputs import write_run

    sc = _load(scenario)
    result = _run(sc)
    path = write_run(result, sc, out)
    console.print(f"wrote {path}/events.json, summary.json, trajectory.parquet, report.html "
                  f"({len(result.events)} events, {result.trajectory.num_rows} trajectory rows)")


@app.command("validate")
def validate_command(scenario: Path = typer.Argument(..., help="scenario TOML file"),
                     run_dir: Path = typer.Option(None, "--run-dir", help="use the summary.json of an "
                                                  "earlier run instead of running the scenario")):
    """Print the table of published vs simulated figures (runs the scenario unless --run-dir)."""
    import json

    from guanghan.analysis.validation import validation_rows

    sc = _load(scenario)
    if run_dir is not None:
        path = run_dir / "summary.json"
        if not path.is_file():
            err_console.print(f"[bold red]error:[/] {path} not found: run `guanghan run` first")
            raise typer.Exit(code=2)
        summary = json.loads(path.read_text())
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
                      f"±{r['tolerance']:g}", r["unit"], f"[{style[r['status']]}]{r['status']}[/]", r["source"])
    console.print(table)
    if any(r["status"] == "fail" for r in rows):
        raise typer.Exit(code=1)


def main():  # pragma: no cover - console entry point
    app()
