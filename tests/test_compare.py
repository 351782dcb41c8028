"""The tactic comparison: effects, intervals, the parallel sweep, figures and report."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim.compare import aggregate
from sim.effects import paired_effects, unpaired_interval
from sim.io import write_outputs
from tests.conftest import ROOT, SCENARIOS, without_draws

SMALL = {"days": 150, "warmup_days": 30, "contract_days": 60}  # renewals happen


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    """A small sweep written the way python -m sim writes it: 3 scenarios x 6 seeds."""
    root = tmp_path_factory.mktemp("runs")
    for name in ("baseline", "data_sharing", "full_alignment"):
        for seed in range(6):
            cfg = sim.build_config(seed=seed, scenario_name=name, **SCENARIOS[name], **SMALL)
            write_outputs(sim.run(cfg), root / f"{name}_seed{seed}")
    return root


def test_effects_match_a_hand_computation_from_runs_csv(runs_dir, tmp_path):
    result = aggregate(runs_dir, tmp_path)
    runs = pd.read_csv(tmp_path / "runs.csv")
    effects = pd.read_csv(tmp_path / "effects.csv")
    base = runs[runs.scenario == "baseline"].set_index("seed").revenue_per_year
    full = runs[runs.scenario == "full_alignment"].set_index("seed").revenue_per_year
    d = (full - base).to_numpy()
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    row = effects[(effects.scenario == "full_alignment") & (effects.kpi == "revenue_per_year")]
    row = row.iloc[0]
    assert row.n == 6
    assert row.baseline_mean == pytest.approx(base.mean())
    assert row.scenario_mean == pytest.approx(full.mean())
    assert row.effect == pytest.approx(d.mean())
    assert row.effect_ci_low == pytest.approx(d.mean() - half)
    assert row.effect_ci_high == pytest.approx(d.mean() + half)
    assert row.relative_effect == pytest.approx(d.mean() / base.mean())
    assert row.excludes_zero == (d.mean() - half > 0 or d.mean() + half < 0)
    assert result.table.index[0] in ("full_alignment", "data_sharing")


def test_paired_runs_face_the_same_market(runs_dir):
    """Common random numbers: the same seed, the same market, whatever the tactic.

    (How much pairing narrows an outcome's interval depends on how far a tactic changes which
    leads are worked: in these short runs, data sharing reshuffles them enough that the
    outcomes' pairs barely correlate; in the default 500-day runs they do, about 0.6.)
    """
    runs = sim.io.load_runs(runs_dir)
    effects = paired_effects(runs, kpis=["inbound_leads"]).set_index(["scenario", "kpi"])
    row = effects.loc[("data_sharing", "inbound_leads")]
    assert row.effect == row.effect_ci_low == row.effect_ci_high == 0
    _, lo, hi = unpaired_interval(runs, "data_sharing", "inbound_leads")
    assert hi - lo > 0
    # full alignment's campaigns (joint planning) reach part of the same market: never more
    row = effects.loc[("full_alignment", "inbound_leads")]
    assert row.effect < 0 and row.effect_ci_high <= 0


def test_aggregation_writes_figures_and_a_self_contained_report(runs_dir, tmp_path):
    # no decomposition to embed (decompositions/ in the working directory may hold one)
    result = aggregate(runs_dir, tmp_path, decompositions=tmp_path / "none")
    for name in (
        "effect_revenue_per_year",
        "effect_win_rate",
        "effect_retention_12m",
        "funnel",
        "timeseries",
    ):
        for ext in (".png", ".svg"):
            path = tmp_path / "figures" / f"{name}{ext}"
            assert path.stat().st_size > 5000, path
    md = (tmp_path / "report.md").read_text()
    html = (tmp_path / "report.html").read_text()
    assert "ranked by revenue uplift" in md and "6 times" in md
    assert html.count("data:image/png;base64,") == 5
    assert "figures/" not in html  # nothing to lose when the file is handed over
    assert all(p.exists() for p in result.files)


def test_aggregating_a_mixed_directory_is_refused(runs_dir, tmp_path):
    write_outputs(sim.run(seed=0, org_name="other", n_reps=5, **SMALL), runs_dir / "stray")
    try:
        with pytest.raises(ValueError, match="mix several values of org"):
            aggregate(runs_dir, tmp_path)
    finally:
        import shutil

        shutil.rmtree(runs_dir / "stray")


def _compare(tmp_path, *args):
    env = {**os.environ}
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run(
        [sys.executable, "-m", "experiments.compare_tactics", *without_draws(args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_comparison_cli_runs_in_parallel_like_serially(tmp_path):
    common = ["scenarios=baseline,liaison", "replicates=3", "days=80", "warmup_days=10"]
    par = _compare(
        tmp_path, *common, f"hydra.sweep.dir={tmp_path / 'par'}", "hydra.launcher.n_jobs=2"
    )
    assert par.returncode == 0, par.stderr
    ser = _compare(tmp_path, *common, f"hydra.sweep.dir={tmp_path / 'ser'}", "hydra/launcher=basic")
    assert ser.returncode == 0, ser.stderr
    for name in ("runs.csv", "runs.parquet", "effects.csv"):
        read = pd.read_parquet if name.endswith(".parquet") else pd.read_csv
        pd.testing.assert_frame_equal(read(tmp_path / "par" / name), read(tmp_path / "ser" / name))
    a = pd.read_parquet(tmp_path / "par" / "runs.parquet")
    assert len(a) == 6 and set(a.tactics) == {"none", "liaison"}
    assert "Tactic effects against 'baseline'" in par.stdout
    assert "liaison" in par.stdout and "report:" in par.stdout
    assert "100%" in par.stderr and "6/6" in par.stderr  # the progress bar reached the end
    assert (tmp_path / "par" / "report.html").stat().st_size > 10_000


def test_the_comparison_aggregates_a_sweep_made_with_python_m_sim(tmp_path):
    sweep = tmp_path / "sweep"
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "-m",
            "scenario=baseline,data_sharing",
            "seed=1,2,3",
            "days=80",
            "warmup_days=10",
            f"hydra.sweep.dir={sweep}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert made.returncode == 0, made.stderr
    proc = _compare(tmp_path, f"from={sweep}", f"out={tmp_path / 'cmp'}")
    assert proc.returncode == 0, proc.stderr
    effects = pd.read_csv(tmp_path / "cmp" / "effects.csv")
    assert set(effects.scenario) == {"data_sharing"}
    assert (effects.n == 3).any()


def test_bad_comparison_arguments_fail_cleanly(tmp_path):
    for args, fragment in (
        (["replicates=1"], "replicates=1: must be a whole number >= 2"),
        (["scenarios=baseline,nope"], "no such scenario 'nope'"),
        (["org.n_reps=-1"], "org.n_reps = -1"),
    ):
        proc = _compare(tmp_path, *args, f"hydra.sweep.dir={tmp_path / 'x'}")
        assert proc.returncode == 2, proc.stderr
        assert fragment in proc.stderr and "Traceback" not in proc.stderr
        assert not (tmp_path / "x").exists()


def test_money_axis_labels_are_signed_and_compact():
    from sim.plotting import money_label

    assert [money_label(v) for v in (1_500_000, -250_000, 40, -40, 0)] == [
        "+1.5M",
        "-250k",
        "+40",
        "-40",
        "+0",
    ]
