"""Crash-safe outputs, resumable sweeps and exact reproduction of recorded runs."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd

import sim
from sim.io import RECORD, find_runs, incomplete_runs, is_complete, load_runs, write_outputs
from tests.conftest import ROOT, run_cli, without_draws

SMALL = {"days": 120, "warmup_days": 20}


def test_each_run_records_its_config_hash_and_versions(tmp_path):
    result = sim.run(seed=3, **SMALL)
    write_outputs(result, tmp_path)
    record = json.loads((tmp_path / RECORD).read_text())
    assert len(record["config_hash"]) == 16 and record["seed"] == 3
    assert {"python", "mesa", "numpy", "funnel-alignment-sim"} <= set(record["versions"])
    assert is_complete(tmp_path, record["config_hash"])
    assert not is_complete(tmp_path, "0" * 16)
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary files left behind


def test_a_recorded_run_reproduces_exactly_and_a_tampered_one_does_not(tmp_path):
    out = tmp_path / "run"
    proc = run_cli(
        "scenario=data_sharing", "seed=5", "days=100", "warmup_days=10", f"hydra.run.dir={out}"
    )
    assert proc.returncode == 0, proc.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "sim.reproduce", str(out)], cwd=ROOT, capture_output=True, text=True
    )
    assert ok.returncode == 0 and "reproduced exactly" in ok.stdout
    summary = json.loads((out / "summary.json").read_text())
    summary["deals_won"] += 1
    (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    bad = subprocess.run(
        [sys.executable, "-m", "sim.reproduce", str(out)], cwd=ROOT, capture_output=True, text=True
    )
    assert bad.returncode == 1 and "deals_won" in bad.stdout


def test_incomplete_runs_are_skipped_and_listed(tmp_path):
    for seed in (1, 2):
        write_outputs(sim.run(seed=seed, **SMALL), tmp_path / f"baseline_seed{seed}")
    (tmp_path / "baseline_seed2" / RECORD).unlink()  # as if killed before finishing
    assert [p.name for p in find_runs(tmp_path)] == ["baseline_seed1"]
    assert [p.name for p in incomplete_runs(tmp_path)] == ["baseline_seed2"]
    assert list(load_runs(tmp_path).seed) == [1]


def test_a_rerun_of_the_same_config_reuses_the_finished_run(tmp_path):
    out = tmp_path / "run"
    args = ("seed=2", "days=80", "warmup_days=10", f"hydra.run.dir={out}")
    assert run_cli(*args).returncode == 0
    stamp = (out / "summary.json").stat().st_mtime_ns
    again = run_cli(*args)
    assert again.returncode == 0 and "reused" in again.stdout
    assert (out / "summary.json").stat().st_mtime_ns == stamp
    changed = run_cli("seed=3", *args[1:])  # another config in the same place: refused
    assert changed.returncode == 2 and "holds a finished run of another config" in changed.stderr
    assert json.loads((out / "summary.json").read_text())["seed"] == 2


def _compare(*args, **kw):
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.Popen(
        [sys.executable, "-m", "experiments.compare_tactics", *without_draws(args)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def _table(study):
    """A study's tidy table and its daily series, in a fixed order."""
    runs = pd.read_parquet(study / "runs.parquet")
    ts = pd.read_parquet(study / "timeseries")
    ts["run_id"] = ts["run_id"].astype(str)
    ts["scenario"] = ts["scenario"].astype(str)
    return runs, ts.sort_values(["run_id", "day"]).reset_index(drop=True)


def test_a_killed_chunked_comparison_resumes_to_the_identical_table(tmp_path):
    common = [
        "scenarios=baseline,liaison",
        "replicates=10",
        "days=150",
        "warmup_days=30",
        "hydra.launcher.n_jobs=2",
        "chunk_size=2",
    ]
    killed = tmp_path / "killed"
    proc = _compare(*common, f"hydra.sweep.dir={killed}", start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(killed.glob("rows/part-*.parquet"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # a real kill of the whole study, workers included
    proc.communicate()
    parts = {p: p.stat().st_mtime_ns for p in killed.glob("rows/part-*.parquet")}
    assert 2 <= len(parts) < 10, "the kill should land part-way through the study"
    assert not (killed / "runs.parquet").exists() and not (killed / "effects.csv").exists()

    resumed = _compare(*common, f"resume={killed}")
    _, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    for part, stamp in parts.items():  # committed runs were kept, not run again
        assert part.stat().st_mtime_ns == stamp

    clean = _compare(*common, f"hydra.sweep.dir={tmp_path / 'clean'}")
    _, err = clean.communicate(timeout=600)
    assert clean.returncode == 0, err
    (runs_a, ts_a), (runs_b, ts_b) = _table(killed), _table(tmp_path / "clean")
    pd.testing.assert_frame_equal(runs_a, runs_b)
    assert len(runs_a) == 20 and runs_a.run_id.is_unique
    pd.testing.assert_frame_equal(ts_a, ts_b, check_categorical=False)
    assert len(ts_a) == 20 * 150  # no run counted twice
    for name in ("runs.csv", "effects.csv"):
        pd.testing.assert_frame_equal(
            pd.read_csv(killed / name), pd.read_csv(tmp_path / "clean" / name)
        )
