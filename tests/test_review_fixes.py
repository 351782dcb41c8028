"""Regression tests for the fixes a cold review found (each fails if its fix is undone)."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
import sim.io as sio
from sim import FunnelModel
from sim.compare import aggregate
from sim.effects import paired_effects
from sim.io import RECORD, write_outputs


def test_per_year_kpis_use_the_days_actually_measured():
    continued = FunnelModel(seed=4, days=50, warmup_days=10)
    continued.run()
    continued.run(50)  # 50 more days
    clean = FunnelModel(seed=4, days=100, warmup_days=10)
    clean.run()
    assert continued.kpis.summary()["revenue_per_year"] == pytest.approx(
        clean.kpis.summary()["revenue_per_year"]
    )


def test_retention_12m_counts_first_renewals_only():
    s = sim.run(seed=2, days=300, warmup_days=20, contract_days=40).summary
    assert s["later_renewal_decisions"] > 0
    m = FunnelModel(seed=2, days=300, warmup_days=20, contract_days=40)
    m.run()
    c = m.kpis.c
    assert c["renewals"] + c["churns"] == s["renewal_decisions"]
    assert c["later_renewals"] + c["later_churns"] == s["later_renewal_decisions"]


def test_relative_intervals_use_the_delta_method():
    gen = np.random.default_rng(0)
    b = gen.normal(100, 10, 12)
    s = 1.5 * b + gen.normal(0, 5, 12)
    runs = pd.DataFrame(
        {
            "scenario": ["baseline"] * 12 + ["x"] * 12,
            "seed": list(range(12)) * 2,
            "revenue_per_year": np.r_[b, s],
        }
    )
    row = paired_effects(runs, kpis=["revenue_per_year"]).iloc[0]
    ratio = s.mean() / b.mean()
    z = (s - ratio * b) / b.mean()
    half = stats.t.ppf(0.975, 11) * z.std(ddof=1) / np.sqrt(12)
    assert row.relative_effect == pytest.approx(ratio - 1)
    assert row.relative_ci_low == pytest.approx(ratio - 1 - half)
    assert row.relative_ci_high == pytest.approx(ratio - 1 + half)


def test_an_interrupted_overwrite_does_not_look_complete(tmp_path, monkeypatch):
    write_outputs(sim.run(seed=1, days=60, warmup_days=10), tmp_path)
    assert (tmp_path / RECORD).exists()
    real = sio.atomic_write

    def failing(path, write):
        if path.name == sio.TIMESERIES:
            raise OSError("disk full")
        return real(path, write)

    monkeypatch.setattr(sio, "atomic_write", failing)
    with pytest.raises(OSError):
        write_outputs(sim.run(seed=2, days=60, warmup_days=10), tmp_path)
    assert not (tmp_path / RECORD).exists()


def test_aggregation_refuses_runs_with_different_settings(tmp_path):
    for name, kw in (
        ("baseline_seed1", {}),
        ("baseline_seed2", {}),
        ("data_sharing_seed1", {"tactics": ["data_sharing"]}),
        ("data_sharing_seed2", {"tactics": ["data_sharing"], "follow_up_hours": 0.25}),
    ):
        scenario = name.rsplit("_seed", 1)[0]
        seed = int(name[-1])
        write_outputs(
            sim.run(seed=seed, scenario_name=scenario, days=60, warmup_days=10, **kw),
            tmp_path / name,
        )
    with pytest.raises(ValueError, match="settings_hash"):
        aggregate(tmp_path, tmp_path / "out")
    record = json.loads((tmp_path / "baseline_seed1" / RECORD).read_text())
    assert len(record["settings_hash"]) == 16
