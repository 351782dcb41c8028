"""Benchmarks for the scale targets: per-lead cost, linear growth, bounded memory, parallel sweeps.

Usage::

    python -m experiments.bench                 # everything (several minutes)
    python -m experiments.bench quick=1         # smaller sizes, for a smoke check
    python -m experiments.bench out=docs/bench

Timings are medians over ``repeats`` runs, reported as ratios against a reference measured
in the same process (the cost of creating one bare ``mesa.Agent``), because machines here
are shared and noisy. Writes ``bench.csv`` (every measurement) and ``bench.png``/``.svg``
(time against leads created, log-log, with the linear reference), and prints a table of
each target, the measured value and whether it is met.
"""

from __future__ import annotations

import json
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
from sim.params import ConfigError
from sim.plotting import bench_chart

OPTIONS = {"quick": 0, "repeats": 5, "out": "docs/bench"}
ROOT = Path(__file__).resolve().parent.parent


def agent_floor(n: int, repeats: int) -> float:
    """Median seconds to create one bare mesa.Agent (and remove it, as closed leads are)."""
    times = []
    for _ in range(repeats):
        model = mesa.Model(rng=0)
        started = time.perf_counter()
        agents = [mesa.Agent(model) for _ in range(n)]
        for agent in agents:
            agent.remove()
        times.append((time.perf_counter() - started) / n)
    return statistics.median(times)


def scaled_org(k: float) -> dict:
    """The default organisation with lead volume, teams and nurture capacity scaled by k."""
    org = sim.params.OrgParams()
    return {
        "inbound_leads_per_day": org.inbound_leads_per_day * k,
        "n_marketers": max(1, round(org.n_marketers * k)),
        "n_reps": max(1, round(org.n_reps * k)),
    }


def timed_run(repeats: int, **params) -> tuple[float, int]:
    """Median wall seconds of a run, and the leads it created (all days, all sources)."""
    times, leads = [], 0
    for seed in range(repeats):
        cfg = sim.build_config(seed=seed, **params)
        started = time.perf_counter()
        result = sim.run(cfg, keep_model=True)
        times.append(time.perf_counter() - started)
        leads = result.model.ledger.created
    return statistics.median(times), leads


def peak_memory(days: int, k: float) -> tuple[float, int]:
    """Peak resident memory (MiB) of a run in a fresh process, and its leads created."""
    code = (
        "import json, resource, sim\n"
        f"cfg = sim.build_config(seed=1, days={days}, warmup_days=10, **{scaled_org(k)!r})\n"
        "r = sim.run(cfg, keep_model=True)\n"
        "print(json.dumps({'rss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
        " 'leads': r.model.ledger.created}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return data["rss_kib"] / 1024, data["leads"]


def sweep_time(n_runs: int, days: int, launcher: str) -> tuple[float, list[str]]:
    """Wall seconds of an n-run ``python -m sim -m`` sweep, and its summaries' texts."""
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            sys.executable,
            "-m",
            "sim",
            "-m",
            f"seed=range(0,{n_runs})",
            f"days={days}",
            "warmup_days=20",
            f"hydra.sweep.dir={tmp}",
            f"hydra/launcher={launcher}",
        ]
        if launcher == "joblib":
            args.append("hydra.launcher.n_jobs=2")
        started = time.perf_counter()
        subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=True)
        wall = time.perf_counter() - started
        texts = [p.read_text() for p in sorted(Path(tmp).glob("*/summary.json"))]
    return wall, texts


def main(argv: list[str] | None = None) -> int:
    """Measure every target and write the results."""
    parsed = parse(argv, __doc__, OPTIONS)
    if isinstance(parsed, int):
        return parsed
    opts, rest = parsed
    try:
        if rest:
            raise ConfigError(f"{rest[0]}: unknown option; allowed: {', '.join(OPTIONS)}")
    except ConfigError as exc:
        return fail(exc)
    quick, repeats = bool(opts["quick"]), max(1, opts["repeats"])
    rows: list[dict] = []

    def record(kind: str, **values) -> None:
        rows.append({"kind": kind, **values})
        print(
            f"  {kind}: "
            + ", ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()
            ),
            file=sys.stderr,
        )

    floor = agent_floor(20_000 if quick else 100_000, repeats)
    record("floor", seconds_per_agent=floor)

    days = 100 if quick else 250
    wall, leads = timed_run(repeats, days=days, warmup_days=10)
    per_lead = wall / leads
    record(
        "per_lead",
        days=days,
        leads=leads,
        seconds=wall,
        seconds_per_lead=per_lead,
        ratio_to_floor=per_lead / floor,
    )

    volume = {}
    for k in (1, 3, 10) if not quick else (1, 3):
        w, n = timed_run(max(1, repeats // 2), days=days, warmup_days=10, **scaled_org(k))
        volume[k] = w
        record("scale_leads", k=k, leads=n, seconds=w)
    top = max(volume)
    lead_ratio = volume[top] / volume[1]

    lengths = {}
    for d in (100, 1000) if not quick else (100, 300):
        w, n = timed_run(max(1, repeats // 2), days=d, warmup_days=10)
        lengths[d] = w
        record("scale_days", days=d, leads=n, seconds=w)
    d_lo, d_hi = sorted(lengths)
    day_ratio = lengths[d_hi] / lengths[d_lo]

    k_mem = 10.0 if not quick else 2.0
    mem_days = (1700, 850) if not quick else (300, 150)
    mems = {}
    for d in mem_days:
        mib, n = peak_memory(d, k_mem)
        mems[d] = (mib, n)
        record("memory", days=d, leads=n, peak_rss_mib=mib)

    n_runs, sweep_days = (20, 500) if not quick else (6, 80)  # 500: the default run length
    serial, texts_s = sweep_time(n_runs, sweep_days, "basic")
    parallel, texts_p = sweep_time(n_runs, sweep_days, "joblib")
    record(
        "sweep",
        runs=n_runs,
        serial_seconds=serial,
        parallel_seconds=parallel,
        speedup=serial / parallel,
        identical=texts_s == texts_p,
    )

    long_mib, long_leads = mems[max(mems)]
    short_mib, _ = mems[min(mems)]
    targets = pd.DataFrame(
        [
            {
                "target": "run time per lead / bare mesa.Agent",
                "goal": "<= 4",
                "measured": per_lead / floor,
                "met": per_lead / floor <= 4,
            },
            {
                "target": f"time at {top}x lead volume / at 1x",
                "goal": f"<= {1.1 * top:g}",
                "measured": lead_ratio,
                "met": lead_ratio <= 1.1 * top,
            },
            {
                "target": f"time for {d_hi} days / {d_lo} days",
                "goal": f"<= {1.1 * d_hi / d_lo:g}",
                "measured": day_ratio,
                "met": day_ratio <= 1.1 * d_hi / d_lo,
            },
            {
                "target": f"peak memory, {long_leads:,} leads (MiB)",
                "goal": "< 1024",
                "measured": long_mib,
                "met": long_mib < 1024,
            },
            {
                "target": "peak memory, twice the run length / once",
                "goal": "<= 1.1",
                "measured": long_mib / short_mib,
                "met": long_mib / short_mib <= 1.1,
            },
            {
                "target": f"{n_runs}-run sweep: serial / joblib on 2 cores",
                "goal": ">= 1.7",
                "measured": serial / parallel,
                "met": serial / parallel >= 1.7,
            },
            {
                "target": "sweep results identical serial vs joblib",
                "goal": "yes",
                "measured": float(texts_s == texts_p),
                "met": texts_s == texts_p,
            },
        ]
    )
    out = Path(opts["out"])
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(out / "bench.csv", index=False)
    targets.to_csv(out / "targets.csv", index=False)
    bench_chart(pd.DataFrame(rows), floor, out / "bench")
    print(f"floor: one bare mesa.Agent costs {floor * 1e6:.2f} us (median of {repeats})")
    print(targets.to_string(index=False, float_format="{:.3g}".format))
    print(f"\nwritten: {out / 'bench.csv'}, {out / 'targets.csv'}, {out / 'bench.png'}")
    return 0 if targets.met.all() else 1


if __name__ == "__main__":
    sys.exit(main())
