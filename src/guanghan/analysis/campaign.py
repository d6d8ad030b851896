"""Monte Carlo campaigns on Dask: samples in parallel, written in chunks, resumable.

``run_campaign(scenario, samples, out)`` runs samples ``0 … samples−1`` of the scenario's
``[dispersions]`` (:mod:`guanghan.mission.dispersions`) on a Dask ``distributed`` cluster — a local
one by default (``workers`` processes, one thread each: SPICE is not thread-safe, and each process
loads the kernels, the gravity field and the compiled kernels once and keeps them for all its
samples), or a running scheduler (``scheduler="tcp://host:8786"``) whose workers have Guanghan
installed. Each sample is :func:`guanghan.analysis.campaign_samples.run_sample`, a pure function of
(scenario text, index, design), so the results do not depend on the number of workers or the order
in which they finish. Unless ``[dispersions] design = "per_sample"``, the undispersed scenario is
designed once, on the cluster, before the samples (``design.json``), and every sample flies that
design with its own dispersions: plan once, fly many (:mod:`guanghan.mission.mission_design`).

The output folder holds ``campaign.json`` (what the campaign is: scenario hash, seed, sample count,
chunk size, legs), ``scenario.toml`` (the text every worker ran), ``design.json`` (the nominal
design the samples flew), ``chunks/chunk-NNNNNN.parquet``
(samples ``k·chunk … (k+1)·chunk−1``, each written atomically once all of its samples are done),
and at the end ``samples.parquet`` (all chunks in index order) and ``report.html``. A killed
campaign loses only the chunks in flight; ``resume=True`` runs the samples of the missing chunks
and nothing else, so the final table equals an uninterrupted run's (``wall_s`` aside).

Assumptions and limitations
    * The per-sample time limit is cooperative (:mod:`guanghan.run_limits`): a leg past its budget
      ends at its next charge and the sample is recorded as a timeout. A compiled call that never
      returns would hold its worker.
    * Local worker processes get ``OMP_NUM_THREADS = 1`` (and the MKL/OpenBLAS/numba equivalents,
      through the nannies' ``env``; the calling process is left alone) so a sample computes the
      same numbers whatever the machine's thread count.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from guanghan.analysis.campaign_samples import (concat_chunks, design_nominal, parse_campaign_scenario,
                                                rows_table, run_sample, text_sha256)
from guanghan.errors import GuanghanError
from guanghan.version import __version__

MANIFEST = "campaign.json"
DESIGN = "design.json"
#: local workers without Dask's statistical profiler (a stack sample every 10 ms) and GIL monitor:
#: with no dashboard nothing reads them, and they cost CPU on every sample
QUIET_WORKERS = {"distributed.worker.profile.enabled": False,
                 "distributed.admin.system-monitor.gil.enabled": False}
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


class CampaignError(GuanghanError):
    """The campaign cannot run as asked (output folder, resume mismatch, workers, scheduler)."""


def default_chunk_size(samples: int) -> int:
    """Samples per chunk file: about 20 chunks, between 1 and 50 samples each."""
    return max(1, min(50, -(-samples // 20)))


def _write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write(tmp)
    os.replace(tmp, path)


def _manifest(scenario, text: str, file: str, samples: int, chunk: int) -> dict:
    return {"scenario": scenario.mission.name, "scenario_file": Path(file).name,
            "scenario_sha256": text_sha256(text), "campaign_seed": scenario.dispersions.seed,
            "samples": samples, "chunk_size": chunk, "guanghan_version": __version__,
            "design": scenario.dispersions.design,
            "legs": [p.name for p in scenario.phases],
            "leg_types": {p.name: p.type for p in scenario.phases},
            "dispersions": [d.model_dump(exclude_none=True) for d in scenario.dispersions.field]}


def _prepare(out: Path, manifest: dict, text: str, resume: bool) -> set[int]:
    """Create or check the campaign folder; the chunk numbers already done."""
    old = out / MANIFEST
    if resume:
        if not old.is_file():
            raise CampaignError(f"{out} holds no campaign to resume (no {MANIFEST})")
        have = json.loads(old.read_text(encoding="utf-8"))
        for key in ("scenario_sha256", "campaign_seed", "samples", "chunk_size", "design"):
            if have.get(key) != manifest[key]:
                raise CampaignError(f"cannot resume {out}: its {key} is {have.get(key)!r}, this "
                                    f"campaign's is {manifest[key]!r} (same scenario text, "
                                    "--samples and --chunk-size needed)")
        remove_partial(out)
        return {int(p.stem.split("-")[1]) for p in (out / "chunks").glob("chunk-*.parquet")}
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        what = "a campaign: pass --resume to finish it" if old.is_file() else "not empty"
        raise CampaignError(f"{out} is {what}, or choose another --out")
    (out / "chunks").mkdir(parents=True, exist_ok=True)
    _write_atomic(out / "scenario.toml", lambda p: p.write_text(text, encoding="utf-8"))
    _write_atomic(out / MANIFEST, lambda p: p.write_text(json.dumps(manifest, indent=1) + "\n",
                                                         encoding="utf-8"))
    return set()


def _client(workers: int | None, scheduler: str | None):
    """(Client, cluster or None): a local cluster of ``workers`` single-threaded processes, or a
    connection to ``scheduler``."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as exc:
            raise CampaignError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    n = workers or os.cpu_count() or 1
    if n < 1:
        raise CampaignError(f"--workers = {n}: need at least 1")
    with dask.config.set(QUIET_WORKERS):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40,
                               env=dict.fromkeys(THREAD_VARIABLES, "1"))     # the workers' only
    return Client(cluster), cluster


def run_campaign(scenario_path, samples: int, out, *, workers: int | None = None,
                 scheduler: str | None = None, resume: bool = False,
                 chunk_size: int | None = None,
                 progress: Callable[[int, int], None] | None = None) -> Path:
    """Run (or finish) a campaign; returns the output folder. ``progress(done, total)`` is called
    as samples finish. Raises ScenarioError for a bad scenario or dispersion spec (before any
    sample runs) and CampaignError for a bad output folder, resume or cluster."""
    if samples < 1:
        raise CampaignError(f"--samples = {samples}: need at least 1")
    file = str(scenario_path)
    text = Path(scenario_path).read_text(encoding="utf-8")
    scenario = parse_campaign_scenario(text, file)
    chunk = chunk_size or default_chunk_size(samples)
    if chunk < 1:
        raise CampaignError(f"--chunk-size = {chunk}: need at least 1")
    out = Path(out).resolve()
    manifest = _manifest(scenario, text, file, samples, chunk)
    done_chunks = _prepare(out, manifest, text, resume)
    n_chunks = -(-samples // chunk)
    todo = [i for k in range(n_chunks) if k not in done_chunks
            for i in range(k * chunk, min((k + 1) * chunk, samples))]
    done = samples - len(todo)
    if progress:
        progress(done, samples)
    if todo:
        _run_samples(out, text, file, todo, chunk, samples, workers, scheduler, progress, done)
    finish(out)
    return out


def _run_samples(out, text, file, todo, chunk, samples, workers, scheduler, progress, done):
    from distributed import as_completed

    client, cluster = _client(workers, scheduler)
    pending: dict[int, list[dict]] = {}
    try:
        key = text_sha256(text)[:12]
        design = _nominal_design(out, client, text, file, key)
        futures = [client.submit(run_sample, text, file, i, design, key=f"guanghan-{key}-{i}", pure=False)
                   for i in todo]
        for fut in as_completed(futures):
            row = fut.result()
            k = row["index"] // chunk
            rows = pending.setdefault(k, [])
            rows.append(row)
            if len(rows) == min((k + 1) * chunk, samples) - k * chunk:
                path = out / "chunks" / f"chunk-{k:06d}.parquet"
                table = rows_table(rows)
                _write_atomic(path, lambda p, t=table: pq.write_table(t, p))
                del pending[k]
            done += 1
            if progress:
                progress(done, samples)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _nominal_design(out: Path, client, text: str, file: str, key: str) -> str | None:
    """The campaign's nominal design text: ``design.json`` of the folder (a resumed campaign flies
    the design its first samples flew) or, made now on the cluster, written there; None when the
    samples design their own."""
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("design") != "nominal":
        return None
    path = out / DESIGN
    if path.is_file():
        return path.read_text(encoding="utf-8")
    design = client.submit(design_nominal, text, file, key=f"guanghan-{key}-design", pure=False).result()
    _write_atomic(path, lambda p: p.write_text(design, encoding="utf-8"))
    return design


def finish(out) -> pa.Table:
    """Assemble ``samples.parquet`` from the chunks (with the manifest as schema metadata) and
    write ``report.html``; returns the table. CampaignError if chunks are missing."""
    out = Path(out)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    n_chunks = -(-manifest["samples"] // manifest["chunk_size"])
    paths = [out / "chunks" / f"chunk-{k:06d}.parquet" for k in range(n_chunks)]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise CampaignError(f"{out} is incomplete ({len(missing)} of {n_chunks} chunks missing, "
                            f"e.g. {missing[0]}): run it again with --resume")
    table = concat_chunks([pq.read_table(p) for p in paths])
    table = table.replace_schema_metadata({b"campaign": json.dumps(manifest).encode()})
    _write_atomic(out / "samples.parquet", lambda p: pq.write_table(table, p))
    write_report(out, table)
    return table


def write_report(out, table: pa.Table | None = None) -> Path:
    """(Re)write ``report.html`` of a finished campaign folder from its ``samples.parquet``."""
    out = Path(out)
    if table is None:
        path = out / "samples.parquet"
        if not path.is_file():
            raise CampaignError(f"{path} not found: the campaign has not finished (run it with "
                                "--resume)")
        table = pq.read_table(path)
    from guanghan.analysis.campaign_report import write_campaign_report

    write_campaign_report(table, out / "report.html")
    return out / "report.html"


def remove_partial(out) -> None:
    """Remove temporary files a killed campaign left in ``out``."""
    for p in Path(out).rglob(".*.tmp-*"):
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
