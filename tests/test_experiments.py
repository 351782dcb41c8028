"""The calibration, validation and sensitivity programs, run end to end at small scale."""

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.params import BehaviourParams, build_config
from sim.validation import load_facts
from tests.conftest import ROOT, run_module


def _run(module, *args, timeout=900):
    return run_module(module, *args, timeout=timeout)


def test_the_calibrated_file_is_the_default_everywhere():
    path = ROOT / "conf/behaviour/calibrated.yaml"
    fitted = yaml.safe_load(path.read_text())
    defaults = BehaviourParams()
    for key, value in fitted.items():
        assert getattr(defaults, key) == pytest.approx(value), key
    assert "behaviour: calibrated" in (ROOT / "conf/config.yaml").read_text()
    build_config({"behaviour": fitted})  # and it is valid


def test_calibration_is_reproducible_from_its_seed(tmp_path):
    bodies = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.yaml"
        proc = _run(
            "experiments.calibrate",
            "trials=2",
            "replicates=2",
            "days=300",
            "warmup_days=40",
            "org.contract_days=100",
            f"out={out}",
            f"trials_out={tmp_path / name}.csv",
        )
        assert proc.returncode == 0, proc.stderr
        text = out.read_text()
        bodies.append([ln for ln in text.splitlines() if not ln.startswith("#")])
        assert "# " in text and "method: Optuna" in text
    assert bodies[0] == bodies[1]
    build_config({"behaviour": yaml.safe_load(out.read_text())})
    assert len(pd.read_csv(tmp_path / "a.csv")) == 2


def test_validation_checks_every_fact_in_the_file(tmp_path):
    # The documented scale (20 paired replicates): fewer leave ordering facts underpowered
    # (separate_funnels_hurt_pipeline's interval spans 0 at 4 or 8 replicates).
    proc = _run("experiments.validate", f"out={tmp_path}")
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(tmp_path / "validation.csv")
    facts = {f.id: f for f in load_facts()}
    assert list(table.id) == list(facts)
    for row in table.itertuples():
        fact = facts[row.id]
        assert row.kind == fact.kind
        if fact.kind in ("level", "ratio", "uplift"):
            assert (row.range_low, row.range_high) == fact.range
            assert float(row.target) == fact.target
    assert (tmp_path / "validation.png").stat().st_size > 10_000
    # Calibration fits the baseline's facts: they must pass, and so must the extreme
    # conditions. What alignment does is held out: reached or missed, reported, never tuned.
    must = (
        table.loc[table.fit == "fitted"].id.tolist()
        + table.loc[table.kind == "extreme"].id.tolist()
    )
    failed = set(table.loc[~table.passed & table.id.isin(must), "id"])
    assert failed <= set(KNOWN_MISSES), f"fitted facts that no longer pass: {failed}"
    assert set(table.loc[table.fit == "held out"].kind) <= {"uplift", "ordering", "extreme"}
    assert "facts pass" in proc.stdout
    assert (tmp_path / "marginal_hour.csv").exists()


#: Fitted facts the calibrated baseline misses, with the reason (docs/ODD.md, calibration).
KNOWN_MISSES: dict[str, str] = {}


def test_sensitivity_screening_at_small_scale(tmp_path):
    proc = _run(
        "experiments.sensitivity",
        "trajectories=2",
        "replicates=1",
        "days=200",
        "warmup_days=40",
        f"out={tmp_path}",
    )
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(tmp_path / "sensitivity.csv")
    from experiments.calibrate import SPACE

    assert set(table.parameter) == set(SPACE)
    assert set(table.output) == {"revenue_uplift", "win_rate_uplift"}
    assert (table.mu_star >= 0).all()
    assert (tmp_path / "sensitivity.png").stat().st_size > 10_000


def test_experiment_programs_refuse_bad_input():
    for module, arg in (
        ("experiments.validate", "replicates=1"),
        ("experiments.calibrate", "trials=0"),
        ("experiments.sensitivity", "method=fast"),
        ("experiments.validate", "org.n_reps=-2"),
    ):
        proc = _run(module, arg, timeout=120)
        assert proc.returncode == 2, (module, proc.stderr)
        assert proc.stderr.startswith("error:") and "Traceback" not in proc.stderr


def test_bench_quick_measures_every_target(tmp_path):
    proc = _run("experiments.bench", "quick=1", "repeats=1", "profile=1", f"out={tmp_path}")
    # timings on a shared machine may miss a target at this small scale; the run must finish
    assert proc.returncode in (0, 1), proc.stderr
    targets = pd.read_csv(tmp_path / "targets.csv")
    assert len(targets) == 10
    assert list(targets.columns[:4]) == ["target", "goal", "median", "range"]
    assert targets["median"].notna().all() and (targets["median"] > 0).all()
    # the make-run study ran serially and on two workers and gave the same table
    identical = targets.loc[targets.target.str.startswith("study tables identical")]
    assert bool(identical.met.iloc[0])
    rows = pd.read_csv(tmp_path / "bench.csv")
    kinds = {"per_lead", "scale_leads", "scale_days", "memory", "overhead", "make_run", "diagnose"}
    assert kinds <= set(rows.kind)
    assert (tmp_path / "bench.png").stat().st_size > 10_000
    assert "tottime" in (tmp_path / "profile.txt").read_text()
    assert "run time per lead" in proc.stdout and "wall / summed run time" in proc.stdout


def test_bench_memory_is_the_child_runs_own_peak():
    """A child started from a large process must not report the parent's resident size."""
    from experiments.bench import peak_memory

    ballast = np.ones(40_000_000)  # about 305 MiB resident in this process
    mib, leads = peak_memory(30, 0.2)
    assert ballast[-1] == 1.0
    assert leads > 0
    assert mib < 250
