"""Paired-seed runs of a small organisation, for the tests of single tactics and causes.

Each test runs a few short runs of a small organisation (a few seconds in all); the same seeds
face the same market in every scenario, so differences are the tactic's (common random numbers).
"""

from __future__ import annotations

import numpy as np

import sim
from sim.io import to_json
from sim.kpis import TACTIC_COUNTERS
from sim.tactics import REGISTRY

SMALL = {"days": 250, "warmup_days": 50, "n_reps": 6, "n_marketers": 3, "inbound_leads_per_day": 30}
SEEDS = (1, 2, 3)


def runs(seeds=SEEDS, **kw) -> list[dict]:
    """The summaries of one short run of the small organisation per seed."""
    return [sim.run(seed=s, **{**SMALL, **kw}).summary for s in seeds]


def mean(summaries: list[dict], kpi: str) -> float:
    """The mean of ``kpi`` over runs."""
    return float(np.mean([s[kpi] for s in summaries]))


def effect(kpi: str, tactic: str, seeds=SEEDS, spec: dict | None = None, **org) -> float:
    """The tactic's mean paired effect on ``kpi`` (tactic minus none), on ``org``'s settings."""
    base = runs(seeds, **org)
    on = runs(seeds, tactics={tactic: spec or {}}, **org)
    return float(np.mean([b[kpi] - a[kpi] for a, b in zip(base, on, strict=True)]))


def assert_nothing_else(tactic: str, summary: dict, base: dict, market: bool = True) -> None:
    """The run met the same market (unless the tactic thins it) and no other tactic counted."""
    if market:
        assert summary["inbound_leads"] == base["inbound_leads"]
    own = set(REGISTRY[tactic].counters)
    for counter in set(TACTIC_COUNTERS) - own:
        assert summary[counter] == base[counter] == 0, counter


def assert_off_is_baseline(tactic: str, seed: int = 1) -> None:
    """With every mechanism switched off the tactic changes nothing at all."""
    off = {"switched_off": list(REGISTRY[tactic].mechanisms)}
    plain = sim.run(seed=seed, **SMALL).summary
    assert to_json(sim.run(seed=seed, tactics={tactic: off}, **SMALL).summary) == to_json(plain)
