"""The KPI registry and the data dictionary describe exactly what the outputs hold."""

import math

import numpy as np
import pandas as pd
import pytest

import sim
from sim.effects import paired_effects
from sim.kpis import (
    EFFECT_COLUMNS,
    IDENTITY,
    JOURNEY_COLUMNS,
    KPIS,
    RUN_COLUMN_PREFIXES,
    RUN_COLUMNS,
    SERIES_COLUMNS,
    check_summary,
    data_dictionary,
    with_role,
)
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def result():
    cfg = sim.load_config(["org=small", "days=80", "warmup_days=10", "record_journeys=true"])
    return sim.run(cfg)


def test_the_registry_declares_every_summary_field_and_nothing_else(result):
    assert set(result.summary) == set(KPIS) | set(IDENTITY)


def test_a_real_summary_passes_the_check(result):
    summary = {
        k: (None if isinstance(v, float) and math.isnan(v) else v)
        for k, v in result.summary.items()
    }
    assert check_summary(summary) is None


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("win_rate", 1.5, "a share above 1"),
        ("revenue_per_year", -1.0, "negative"),
        ("deals_won", 2.5, "not a whole number"),
        ("deals_won", None, "missing a value"),
        ("mqls", "12", "not a number"),
        ("revenue", float("inf"), "not finite"),
        ("seed", "1", "not of type int"),
    ],
)
def test_the_check_names_what_is_wrong(result, key, value, problem):
    summary = {
        k: (None if isinstance(v, float) and math.isnan(v) else v)
        for k, v in result.summary.items()
    }
    summary[key] = value
    assert problem in check_summary(summary) and key in check_summary(summary)
    del summary[key]
    assert check_summary(summary) == f"{key} is missing"


def test_the_series_and_journey_columns_are_declared(result):
    assert list(result.timeseries.columns) == list(SERIES_COLUMNS)
    assert list(result.journeys.columns) == list(JOURNEY_COLUMNS)


def test_the_effect_columns_are_declared():
    rng = np.random.default_rng(1)
    runs = pd.DataFrame(
        {
            "scenario": ["baseline"] * 3 + ["liaison"] * 3,
            "seed": [1, 2, 3] * 2,
            **{k: rng.uniform(0.1, 0.9, 6) for k in with_role("effect")},
        }
    )
    assert list(paired_effects(runs)) == list(EFFECT_COLUMNS)


def test_run_columns_are_declared(tmp_path, monkeypatch):
    from sim.io import load_runs, write_outputs

    cfg = sim.load_config(["org=small", "days=40", "warmup_days=10"])
    write_outputs(sim.run(cfg), tmp_path / "r")
    runs = load_runs(tmp_path)
    extra = [c for c in runs.columns if c not in KPIS and c not in IDENTITY]
    named = {c for c in extra if not c.startswith(RUN_COLUMN_PREFIXES)}
    assert named == {c for c in RUN_COLUMNS if "<" not in c}
    assert {c.split(".", 1)[0] + "." for c in extra if c not in named} == set(RUN_COLUMN_PREFIXES)


def test_the_data_dictionary_is_current():
    assert (ROOT / "docs" / "outputs.md").read_text() == data_dictionary(), (
        "docs/outputs.md is stale: run python -m sim.kpis"
    )


def test_validation_and_sensitivity_measure_only_registered_kpis():
    from experiments.sensitivity import OUTPUTS
    from sim.validation import FACT_METRICS

    derived = {"churn_12m"}  # 1 - retention_12m, computed by sim.validation
    assert set(FACT_METRICS.values()) - derived <= set(KPIS)
    assert set(OUTPUTS.values()) <= set(KPIS)
