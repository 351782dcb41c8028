"""End-to-end: the real CLI, the real output files."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import run_cli

REQUIRED = [
    "leads_created",
    "inbound_leads",
    "mqls",
    "mql_follow_up_rate",
    "mql_to_sql_rate",
    "opportunities",
    "deals_won",
    "deals_lost",
    "deals_no_decision",
    "win_rate",
    "revenue",
    "sales_cycle_days_median",
    "retention_12m",
    "rep_prospecting_waste_share",
    "scenario",
    "org",
    "seed",
    "days",
    "version",
]


def test_one_run_writes_its_outputs(tmp_path):
    out = tmp_path / "run"
    proc = run_cli(
        "scenario=liaison",
        "seed=4",
        "days=120",
        "warmup_days=20",
        "record_journeys=true",
        f"hydra.run.dir={out}",
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert set(REQUIRED) <= set(summary)
    assert summary["scenario"] == "liaison" and summary["seed"] == 4 and summary["days"] == 120
    ts = pd.read_csv(out / "timeseries.csv")
    assert len(ts) == 120 and ts["day"].tolist() == list(range(1, 121))
    journeys = pd.read_parquet(out / "journeys.parquet")
    assert len(journeys) == ts["leads_created_total"].iloc[-1]
    won = journeys[journeys.outcome.isin(["customer", "churned"]) & (journeys.closed_day > 20)]
    assert won.value.sum() == pytest.approx(summary["revenue"])
    assert json.loads((out / "config.json").read_text())["scenario"]["name"] == "liaison"
    assert "revenue/yr" in proc.stdout


def test_same_seed_gives_a_byte_identical_summary(tmp_path):
    texts = []
    for name in ("a", "b"):
        proc = run_cli("seed=21", "days=100", "warmup_days=10", f"hydra.run.dir={tmp_path / name}")
        assert proc.returncode == 0, proc.stderr
        texts.append((tmp_path / name / "summary.json").read_bytes())
    assert texts[0] == texts[1]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["org.n_reps=-3"], "org.n_reps = -3: must be in [0, 50000]"),
        (["org.n_repz=3"], "org.n_repz: unknown key"),
        (["behaviour.contact_rate=1.5"], "behaviour.contact_rate = 1.5: must be in [0, 1]"),
        (["scenario=foo"], "scenario=foo: no such scenario"),
        (["warmup_days=900"], "warmup_days = 900"),
        (["scenario=liaison", "scenario.tactics.liaison.sla_days=-1"], "sla_days = -1"),
        (["-m", "seed=1,2", "org.n_reps=-1,4"], "org.n_reps = -1"),
    ],
)
def test_bad_config_fails_cleanly_and_writes_nothing(tmp_path, args, fragment):
    out = tmp_path / "never"
    proc = run_cli(*args, f"hydra.run.dir={out}", f"hydra.sweep.dir={out}", cwd=tmp_path)
    assert proc.returncode == 2
    assert fragment in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()
    assert not any(tmp_path.iterdir())


def test_a_sweep_runs_every_job_and_prints_the_kpi_table(tmp_path):
    sweep = tmp_path / "sweep"
    proc = run_cli(
        "-m",
        "scenario=baseline,full_alignment",
        "seed=1,2",
        "days=80",
        "warmup_days=10",
        f"hydra.sweep.dir={sweep}",
        "hydra.launcher.n_jobs=2",
    )
    assert proc.returncode == 0, proc.stderr
    summaries = sorted(sweep.glob("*/summary.json"))
    assert len(summaries) == 4
    assert "full_alignment" in proc.stdout and "baseline" in proc.stdout
    assert "KPIs over 70 business days" in proc.stdout


def test_launching_a_sweep_does_not_load_the_model():
    """The process that launches a parallel sweep needs no Mesa (half a second of imports)."""
    code = (
        "import sys, sim, sim.cli\n"
        "sim.build_config(funnel='combined',"
        " tactics=['liaison', 'shared_goals', 'lead_validation', 'data_sharing'])\n"
        "print(sorted({'mesa', 'sim.model', 'sim.agents'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
