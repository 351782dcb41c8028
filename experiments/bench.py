"""Benchmarks for the scale targets: per-lead cost, linear growth, bounded memory, parallel sweeps.

Usage::

    python -m experiments.bench                 # everything (about ten minutes)
    python -m experiments.bench quick=1         # smaller sizes, for a smoke check
    python -m experiments.bench profile=1       # also the top of a profile of one run
    python -m experiments.bench out=docs/bench

Machines here are shared and noisy, so every target is a ratio of two timings taken side by
side in the same process: the run and the cost of creating (and removing) one bare
``mesa.Agent``; 10x the lead volume and 1x; 1,000 days and 100; the serial sweep and the
parallel one. Each ratio is taken in ``repeats`` rounds that time both sides (in reverse
order every other round), and the median is reported. Writes ``bench.csv`` (every
measurement), ``targets.csv``,
``bench.png``/``.svg`` (time against leads created, log-log, with the linear reference) and,
with ``profile=1``, ``profile.txt``; prints each target, the measured value and whether it
is met.
"""

from __future__ import annotations

import compileall
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
from sim.io import atomic_write
from sim.params import ConfigError
from sim.plotting import bench_chart

OPTIONS = {"quick": 0, "repeats": 5, "profile": 0, "out": "docs/bench"}
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


def timed_run(seed: int, **params) -> tuple[float, int]:
    """Wall seconds of one run, and the leads it created (all days, all sources)."""
    cfg = sim.build_config(seed=seed, **params)
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
    if len(texts) != n_runs:
        raise RuntimeError(f"{launcher} sweep wrote {len(texts)} summaries, not {n_runs}")
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
    # Measure the package as installed, byte-compiled (as `make` leaves it): the sweeps start
    # processes, and compiling the package in each would be counted as their start-up.
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
    per_lead_ratio = statistics.median(ratios)
    floor = statistics.median(f for f, _ in pairs)
    per_lead = statistics.median(w / n for _, (w, n) in pairs)

    def scaling(kind: str, key: str, sizes: tuple, run) -> float:
        """Time ``run(i, size)`` for each size in rounds; median of largest / smallest."""
        series = rounds(repeats, *[lambda i, size=size: run(i, size) for size in sizes])
        for one in series:
            for size, (wall, leads) in zip(sizes, one, strict=True):
                record(kind, **{key: size}, leads=leads, seconds=wall)
        return statistics.median(one[-1][0] / one[0][0] for one in series)

    ks = (1, 3, 10) if not quick else (1, 3)
    top = ks[-1]
    lead_ratio = scaling(
        "scale_leads",
        "k",
        ks,
        lambda i, k: timed_run(i, days=days, warmup_days=10, **scaled_org(k)),
    )
    lengths = (100, 300, 1000) if not quick else (100, 300)
    d_lo, d_hi = lengths[0], lengths[-1]
    day_ratio = scaling(
        "scale_days", "days", lengths, lambda i, d: timed_run(i, days=d, warmup_days=10)
    )

    k_mem = 10.0 if not quick else 2.0
    mem_days = (1700, 850) if not quick else (300, 150)
    mems = {}
    for d in mem_days:
        mib, n = peak_memory(d, k_mem)
        mems[d] = (mib, n)
        record("memory", days=d, leads=n, peak_rss_mib=mib)

    n_runs, sweep_days = (20, 500) if not quick else (6, 80)  # 500: the default run length
    sweeps = rounds(
        repeats if not quick else 1,
        lambda i: sweep_time(n_runs, sweep_days, "basic"),
        lambda i: sweep_time(n_runs, sweep_days, "joblib"),
    )
    identical = all(s[1] == p[1] for s, p in sweeps)
    for (serial, _), (parallel, _) in sweeps:
        record(
            "sweep",
            runs=n_runs,
            serial_seconds=serial,
            parallel_seconds=parallel,
            speedup=serial / parallel,
        )
    speedup = statistics.median(s[0] / p[0] for s, p in sweeps)
    # Information, not a target: each worker process pays a fixed start-up (Python, Hydra,
    # pandas, Mesa) that a 20-run sweep of short runs cannot amortise; a longer sweep shows
    # how the speed-up grows with the work. One round.
    n_long = 60 if not quick else 12
    (long_serial, _), (long_parallel, _) = rounds(
        1,
        lambda i: sweep_time(n_long, sweep_days, "basic"),
        lambda i: sweep_time(n_long, sweep_days, "joblib"),
    )[0]
    record(
        "sweep_info",
        runs=n_long,
        serial_seconds=long_serial,
        parallel_seconds=long_parallel,
        speedup=long_serial / long_parallel,
    )

    long_mib, long_leads = mems[max(mems)]
    short_mib, _ = mems[min(mems)]
    targets = pd.DataFrame(
        [
            {
                "target": "run time per lead / bare mesa.Agent",
                "goal": "<= 4",
                "measured": per_lead_ratio,
                "met": per_lead_ratio <= 4,
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
                "measured": speedup,
                "met": speedup >= 1.7,
            },
            {
                "target": "sweep results identical serial vs joblib",
                "goal": "yes",
                "measured": float(identical),
                "met": identical,
            },
        ]
    )
    out = Path(opts["out"])
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "bench.csv", lambda p: pd.DataFrame(rows).to_csv(p, index=False))
    atomic_write(out / "targets.csv", lambda p: targets.to_csv(p, index=False))
    bench_chart(pd.DataFrame(rows), floor, out / "bench")
    if opts["profile"]:
        text = profile_top()
        atomic_write(out / "profile.txt", lambda p: p.write_text(text))
        print(text)
    print(
        f"floor: one bare mesa.Agent costs {floor * 1e6:.2f} us; a run {per_lead * 1e6:.2f} us"
        f" per lead (medians of {repeats}; each ratio is the median of paired ratios)"
    )
    print(targets.to_string(index=False, float_format="{:.3g}".format))
    print(
        f"(information) a {n_long}-run sweep, one round: serial {long_serial:.1f} s, joblib "
        f"{long_parallel:.1f} s, {long_serial / long_parallel:.2f}x"
    )
    print(f"\nwritten: {out / 'bench.csv'}, {out / 'targets.csv'}, {out / 'bench.png'}")
    return 0 if targets.met.all() else 1


if __name__ == "__main__":
    from sim.exits import guarded

    sys.exit(guarded(main, sys.argv[1:]))
