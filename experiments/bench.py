"""Benchmarks for the scale targets: per-lead cost, linear growth, bounded memory, the pipeline.

Usage::

    python -m experiments.bench                 # everything (about half an hour)
    python -m experiments.bench quick=1         # smaller sizes, for a smoke check
    python -m experiments.bench only=pipeline   # only the study runner's targets
    python -m experiments.bench only=model      # only the model's targets
    python -m experiments.bench only=scale      # a Sobol' study, on 2 cores and on Ray
    python -m experiments.bench only=memory     # the coordinator of a 50,000-run study
    python -m experiments.bench only=scale sobol_n=16,32      # smaller, extrapolated
    python -m experiments.bench only=draws job_repeats=3   # the main job against draws=0
    python -m experiments.bench only=diagnose   # only the fit of a 20,000-lead CRM export
    python -m experiments.bench profile=1       # also the top of a profile of one run
    python -m experiments.bench out=docs/bench

Machines here are shared and noisy, so every target is a ratio of two timings taken side by
side in the same process: the run and the cost of creating (and removing) one bare
``mesa.Agent``; 10x the lead volume and 1x; 1,000 days and 100; a study's wall time and the
time its runs took inside the workers; the serial study and the parallel one. Each ratio is
taken in ``repeats`` rounds that time both sides (in reverse order every other round), and
the median and the range over the rounds are reported.

The model's targets (issue 19): the run's wall time per lead created (the default
organisation and scenario, 250 days) at most 3x the bare agent; 10x the lead volume at most
11x the time, 1,000 days at most 11x 100 days; the steady state: one 600-day default run
timed in 100-day blocks, per lead created in each block, and each block after the first
(which fills the pipeline) within 10% of the median block (per block, the median over
``repeats`` rounds, each round its own seed); peak memory.

The pipeline's targets (issue 19) measure real studies through the study runner
(``sim.batch.run_study``), workers started cold in every round:

- overhead: a study of 500 short runs (the small organisation, 250 days, every scenario in
  turn) against the summed in-worker run time of its runs divided by the workers, on 1 and
  2 workers;
- parallel efficiency: the default ``make run`` study (every scenario x 20 replicates of
  the default organisation, 500 days), serial / on 2 workers; and whether the two tables
  are identical.

The scale rows (issue 19; ``only=scale`` the first two, ``only=memory`` the third), one round
each (they are long; ``quick=1`` runs a small version only with ``only=scale`` or
``only=memory``):

- a Sobol' study as ``experiments.sensitivity`` makes it (``SOBOL_FACTORS``: ten factors, the
  baseline and ``liaison`` paired on one seed at each point, 250-day runs of the default
  organisation; SALib's sample without second-order indices, so 2 N (D + 2) runs) at
  N = 64 (1,536 runs) on 2 local workers: wall time, runs per second, the summed in-worker
  run time, and wall / (summed run time / 2) against the pipeline's <= 1.10. Extrapolated,
  and labelled so, to N = 512 on 2 cores (linear in runs), to 16 cores (the measured time a
  run and parallel efficiency) and to a Ray cluster of 128 CPUs (the same, plus each chunk's
  round trip as measured on the local head; bounded below by the driver's CPU time per run
  as measured there);
- the same study at N = 16 serially and on a local Ray head of 2 CPUs (``experiments.
  ray_head``: its own ``HOME``, token and ports; a driver process of its own): the tidy
  tables and the Sobol' indices must be equal; and the round trip of an empty Ray task;
- the coordinator of a 50,000-run study (20-day runs of the small organisation, every
  scenario in turn, 2 workers, no per-run folders) and of a 5,000-run one, each in a fresh
  process: its peak resident memory (``VmHWM``; the workers are other processes) < 2 GiB,
  and its growth per 1,000 runs.

On a busy machine the full sizes take long: ``sobol_n=16,32`` measures N = 16 and 32 and
extrapolates along the line through them, ``memory_runs=5000,20000`` extrapolates the 50,000-run
coordinator's peak along the line through those two; every such row says "extrapolated".

The main job's price for honest answers (issue 14): ``python -m experiments.compare_tactics``
as ``make run`` runs it (parameter draws) against the same program with ``draws=0`` (the
noise-only comparison), each as its own process on the same code, ``job_repeats`` rounds
(default 3: a round takes minutes), round ``i`` with ``draw_seed`` + i; at most 5x. Not in
``quick=1`` (unless ``only=draws``, where it is a small version); ``keep=DIR`` keeps the
studies.

The diagnostic's target (issue 16): fitting a 20,000-lead CRM export (the default
organisation's own export, ``sim.export``) with ``python -m experiments.diagnose`` at its
default sizes (300 calibration runs, 20 check runs; ``compare=false``) takes minutes, not
hours, on 2 cores: one round (it is long), wall time in seconds.

Writes ``bench.csv`` (every measurement), ``targets.csv``, ``bench.png``/``.svg`` (time
against leads created, log-log, with the linear reference; with the model's targets) and,
with ``profile=1``, ``profile.txt``; prints each target with its goal, median, range and
whether it is met.
"""

from __future__ import annotations

import compileall
import contextlib
import dataclasses
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mesa
import pandas as pd

import sim
from experiments.common import fail, parse
from sim.config import choice_override
from sim.io import atomic_write
from sim.params import ConfigError
from sim.plotting import bench_chart

OPTIONS = {
    "quick": 0,
    "repeats": 5,
    "profile": 0,
    "out": "docs/bench",
    "only": "all",
    "job_repeats": 3,
    "draw_seed": 0,
    "keep": "",
    "sobol_n": str(64),
    "memory_runs": "5000,50000",
}
GROUPS = ("all", "model", "pipeline", "scale", "memory", "draws", "diagnose")
FIT_LEADS = 20_000  # the diagnostic target: a 20,000-lead export
PIPELINE_RUNS, PIPELINE_DAYS = 500, 250  # the overhead study: 500 runs of the small org
PER_LEAD_GOAL = 3  # a run's wall time per lead, in bare agents created and removed (issue 19)
ROOT = Path(__file__).resolve().parent.parent


def agent_floor(n: int, repeats: int) -> float:
    """Median seconds to create one bare mesa.Agent (and remove it, as closed leads are).

    The cyclic collector runs first (``gc.collect``), as before every timed run
    (``timed_run``), so that each side starts without the other's garbage: a finished model
    is only freed by the cyclic collector (its agents and the model refer to each other).
    Without it the floor measured right after a run came out 25-40% slower than after
    another floor (3.9-4.4 us against 3.1 us on a quiet machine), so the ratio alternated
    with the order of the round (about 5.3 and 4.3). How much of that gap collecting
    removes is still to be measured on a quiet machine: under a load average of 10-12 the
    floor after a run was 4% slower than after a floor without collecting, 2% with it.
    """
    times = []
    for _ in range(repeats):
        model = mesa.Model(rng=0)
        gc.collect()
        started = time.perf_counter()
        agents = [mesa.Agent(model) for _ in range(n)]
        for agent in agents:
            agent.remove()
        times.append((time.perf_counter() - started) / n)
    return statistics.median(times)


def block_costs(seed: int, days: int, block: int) -> list[tuple[float, int]]:
    """Wall seconds and leads created of each ``block``-day stretch of one default run.

    One model run to ``days`` as ``FunnelModel.run`` runs it (with its sparse collector),
    stepped ``block`` days at a time, so every block is timed in the same run.
    """
    from sim.model import FunnelModel, sparse_gc

    cfg = sim.build_config(seed=seed, days=days, warmup_days=10)
    gc.collect()
    model = FunnelModel(cfg)
    out = []
    with sparse_gc():
        for _ in range(days // block):
            created = model.ledger.created
            started = time.perf_counter()
            model.run_for(block)
            out.append((time.perf_counter() - started, model.ledger.created - created))
    return out


def scaled_org(k: float) -> dict:
    """The default organisation with lead volume, teams and nurture capacity scaled by k."""
    org = sim.params.OrgParams()
    return {
        "inbound_leads_per_day": org.inbound_leads_per_day * k,
        "n_marketers": max(1, round(org.n_marketers * k)),
        "n_reps": max(1, round(org.n_reps * k)),
    }


def timed_run(seed: int, **params) -> tuple[float, int]:
    """Wall seconds of one run, and the leads it created (all days, all sources)."""
    cfg = sim.build_config(seed=seed, **params)
    gc.collect()  # start clean, as the floor does (``agent_floor``)
    started = time.perf_counter()
    result = sim.run(cfg, keep_model=True)
    return time.perf_counter() - started, result.model.ledger.created


def rounds(repeats: int, *measures) -> list[tuple]:
    """Call every one of ``measures`` once per round, ``repeats`` rounds; one tuple per round.

    Taking the sides of a ratio in the same round puts them next to each other in time, so
    a slow spell of a shared machine slows both; every other round runs them in reverse
    order, so that neither side always comes first.
    """
    out = []
    for i in range(repeats):
        order = range(len(measures)) if i % 2 == 0 else reversed(range(len(measures)))
        results = {j: measures[j](i) for j in order}
        out.append(tuple(results[j] for j in range(len(measures))))
    return out


def profile_top(n: int = 25) -> str:
    """The top of a cProfile of one default run (one company-year), by own time."""
    import cProfile
    import io
    import pstats

    cfg = sim.build_config(seed=0, days=250, warmup_days=10)
    sim.run(cfg)  # warm
    profiler = cProfile.Profile()
    profiler.enable()
    sim.run(cfg)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(n)
    return out.getvalue()


def peak_memory(days: int, k: float) -> tuple[float, int]:
    """Peak resident memory (MiB) of a run in a fresh process, and its leads created.

    Linux's ``ru_maxrss`` of a child started from a large process can report the parent's
    resident size (the high-water mark survives the exec), so the child reads its own
    high-water mark, ``VmHWM``, where there is one.
    """
    code = (
        "import json, resource, sim\n"
        f"cfg = sim.build_config(seed=1, days={days}, warmup_days=10, **{scaled_org(k)!r})\n"
        "r = sim.run(cfg, keep_model=True)\n"
        "try:\n"
        "    with open('/proc/self/status') as f:\n"
        "        kib = next(int(x.split()[1]) for x in f if x.startswith('VmHWM:'))\n"
        "except (OSError, StopIteration):\n"
        "    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps({'rss_kib': kib, 'leads': r.model.ledger.created}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return data["rss_kib"] / 1024, data["leads"]


def _cold_workers() -> None:
    """Stop joblib's reusable workers, so the next study starts its own (as a user's does)."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


def timed_study(
    specs: list, n_jobs: int, *, backend=None, where: Path | None = None
) -> tuple[float, float, pd.DataFrame]:
    """Wall seconds of a study through the runner, its runs' summed in-worker seconds, table.

    ``backend``: instead of ``n_jobs`` local workers (a Ray cluster, for the scale group);
    ``where``: the study directory to keep (default: a temporary one, deleted).
    """
    from sim.batch import Backend, run_study

    _cold_workers()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        done = run_study(
            specs, where or tmp, backend=backend or Backend(n_jobs=n_jobs), progress=False
        )
        wall = time.perf_counter() - started
    if not done.complete:
        raise RuntimeError(f"the bench study failed: {done.failures[:1]}")
    return wall, done.run_seconds, done.runs


def overhead_specs(n_runs: int, days: int) -> list:
    """The overhead study: ``n_runs`` runs of the small org, every scenario in turn."""
    from experiments.compare_tactics import all_scenarios
    from sim.batch import RunSpec

    scenarios = all_scenarios()
    configs = [
        sim.load_config(
            [choice_override("scenario", [s]), "org=small", f"days={days}", "warmup_days=10"]
        )
        for s in scenarios
    ]
    return [
        RunSpec(dataclasses.replace(configs[i % len(configs)], seed=i), f"run{i}")
        for i in range(n_runs)
    ]


def make_run_specs(replicates: int, days: int | None = None) -> list:
    """The runs of ``make run`` (every scenario x ``replicates`` seeds, default org)."""
    from experiments.compare_tactics import CONFIG_NAME, all_scenarios, run_specs
    from sim.config import validate_overrides

    configs: list = []
    extra = [f"days={days}", "warmup_days=20"] if days else []
    validate_overrides(
        [choice_override("scenario", all_scenarios()), f"seed=range(1,{1 + replicates})", *extra],
        multirun=True,
        config_name=CONFIG_NAME,
        configs=configs,
    )
    return run_specs(configs, range(1, 1 + replicates))


def target(name: str, goal: str, values: list[float], ok, rounds_note: str = "") -> dict:
    """One row of the targets table: the median of ``values`` against the goal, and range."""
    median = statistics.median(values)
    span = f"{min(values):.3g}-{max(values):.3g}" if len(values) > 1 else "one round"
    return {
        "target": name + rounds_note,
        "goal": goal,
        "median": median,
        "range": span,
        "rounds": len(values),
        "met": bool(ok(median)),
    }


def pipeline_targets(quick: bool, repeats: int, record) -> list[dict]:
    """The study runner's targets: overhead on 1 and 2 workers, parallel efficiency."""
    n_runs, days = (100, 60) if quick else (PIPELINE_RUNS, PIPELINE_DAYS)
    specs = overhead_specs(n_runs, days)
    timed_study(specs[:8], 1)  # warm this process (imports, first runs) before timing
    overheads = rounds(repeats, lambda i: timed_study(specs, 1), lambda i: timed_study(specs, 2))
    one, two = [], []
    for (wall1, run1, _), (wall2, run2, _) in overheads:
        one.append(wall1 / run1)
        two.append(wall2 / (run2 / 2))
        record("overhead", runs=n_runs, days=days, workers=1, wall_seconds=wall1, run_seconds=run1)
        record("overhead", runs=n_runs, days=days, workers=2, wall_seconds=wall2, run_seconds=run2)
    replicates, study_days = (4, 100) if quick else (20, None)
    study = make_run_specs(replicates, study_days)
    studies = rounds(repeats, lambda i: timed_study(study, 1), lambda i: timed_study(study, 2))
    speedups, identical = [], True
    for (serial, _, a), (parallel, _, b) in studies:
        speedups.append(serial / parallel)
        identical = identical and a.equals(b)
        record(
            "make_run",
            runs=len(study),
            serial_seconds=serial,
            parallel_seconds=parallel,
            speedup=serial / parallel,
        )
    label = f"{n_runs}-run study ({days} days, small org)"
    return [
        target(f"{label}: wall / summed run time, 1 core", "<= 1.05", one, lambda m: m <= 1.05),
        target(
            f"{label}: wall / (summed run time / 2), 2 cores", "<= 1.10", two, lambda m: m <= 1.10
        ),
        target(
            f"make run study ({len(study)} runs): serial / 2 workers",
            ">= 1.85",
            speedups,
            lambda m: m >= 1.85,
        ),
        {
            "target": "study tables identical serial vs 2 workers",
            "goal": "yes",
            "median": float(identical),
            "range": "every round",
            "rounds": len(studies),
            "met": identical,
        },
    ]


def timed_job(args: list[str], where: Path) -> tuple[float, int]:
    """Wall seconds of one ``python -m experiments.compare_tactics`` into ``where``, and its runs.

    The whole program as a user runs it (checks, the study, the comparison, PRIM, drivers,
    report and figures), in its own process, from the repository (as ``make run``).

    Raises:
        RunsFailedError: the program failed (its last error line).
    """
    import os
    import re

    from sim.exits import RunsFailedError

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HYDRA_FULL_ERROR", None)
    cmd = [sys.executable, "-m", "experiments.compare_tactics", *args, f"hydra.sweep.dir={where}"]
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RunsFailedError(f"{' '.join(cmd[2:])} failed (exit {done.returncode}): {last}")
    runs = re.search(r"= (\d+) runs ->", done.stderr)
    return wall, int(runs.group(1)) if runs else 0


def draws_targets(quick: bool, repeats: int, draw_seed: int, keep: str, record) -> list[dict]:
    """The main job against the same program with ``draws=0``, side by side (issue 14: <= 5x).

    Round ``i`` runs the main job with ``draw_seed = draw_seed + i`` (so the rounds are also
    the study of how stable its answer is across draw seeds) and the noise-only comparison
    (``draws=0``), on the same code, in reverse order every other round. ``keep=DIR`` keeps
    every study (``DIR/draw_seed<k>`` and ``DIR/draws0_<i>``); otherwise they are deleted.
    ``quick``: a small version (small org, 60 days, 2 replicates, 4 draws) to check the row.
    """
    small = ["org=small", "days=60", "warmup_days=10", "replicates=2", "draws=4"]
    common = small if quick else []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(keep) if keep else Path(tmp)

        def main_job(i: int) -> tuple[float, int]:
            seed = draw_seed + i
            return timed_job([*common, f"draw_seed={seed}"], base / f"draw_seed{seed}")

        def noise_only(i: int) -> tuple[float, int]:
            return timed_job([*common, "draws=0"], base / f"draws0_{i}")

        pairs = rounds(repeats, main_job, noise_only)
    ratios = []
    for i, ((main, n_main), (noise, n_noise)) in enumerate(pairs):
        ratios.append(main / noise)
        record(
            "draws",
            draw_seed=draw_seed + i,
            main_runs=n_main,
            main_seconds=main,
            noise_only_runs=n_noise,
            noise_only_seconds=noise,
            ratio=main / noise,
        )
    (_, n_main), (_, n_noise) = pairs[0]
    return [
        target(
            f"main job ({n_main} runs) / the same with draws=0 ({n_noise} runs): wall time",
            "<= 5",
            ratios,
            lambda m: m <= 5,
        )
    ]


def diagnose_targets(quick: bool, record) -> list[dict]:
    """The diagnostic's target: fit a 20,000-lead export (its default sizes) in minutes."""
    from experiments import diagnose
    from sim import export as ex
    from sim.runner import run

    leads = 5_000 if quick else FIT_LEADS
    per_day = sim.params.OrgParams().inbound_leads_per_day * 1.13  # and the reps' prospects
    days = round(leads / per_day)  # the export is every lead's journey: no warm-up needed
    cfg = sim.load_config([f"days={days}", "warmup_days=0", "record_journeys=true"])
    with tempfile.TemporaryDirectory() as tmp:
        data = ex.write_export(run(cfg).journeys, Path(tmp) / "export.csv")
        n = len(ex.read_export(data).frame)
        team = Path(tmp) / "team.yaml"
        team.write_text(f"n_reps: {cfg.org.n_reps}\nn_marketers: {cfg.org.n_marketers}\n")
        sizes = ["particles=40", "check=4", "warmup_days=10"] if quick else []
        started = time.perf_counter()
        status = diagnose.main(
            [f"data={data}", f"team={team}", "compare=false", f"hydra.run.dir={tmp}/out", *sizes]
        )
        wall = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"python -m experiments.diagnose exited {status}")
    record("diagnose", leads=n, days=cfg.days, wall_seconds=wall)
    return [
        target(
            f"diagnose: fit a {n:,}-lead export ({'quick' if quick else 'default'} sizes), seconds",
            "<= 900 (minutes, not hours)",
            [wall],
            lambda m: m <= 900,
        )
    ]


# --- the scale group (issue 19): a Sobol' study, on Ray, and a large study's coordinator -------

#: The Sobol' study's tactic (paired with the baseline at every point, on the same seed).
SOBOL_TACTIC = "liaison"
#: Its ten factors: seven of calibration's behavioural parameters (over its search bounds)
#: and three of the tactic's uncertainties (over their plausible ranges).
SOBOL_FACTORS = (
    "behaviour.intent_decay_per_day",
    "behaviour.marketing_score_noise",
    "behaviour.opportunity_hours_per_day",
    "behaviour.rep_initial_trust",
    "behaviour.follow_up_bar",
    "behaviour.contact_rate",
    "behaviour.win_base",
    f"scenario.tactics.{SOBOL_TACTIC}.rep_hours_per_week",
    f"scenario.tactics.{SOBOL_TACTIC}.route_hours",
    f"scenario.tactics.{SOBOL_TACTIC}.brief_hours",
)
SOBOL_N, SOBOL_N_TARGET, SOBOL_N_RAY = 64, 512, 16  # measured, extrapolated to, on Ray
SOBOL_DAYS = 250
MEMORY_RUNS, MEMORY_DAYS = 50_000, 20  # the large study whose coordinator is measured
MEMORY_GIB = 2
#: The machines the Sobol' study is extrapolated to: a 16-core machine, and a Ray cluster.
CORES_BIG, CLUSTER_CPUS = 16, 128


@dataclasses.dataclass
class SobolStudy:
    """The runs of a Sobol' study, as ``experiments.sensitivity`` makes them, and its analysis."""

    specs: list
    ids: list[str]
    prob: dict
    design: object  # the sample, in unit coordinates
    kpis: list[str]

    def indices(self, runs: pd.DataFrame) -> pd.DataFrame:
        """The Sobol' indices (``sensitivity.csv``'s table) of the runs' paired effects."""
        from experiments import sensitivity as sa

        effects = sa.effects(runs, self.ids, self.kpis, "difference")
        return sa.analyse("sobol", self.prob, self.design, effects, seed=0)


def sobol_study(samples: int, org: str = "default", days: int = SOBOL_DAYS) -> SobolStudy:
    """The Sobol' study of ``SOBOL_FACTORS`` with ``samples`` base samples (N), as runs.

    The sensitivity program's own path (``python -m experiments.sensitivity method=sobol
    samples=N scenario=liaison replicates=1 effect=difference factors=...``): SALib's sample
    without second-order indices, N x (D + 2) points, each the baseline and the tactic on one
    seed, so 2 N (D + 2) runs.
    """
    from experiments import sensitivity as sa
    from experiments.common import scenario_configs
    from sim.batch import RunSpec

    opts = {**sa.OPTIONS, "method": "sobol", "samples": samples, "replicates": 1}
    overrides = [f"org={org}", f"days={days}", "warmup_days=10"]
    configs = scenario_configs([opts["baseline"], SOBOL_TACTIC], overrides)
    bases = {"baseline": configs[opts["baseline"]], "scenario": configs[SOBOL_TACTIC]}
    factors = sa.factors_of(",".join(SOBOL_FACTORS), list(bases.values()))
    prob = sa.problem(factors)
    design = sa.sample("sobol", prob, opts)
    runs, ids = sa.paired_runs(sa.points(factors, design), factors, bases, opts)
    specs = [RunSpec(cfg, run_id) for cfg, run_id in zip(runs, ids, strict=True)]
    return SobolStudy(specs, ids, prob, design, opts["kpis"].split(","))


def coordinated_study(specs: list, n_jobs: int, **kwargs) -> dict:
    """``timed_study`` with the coordinator's (this process's) CPU seconds beside it."""
    cpu = time.process_time()
    wall, run_seconds, runs = timed_study(specs, n_jobs, **kwargs)
    return {
        "wall": wall,
        "run_seconds": run_seconds,
        "coordinator_cpu": time.process_time() - cpu,
        "runs": runs,
    }


def ray_child(address: str, samples: int, org: str, days: int, where: str) -> None:
    """In a driver joined to the head at ``address``: the Ray per-task costs, then the study.

    Prints one JSON line: the round trip of one empty task (median of 30, one at a time),
    the wall time per task of 100 empty tasks in flight at once, and the study's wall time,
    summed in-worker run time and this driver's CPU seconds; the study is kept in ``where``.
    """
    import ray

    from sim.batch import Backend, run_chunk

    ray.init(address=address, log_to_driver=False)
    try:
        task = ray.remote(run_chunk)
        ray.get([task.remote([], None, False) for _ in range(4)])  # start the workers
        trips = []
        for _ in range(30):
            started = time.perf_counter()
            ray.get(task.remote([], None, False))
            trips.append(time.perf_counter() - started)
        started = time.perf_counter()
        ray.get([task.remote([], None, False) for _ in range(100)])
        batch = (time.perf_counter() - started) / 100
        study = sobol_study(samples, org, days)
        backend = Backend(kind="ray", ray_init={"address": address})
        done = coordinated_study(study.specs, 0, backend=backend, where=Path(where))
    finally:
        ray.shutdown()
    del done["runs"]
    print(json.dumps({"round_trip": statistics.median(trips), "in_flight": batch, **done}))


def child_json(code: str, what: str, env: dict | None = None) -> dict:
    """Run ``code`` in a fresh Python from the repository; the JSON of its last output line.

    Raises:
        RuntimeError: the child failed (``what`` and its last error line).
    """
    env = {**(os.environ if env is None else env), "PYTHONPATH": str(ROOT)}
    env.pop("HYDRA_FULL_ERROR", None)
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"{what} failed: {last}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def sobol_on_ray(samples: int, org: str, days: int, where: Path, head=None) -> dict:
    """The Sobol' study on a local Ray head, in a driver of its own (``ray_child``).

    The head is ``head`` (an ``experiments.ray_head.RayHead``), or one of 2 CPUs of its own,
    stopped with all it started afterwards. The driver is a child process with the head's
    environment (its own token and ``HOME``).
    """
    from experiments.ray_head import ray_head

    with contextlib.nullcontext(head) if head else ray_head(num_cpus=2) as joined:
        code = (
            "from experiments.bench import ray_child\n"
            f"ray_child({joined.address!r}, {samples}, {org!r}, {days}, {str(where)!r})\n"
        )
        return child_json(code, "the Sobol' study on the local Ray head", joined.env)


def memory_child(n_runs: int, days: int, n_jobs: int) -> None:
    """In a fresh process: a study of ``n_runs`` runs of the small org; this process's memory.

    Prints one JSON line: resident memory (MiB) after the imports, after the specs are made,
    and the peak (``VmHWM``) over the whole study, with its wall time. The workers are other
    processes: only the coordinator is measured.
    """
    from sim.batch import Backend, run_study

    def status(key: str) -> float:
        with open("/proc/self/status") as f:
            return next(int(x.split()[1]) for x in f if x.startswith(key + ":")) / 1024

    imported = status("VmRSS")
    specs = overhead_specs(n_runs, days)
    made = status("VmRSS")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        done = run_study(specs, tmp, backend=Backend(n_jobs=n_jobs), progress=False)
        wall = time.perf_counter() - started
        parts = len(list(Path(tmp, "rows").glob("part-*.parquet")))
    if not done.complete:
        raise RuntimeError(f"the memory study failed: {done.failures[:1]}")
    print(
        json.dumps(
            {
                "imported_mib": imported,
                "specs_mib": made,
                "peak_mib": status("VmHWM"),
                "wall": wall,
                "runs": len(done.runs),
                "parts": parts,
            }
        )
    )


def coordinator_memory(n_runs: int, days: int, n_jobs: int = 2) -> dict:
    """``memory_child`` in a fresh process (so no earlier work of this one is counted)."""
    code = f"from experiments.bench import memory_child\nmemory_child({n_runs}, {days}, {n_jobs})\n"
    return child_json(code, f"the {n_runs}-run memory study")


def measured(name: str, value: float, how: str) -> dict:
    """A row of the targets table that is a measurement or an extrapolation, not a goal."""
    return {"target": name, "goal": "-", "median": value, "range": how, "rounds": 1, "met": None}


def sizes_of(text: str, key: str, power_of_two: bool = False) -> tuple[int, ...]:
    """Comma-separated sizes, ascending (``sobol_n=16,32``).

    Raises:
        ConfigError: not whole numbers >= 2 (powers of two for a Sobol' N).
    """
    try:
        sizes = tuple(sorted({int(x) for x in text.split(",")}))
    except ValueError:
        sizes = ()
    if not sizes or sizes[0] < 2 or (power_of_two and any(n & (n - 1) for n in sizes)):
        what = "powers of two >= 2" if power_of_two else "whole numbers >= 2"
        raise ConfigError(f"{key}={text}: must be {what}, comma-separated")
    return sizes


def scale_targets(quick: bool, record, sobol_ns: tuple[int, ...] = (SOBOL_N,)) -> list[dict]:
    """Issue 19's scale rows: a Sobol' study on 2 cores and on Ray.

    One round each (they are long): the Sobol' study at each N of ``sobol_ns`` on 2 local
    workers, extrapolated to ``SOBOL_N_TARGET`` (in proportion to the runs from one N, along
    the line through two or more), to ``CORES_BIG`` cores and to a Ray cluster of
    ``CLUSTER_CPUS``; the study of ``SOBOL_N_RAY`` serially and on a local Ray head, whose
    tables must be equal. ``quick``: the small org, 40-day runs, N of 2 and 4 (and 2 on Ray),
    whatever the sizes given.
    """
    from sim.batch import plan_chunks

    org, days = ("small", 40) if quick else ("default", SOBOL_DAYS)
    ns, n_ray = ((2, 4), 2) if quick else (sobol_ns, SOBOL_N_RAY)
    rows: list[dict] = []
    # The Sobol' study on 2 cores.
    timed_study(sobol_study(2, org, days).specs[:4], 1)  # warm this process before timing
    walls: dict[int, float] = {}
    for n in ns:
        study = sobol_study(n, org, days)
        two = coordinated_study(study.specs, 2)
        runs, walls[runs] = len(study.specs), two["wall"]
        record(
            "sobol",
            samples=n,
            runs=runs,
            days=days,
            org=org,
            workers=2,
            wall_seconds=two["wall"],
            run_seconds=two["run_seconds"],
            coordinator_cpu=two["coordinator_cpu"],
        )
    per_run = two["run_seconds"] / runs  # of the largest study
    eff = (two["run_seconds"] / 2) / two["wall"]  # the measured parallel efficiency
    label = f"Sobol' N={n} ({runs:,} runs, {days} days, {org} org)"
    rows.append(
        target(
            f"{label}: wall / (summed run time / 2), 2 cores",
            "<= 1.10",
            [two["wall"] / (two["run_seconds"] / 2)],
            lambda m: m <= 1.10,
        )
    )
    for r, wall in walls.items():
        n_r = r // (2 * (len(SOBOL_FACTORS) + 2))
        rows.append(
            measured(f"Sobol' N={n_r} ({r:,} runs) on 2 cores: wall seconds", wall, "measured")
        )
    rows.append(measured(f"{label}: runs per second, 2 cores", runs / two["wall"], "measured"))
    rows.append(measured(f"{label}: summed in-worker run seconds", two["run_seconds"], "measured"))
    # The same study smaller, serially and on a local Ray head: equal tables.
    small = sobol_study(n_ray, org, days)
    with tempfile.TemporaryDirectory() as tmp:
        serial = coordinated_study(small.specs, 1, where=Path(tmp, "serial"))
        ray = sobol_on_ray(n_ray, org, days, Path(tmp, "ray"))
        a = pd.read_parquet(Path(tmp, "serial", "runs.parquet"))
        b = pd.read_parquet(Path(tmp, "ray", "runs.parquet"))
    equal = a.equals(b) and small.indices(a).equals(small.indices(b))
    record(
        "sobol_ray",
        samples=n_ray,
        runs=len(small.specs),
        serial_seconds=serial["wall"],
        ray_seconds=ray["wall"],
        ray_run_seconds=ray["run_seconds"],
        ray_driver_cpu=ray["coordinator_cpu"],
        round_trip=ray["round_trip"],
        in_flight=ray["in_flight"],
        equal=equal,
    )
    rows.append(
        {
            "target": f"Sobol' N={n_ray} ({len(small.specs)} runs) on a local Ray head (2 CPUs):"
            " runs and indices tables equal to serial",
            "goal": "yes",
            "median": float(equal),
            "range": "one round",
            "rounds": 1,
            "met": equal,
        }
    )
    rows.append(
        measured(
            f"Sobol' N={n_ray} on the local Ray head: wall seconds",
            ray["wall"],
            f"measured (serially: {serial['wall']:.0f} s)",
        )
    )
    rows.append(
        measured(
            "Ray: one empty task's round trip on the local head (ms)",
            ray["round_trip"] * 1e3,
            "measured, median of 30",
        )
    )
    rows.append(
        measured("Ray: wall per empty task, 100 in flight (ms)", ray["in_flight"] * 1e3, "measured")
    )
    # Extrapolations from the measured figures.
    n_big = SOBOL_N_TARGET if not quick else 4 * n
    big = 2 * n_big * (len(SOBOL_FACTORS) + 2)
    if len(walls) > 1:
        line = statistics.linear_regression(list(walls), list(walls.values()))
        at_big, how = line.intercept + line.slope * big, f"along the line through N={ns}"
    else:
        at_big, how = two["wall"] * big / runs, f"in proportion to the runs from N={n}"
    rows.append(
        measured(
            f"Sobol' N={n_big} ({big:,} runs), 2 cores: wall seconds",
            at_big,
            f"extrapolated: {how}",
        )
    )
    coordinator = big * two["coordinator_cpu"] / runs  # its CPU per run, as measured on 2
    rows.append(
        measured(
            f"the same on {CORES_BIG} cores: wall seconds",
            max(big * per_run / (CORES_BIG * eff), coordinator),
            f"extrapolated: {per_run:.3f} s a run, efficiency {eff:.2f} as on 2; the "
            f"coordinator alone needs {coordinator:.0f} s",
        )
    )
    chunks = len(plan_chunks(range(big), CLUSTER_CPUS))
    work = big * per_run / (CLUSTER_CPUS * eff) + chunks * ray["round_trip"] / CLUSTER_CPUS
    driver = big * ray["coordinator_cpu"] / len(small.specs)  # the driver's serial share
    rows.append(
        measured(
            f"the same on a Ray cluster of {CLUSTER_CPUS} CPUs: wall seconds",
            max(work, driver),
            f"extrapolated: + {chunks} chunks x {ray['round_trip'] * 1e3:.1f} ms "
            f"round trip; the driver alone needs {driver:.0f} s",
        )
    )
    return rows


def memory_targets(quick: bool, record, memory_runs=(5_000, MEMORY_RUNS)) -> list[dict]:
    """The peak memory of a study's coordinator at each size of ``memory_runs``.

    Each study in a fresh process (``coordinator_memory``); extrapolated to ``MEMORY_RUNS``
    along the line through the two largest sizes when they stop short of it, and the row says
    so. Apart from the Sobol' rows (``only=memory``): a peak does not depend on the machine's
    load, a time does. ``quick``: 100 and 400 runs, extrapolated to 1,000.
    """
    rows: list[dict] = []
    sizes = (100, 400) if quick else memory_runs
    peaks = {}
    for size in sizes:
        mem = coordinator_memory(size, MEMORY_DAYS)
        peaks[size] = mem["peak_mib"]
        record(
            "coordinator_memory",
            runs=size,
            days=MEMORY_DAYS,
            **{k: v for k, v in mem.items() if k != "runs"},
        )
    hi, goal_runs, how = sizes[-1], 1_000 if quick else MEMORY_RUNS, "one round"
    if hi >= goal_runs or len(sizes) == 1:  # measured at the goal's size (or no line to follow)
        goal_runs = hi
    if len(sizes) > 1:
        lo = sizes[-2]
        growth = (peaks[hi] - peaks[lo]) / (hi - lo)
        rows.append(
            measured(
                f"coordinator peak memory per 1,000 runs, {lo:,} to {hi:,} runs (MiB)",
                growth * 1000,
                f"measured: {peaks[lo]:.0f} MiB at {lo:,}, {peaks[hi]:.0f} at {hi:,}",
            )
        )
        if goal_runs != hi:
            how = f"extrapolated from {lo:,} and {hi:,} runs"
    peak = peaks[hi] + (growth * (goal_runs - hi) if goal_runs != hi else 0.0)
    rows.append(
        target(
            f"coordinator peak memory, {goal_runs:,}-run study "
            f"({MEMORY_DAYS} days, small org), MiB",
            f"< {MEMORY_GIB * 1024}",
            [peak],
            lambda m: m < MEMORY_GIB * 1024,
        )
        | {"range": how}
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Measure every target and write the results."""
    parsed = parse(argv, __doc__, OPTIONS)
    if isinstance(parsed, int):
        return parsed
    opts, rest = parsed
    try:
        if rest:
            raise ConfigError(f"{rest[0]}: unknown option; allowed: {', '.join(OPTIONS)}")
        if opts["only"] not in GROUPS:
            raise ConfigError(f"only={opts['only']}: must be one of {', '.join(GROUPS)}")
        sobol_ns = sizes_of(opts["sobol_n"], "sobol_n", power_of_two=True)
        memory_runs = sizes_of(opts["memory_runs"], "memory_runs")
    except ConfigError as exc:
        return fail(exc)
    quick, repeats = bool(opts["quick"]), max(1, opts["repeats"])
    rows: list[dict] = []
    # Measure the package as installed, byte-compiled (as `make` leaves it): the studies start
    # workers, and compiling the package in each would be counted as their start-up.
    for package in ("sim", "experiments", "hydra_plugins"):
        compileall.compile_dir(ROOT / package, quiet=1)

    def record(kind: str, **values) -> None:
        rows.append({"kind": kind, **values})
        print(
            f"  {kind}: "
            + ", ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()
            ),
            file=sys.stderr,
        )

    targets: list[dict] = []
    floor = per_lead = None
    if opts["only"] in ("all", "model"):
        floor, per_lead, model_rows = model_targets(quick, repeats, record)
        targets += model_rows
    if opts["only"] in ("all", "pipeline"):
        targets += pipeline_targets(quick, repeats, record)
    if opts["only"] in ("all", "scale") and not (quick and opts["only"] == "all"):
        targets += scale_targets(quick, record, sobol_ns)
    if opts["only"] in ("all", "memory") and not (quick and opts["only"] == "all"):
        targets += memory_targets(quick, record, memory_runs)
    if opts["only"] in ("all", "draws") and not (quick and opts["only"] == "all"):
        jobs = max(1, opts["job_repeats"])
        targets += draws_targets(quick, jobs, opts["draw_seed"], opts["keep"], record)
    if opts["only"] in ("all", "diagnose"):
        targets += diagnose_targets(quick, record)
    table = pd.DataFrame(targets)
    out = Path(opts["out"])
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "bench.csv", lambda p: pd.DataFrame(rows).to_csv(p, index=False))
    atomic_write(out / "targets.csv", lambda p: table.to_csv(p, index=False))
    written = [out / "bench.csv", out / "targets.csv"]
    if floor is not None:
        bench_chart(pd.DataFrame(rows), floor, out / "bench", goal=PER_LEAD_GOAL)
        written.append(out / "bench.png")
        print(
            f"floor: one bare mesa.Agent costs {floor * 1e6:.2f} us; a run {per_lead * 1e6:.2f} "
            f"us per lead (medians of {repeats}; each ratio is the median of paired ratios)"
        )
    if opts["profile"]:
        text = profile_top()
        atomic_write(out / "profile.txt", lambda p: p.write_text(text))
        print(text)
    print(table.to_string(index=False, float_format="{:.3g}".format))
    print(f"\nwritten: {', '.join(map(str, written))}")
    return 0 if table.met.dropna().all() else 1  # measurements alone (met None) pass


def model_targets(quick: bool, repeats: int, record) -> tuple[float, float, list[dict]]:
    """The model's targets: per-lead cost, growth with lead volume and days, memory."""
    n_floor = 20_000 if quick else 100_000
    days = 100 if quick else 250
    agent_floor(n_floor, 1)  # warm up: the first agents and runs of a process cost more
    timed_run(0, days=days, warmup_days=10)
    pairs = rounds(
        repeats,
        lambda i: agent_floor(n_floor, 1),
        lambda i: timed_run(i, days=days, warmup_days=10),
    )
    ratios = []
    for floor_i, (wall, leads) in pairs:
        ratios.append(wall / leads / floor_i)
        record("per_lead", days=days, leads=leads, seconds=wall, floor_seconds=floor_i)
    floor = statistics.median(f for f, _ in pairs)
    per_lead = statistics.median(w / n for _, (w, n) in pairs)

    def scaling(kind: str, key: str, sizes: tuple, run) -> list[float]:
        """Time ``run(i, size)`` for each size in rounds; largest / smallest per round."""
        series = rounds(repeats, *[lambda i, size=size: run(i, size) for size in sizes])
        for one in series:
            for size, (wall, leads) in zip(sizes, one, strict=True):
                record(kind, **{key: size}, leads=leads, seconds=wall)
        return [one[-1][0] / one[0][0] for one in series]

    ks = (1, 3, 10) if not quick else (1, 3)
    top = ks[-1]
    lead_ratios = scaling(
        "scale_leads",
        "k",
        ks,
        lambda i, k: timed_run(i, days=days, warmup_days=10, **scaled_org(k)),
    )
    lengths = (100, 300, 1000) if not quick else (100, 300)
    d_lo, d_hi = lengths[0], lengths[-1]
    day_ratios = scaling(
        "scale_days", "days", lengths, lambda i, d: timed_run(i, days=d, warmup_days=10)
    )

    # Steady state: each 100-day block of one long run, per lead created in it. The first
    # block fills the pipeline (no lead has run out of nurture, no contract renewed yet).
    n_blocks = 6 if not quick else 3
    per_block = [
        [wall / leads for wall, leads in block_costs(i, 100 * n_blocks, 100)]
        for i in range(repeats)
    ]
    for i, costs in enumerate(per_block):
        for b, cost in enumerate(costs):
            record("steady_state", seed=i, block=b + 1, seconds_per_lead=cost)
    # per block, the median over rounds; then each later block against their median
    block_medians = [statistics.median(r[b] for r in per_block) for b in range(n_blocks)]
    steady = statistics.median(block_medians)
    worst = max(abs(c / steady - 1) for c in block_medians[1:])
    round_worst = [max(abs(c / statistics.median(r) - 1) for c in r[1:]) for r in per_block]

    k_mem = 10.0 if not quick else 2.0
    mem_days = (1700, 850) if not quick else (300, 150)
    mems = {}
    for d in mem_days:
        mib, n = peak_memory(d, k_mem)
        mems[d] = (mib, n)
        record("memory", days=d, leads=n, peak_rss_mib=mib)
    long_mib, long_leads = mems[max(mems)]
    short_mib, _ = mems[min(mems)]
    return (
        floor,
        per_lead,
        [
            target(
                "run time per lead / bare mesa.Agent",
                f"<= {PER_LEAD_GOAL}",
                ratios,
                lambda m: m <= PER_LEAD_GOAL,
            ),
            target(
                f"time at {top}x lead volume / at 1x",
                f"<= {1.1 * top:g}",
                lead_ratios,
                lambda m: m <= 1.1 * top,
            ),
            target(
                f"time for {d_hi} days / {d_lo} days",
                f"<= {1.1 * d_hi / d_lo:g}",
                day_ratios,
                lambda m: m <= 1.1 * d_hi / d_lo,
            ),
            {
                "target": f"cost per lead of each 100-day block after the first, {n_blocks} "
                "blocks of one default run: largest distance from the median block",
                "goal": "<= 10%",
                "median": 100 * worst,
                "range": f"{100 * min(round_worst):.3g}-{100 * max(round_worst):.3g} "
                "(each round's own)",
                "rounds": repeats,
                "met": worst <= 0.10,
            },
            target(
                f"peak memory, {long_leads:,} leads (MiB)", "< 1024", [long_mib], lambda m: m < 1024
            ),
            target(
                "peak memory, twice the run length / once",
                "<= 1.1",
                [long_mib / short_mib],
                lambda m: m <= 1.1,
            ),
        ],
    )


if __name__ == "__main__":
    from sim.exits import guarded

    sys.exit(guarded(main, sys.argv[1:]))
