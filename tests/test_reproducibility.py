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
from tests.conftest import ROOT, run_cli

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
        [sys.executable, "-m", "experiments.compare_tactics", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def test_a_killed_comparison_resumes_to_the_same_tables(tmp_path):
    common = [
        "scenarios=baseline,liaison",
        "replicates=8",
        "days=150",
        "warmup_days=30",
        "hydra.launcher.n_jobs=2",
    ]
    killed = tmp_path / "killed"
    proc = _compare(*common, f"hydra.sweep.dir={killed}", start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and len(list(killed.glob(f"*/{RECORD}"))) < 4:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # a real kill of the whole sweep, workers included
    proc.communicate()
    done_before = {p.parent.name: p.stat().st_mtime_ns for p in killed.glob(f"*/{RECORD}")}
    assert 4 <= len(done_before) < 16, "the kill should land part-way through the sweep"
    assert not (killed / "effects.csv").exists()

    resumed = _compare(*common, f"resume={killed}")
    _, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    for name, stamp in done_before.items():  # finished runs were reused, not re-run
        assert (killed / name / RECORD).stat().st_mtime_ns == stamp

    clean = _compare(*common, f"hydra.sweep.dir={tmp_path / 'clean'}")
    _, err = clean.communicate(timeout=600)
    assert clean.returncode == 0, err
    for name in ("runs.csv", "effects.csv"):
        pd.testing.assert_frame_equal(
            pd.read_csv(killed / name), pd.read_csv(tmp_path / "clean" / name)
        )
