"""The study runner: many runs on warm workers, in chunks, committed as one tidy table.

Every experiment hands its runs here (``run_study``): a list of ``RunSpec`` (a config, a run
id and a parameter draw; the seed is the config's), a study directory, a worker count and a
chunk size. The runs go to workers in chunks: a worker imports the model once and runs many
runs (joblib's reusable loky executor on this machine; Ray tasks on a cluster), and each run
depends only on its config and seed, so the table is the one a serial loop gives.

**A run is done when its row is committed.** Each finished chunk is written by this process
as numbered parts: the chunk's daily series and journeys first (``timeseries/scenario=<name>/
part-NNNNN.parquet``, ``journeys/...``), then its rows (``rows/part-NNNNN.parquet``), each
atomically (a temporary name, then a rename). A killed study loses at most the chunks in
flight; resuming skips every committed run id and first deletes any dataset part whose rows
were never committed, so no run is counted twice. When every run is committed, the rows are
typed once and written as ``runs.parquet`` and ``runs.csv`` (``sim.tidy``).

A run that raises is recorded (``failed.txt``: one line per run) and counted; the other runs
go on, and resuming retries it. Per-run folders (``summary.json``, ``timeseries.csv``,
``run.json``, ..., as ``python -m sim`` writes them, for ``sim.reproduce``) are written only
with ``keep_runs=True`` (by the workers, so on Ray only on a disk the workers share).

Chunks: ``chunk_size`` runs each, or by default chunks that shrink as the study ends (a
quarter of the remaining runs per worker, at most ``MAX_CHUNK``, at least one), so the workers
finish together and a kill loses little.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from sim import tidy
from sim.io import write_parquet, write_runs

if TYPE_CHECKING:
    from sim.params import SimConfig

FAILED_RUNS = "failed.txt"
MAX_CHUNK = 32  # runs per chunk at most (by default): what a kill can lose per worker


@dataclass(frozen=True)
class RunSpec:
    """One run of a study: its config (with its seed), its id and its parameter draw."""

    config: SimConfig
    run_id: str
    draw: int = 0

    @property
    def seed(self) -> int:
        """The run's seed (the config's)."""
        return self.config.seed


@dataclass(frozen=True)
class Backend:
    """Where the workers run.

    ``kind``: ``"local"`` (this machine: ``n_jobs`` processes, in this process when 1) or
    ``"ray"`` (a Ray cluster: ``ray.init(**ray_init)``, each chunk a task with
    ``ray_remote`` options).
    """

    kind: str = "local"
    n_jobs: int = -1
    ray_init: dict[str, Any] = field(default_factory=dict)
    ray_remote: dict[str, Any] = field(default_factory=dict)

    def workers(self) -> int:
        """How many chunks run at once (on Ray: the cluster's CPUs, known once joined)."""
        if self.kind == "ray":
            import ray

            return max(1, int(ray.cluster_resources().get("CPU", 1)))
        if self.n_jobs < 0:
            return max(1, (os.cpu_count() or 1) + 1 + self.n_jobs)
        return max(1, self.n_jobs)


@dataclass
class ChunkResult:
    """What a worker sends back for one chunk (small: rows and arrow tables)."""

    rows: pa.Table | None  # the rows to commit (``tidy.rows_table``); None: none ran
    datasets: dict[str, dict[str, pa.Table]]  # dataset -> scenario -> table
    failures: list[tuple[str, str]]  # (run_id, one line)
    run_seconds: float  # summed wall time of the chunk's runs, in the worker
    runs: int


@dataclass
class StudyResult:
    """What ``run_study`` did in this call."""

    study: Path
    total: int  # runs in the study
    reused: int  # committed before this call
    ran: int  # committed in this call
    failures: list[tuple[str, str]]  # runs that raised in this call: (run_id, line)
    run_seconds: float  # summed in-worker wall time of the runs of this call
    wall_seconds: float  # of this call, from start to the last commit
    runs: pd.DataFrame | None  # the tidy table, once every run is committed

    @property
    def complete(self) -> bool:
        """Whether every run of the study is committed."""
        return self.runs is not None


# --- in the worker ----------------------------------------------------------------------------

_CODE: dict[str, str] = {}  # the source digest, computed once per worker process


def _code() -> str:
    if "digest" not in _CODE:
        from sim.io import source_digest

        _CODE["digest"] = source_digest()
    return _CODE["digest"]


def run_chunk(specs: Sequence[RunSpec], study: str | None, keep_runs: bool) -> ChunkResult:
    """Run a chunk of runs in this process and return their rows and dataset tables.

    A run that raises is recorded with one line and the chunk goes on. Runs the model
    through ``sim.runner.run`` looked up at call time (tests replace it).
    """
    from sim import runner
    from sim.exits import describe_failure
    from sim.io import run_hashes

    rows: list[dict[str, Any]] = []
    frames: dict[str, dict[str, list[pd.DataFrame]]] = defaultdict(lambda: defaultdict(list))
    failures: list[tuple[str, str]] = []
    seconds = 0.0
    for spec in specs:
        cfg = spec.config
        try:
            started = time.perf_counter()
            result = runner.run(cfg)
            seconds += time.perf_counter() - started
            hashes = run_hashes(cfg, _code())
            row = tidy.run_row(cfg, result.summary, spec.run_id, spec.draw, hashes)
            parts = {
                tidy.TIMESERIES: tidy.timeseries_frame(
                    result.timeseries, spec.run_id, spec.draw, cfg.seed
                )
            }
            if result.journeys is not None:
                parts[tidy.JOURNEYS] = tidy.journeys_frame(
                    result.journeys, spec.run_id, spec.draw, cfg.seed
                )
            if keep_runs and study is not None:
                from sim.io import write_outputs

                write_outputs(result, Path(study) / spec.run_id)
            rows.append(row)  # all of a run or nothing of it
            for name, frame in parts.items():
                frames[name][cfg.scenario.name].append(frame)
        except Exception as exc:
            if os.environ.get("HYDRA_FULL_ERROR") == "1":
                raise
            line = f"[{cfg.scenario.name} seed={cfg.seed}] {describe_failure(exc)}"
            failures.append((spec.run_id, line))
    datasets = {
        name: {s: tidy.to_arrow(pd.concat(parts, ignore_index=True)) for s, parts in by.items()}
        for name, by in frames.items()
    }
    return ChunkResult(tidy.rows_table(rows), datasets, failures, seconds, len(specs))


# --- in the coordinator -----------------------------------------------------------------------


def plan_chunks(
    specs: Sequence[RunSpec], workers: int, chunk_size: int | None = None
) -> list[list[RunSpec]]:
    """Split ``specs`` into chunks, in order: fixed ``chunk_size``, or shrinking (guided).

    Guided: each chunk is a quarter of the remaining runs per worker, at most ``MAX_CHUNK``,
    at least one; the last chunks are single runs, so no worker waits long for another.
    """
    chunks, i = [], 0
    while i < len(specs):
        guided = min(MAX_CHUNK, max(1, math.ceil((len(specs) - i) / (4 * workers))))
        size = chunk_size or guided
        chunks.append(list(specs[i : i + size]))
        i += size
    return chunks


def _clean_uncommitted(study: Path) -> None:
    """Delete dataset parts whose rows were never committed, and temporary files."""
    committed = set(tidy.committed_parts(study))
    for name in tidy.DATASETS:
        for path in (study / name).glob("*/*"):
            number = tidy.part_number(path)
            if (number is None and path.name.startswith(".")) or (
                number is not None and number not in committed
            ):
                path.unlink(missing_ok=True)
    for path in (study / tidy.ROWS).glob(".*"):
        path.unlink(missing_ok=True)


class _Committer:
    """Writes each finished chunk as numbered parts: datasets first, its rows last."""

    def __init__(self, study: Path) -> None:
        self.study = study
        parts = tidy.committed_parts(study)
        self.next = max(parts, default=-1) + 1

    def commit(self, chunk: ChunkResult) -> None:
        if chunk.rows is None:  # every run of the chunk failed: nothing to commit
            return
        name = tidy.part_name(self.next)
        for dataset, by_scenario in chunk.datasets.items():
            for scenario, table in by_scenario.items():
                where = self.study / dataset / f"{tidy.PARTITION}={scenario}" / name
                write_parquet(table, where)
        write_parquet(chunk.rows, self.study / tidy.ROWS / name)
        self.next += 1


def _local_results(
    chunks: list[list[RunSpec]], backend: Backend, study: str, keep_runs: bool
) -> Iterator[ChunkResult]:
    if backend.workers() == 1:
        for chunk in chunks:
            yield run_chunk(chunk, study, keep_runs)
        return
    from joblib import Parallel, delayed

    # loky's executor is reused: the workers (and the model they imported) outlive one call.
    parallel = Parallel(
        n_jobs=backend.n_jobs,
        backend="loky",
        return_as="generator_unordered",
        batch_size=1,
        pre_dispatch="2*n_jobs",
    )
    yield from parallel(delayed(run_chunk)(chunk, study, keep_runs) for chunk in chunks)


def _ray_results(
    chunks: list[list[RunSpec]], backend: Backend, study: str, keep_runs: bool
) -> Iterator[ChunkResult]:
    import ray

    task = ray.remote(run_chunk)
    if backend.ray_remote:
        task = task.options(**backend.ray_remote)
    in_flight: list[Any] = []
    queue = list(chunks)
    limit = 2 * backend.workers()
    try:
        while queue or in_flight:
            while queue and len(in_flight) < limit:
                in_flight.append(task.remote(queue.pop(0), study, keep_runs))
            done, in_flight = ray.wait(in_flight, num_returns=1)
            yield ray.get(done[0])
    finally:
        for ref in in_flight:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)


def _ray_connect(backend: Backend) -> bool:
    """Join (or start) Ray as ``backend.ray_init`` says; True if this call started it."""
    import ray

    if ray.is_initialized():
        return False
    init = {k: v for k, v in backend.ray_init.items() if v is not None}
    init.setdefault("log_to_driver", False)
    ray.init(**init)
    return True


def run_study(
    specs: Sequence[RunSpec],
    study: str | Path,
    *,
    backend: Backend | None = None,
    chunk_size: int | None = None,
    keep_runs: bool = False,
    progress: bool = True,
    on_chunk: Callable[[ChunkResult], None] | None = None,
) -> StudyResult:
    """Run every spec not yet committed in ``study`` and commit each chunk as it finishes.

    The caller holds the study's identity and lock (``sim.study.open_study``); run ids must be
    unique. Returns what was done; ``runs`` is the tidy table (also written as
    ``runs.parquet`` and ``runs.csv``) once every run is committed, None otherwise.

    Args:
        specs: the study's runs, in the order of the table.
        study: the study directory.
        backend: where the workers run (default: every local core).
        chunk_size: runs per chunk (default: shrinking chunks, see ``plan_chunks``).
        keep_runs: also write each run's folder, as ``python -m sim`` does.
        progress: show a progress bar on stderr (tqdm).
        on_chunk: called with each chunk's result after it is committed.

    Raises:
        OSError: a part could not be written (the committed runs stay committed).
        KeyboardInterrupt: passed on after the workers are stopped; committed runs stay.
    """
    backend = backend or Backend()
    study = Path(study)
    started = time.perf_counter()
    ids = [s.run_id for s in specs]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ValueError(f"run id {dup!r} is given twice: every run of a study needs its own id")
    study.mkdir(parents=True, exist_ok=True)
    _clean_uncommitted(study)
    (study / FAILED_RUNS).unlink(missing_ok=True)
    done = tidy.committed_ids(study)
    todo = [s for s in specs if s.run_id not in done]
    failures: list[tuple[str, str]] = []
    seconds, ran = 0.0, 0
    if todo:
        started_ray = backend.kind == "ray" and _ray_connect(backend)
        try:
            chunks = plan_chunks(todo, backend.workers(), chunk_size)
            results = (_ray_results if backend.kind == "ray" else _local_results)(
                chunks, backend, str(study), keep_runs
            )
            committer = _Committer(study)
            with _bar(len(specs), len(specs) - len(todo), progress) as bar:
                for chunk in results:
                    committer.commit(chunk)
                    failures += chunk.failures
                    seconds += chunk.run_seconds
                    ran += chunk.rows.num_rows if chunk.rows is not None else 0
                    if on_chunk is not None:
                        on_chunk(chunk)
                    bar.update(chunk.runs)
                    if failures:
                        bar.set_postfix(failed=len(failures), refresh=False)
        finally:
            if backend.kind == "ray" and started_ray:
                import ray

                ray.shutdown()
    if failures:
        from sim.io import atomic_write

        text = "".join(f"{run_id}: {line}\n" for run_id, line in failures)
        atomic_write(study / FAILED_RUNS, lambda p: p.write_text(text))
    runs = None
    if not failures and len(done) + ran == len(specs):
        runs = finish(study, ids)
    return StudyResult(
        study=study,
        total=len(specs),
        reused=len(done & set(ids)),
        ran=ran,
        failures=failures,
        run_seconds=seconds,
        wall_seconds=time.perf_counter() - started,
        runs=runs,
    )


def finish(study: Path, order: Sequence[str] | None = None) -> pd.DataFrame:
    """Type the committed rows once and write them as ``runs.parquet`` and ``runs.csv``.

    Rows in the order of ``order`` (the specs' run ids), whatever order the chunks finished in.
    """
    runs = tidy.read_rows(study)
    if order is not None:
        rank = {run_id: i for i, run_id in enumerate(order)}
        runs = runs.iloc[runs["run_id"].astype(str).map(rank).argsort(kind="stable")]
        runs = runs.reset_index(drop=True)
    write_runs(runs, study)
    return runs


@contextlib.contextmanager
def _bar(total: int, initial: int, show: bool) -> Iterator[Any]:
    from tqdm import tqdm

    bar = tqdm(
        total=total,
        initial=initial,
        unit="run",
        desc="runs",
        file=sys.stderr,
        disable=not show,
        mininterval=0.5,
        smoothing=0.1,
        dynamic_ncols=True,
    )
    try:
        yield bar
    finally:
        bar.close()
