"""Validation against the published facts: the mapping, each kind of check, and the model."""

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.validation import (
    EXTREMES,
    FACT_METRICS,
    FACTS_PATH,
    calibration_loss,
    evaluate,
    load_facts,
    scenarios_needed,
)


def test_every_fact_in_the_file_is_mapped_to_a_model_output():
    facts = load_facts()
    ids = {f.id for f in facts}
    assert ids == set(FACT_METRICS) | set(EXTREMES)
    kinds = {f.kind for f in facts}
    assert kinds == {"level", "ratio", "uplift", "ordering", "extreme"}
    assert scenarios_needed(facts) == ["baseline", "combined_funnel", "full_alignment"]


def test_an_unmapped_fact_fails_with_a_note(tmp_path):
    data = yaml.safe_load(FACTS_PATH.read_text())
    data["facts"].append(
        {
            "id": "new_fact",
            "kind": "level",
            "statement": "s",
            "scenario": "baseline",
            "metric": "m",
            "target": 1,
            "range": [0, 2],
        }
    )
    path = tmp_path / "facts.yaml"
    path.write_text(yaml.safe_dump(data))
    table = evaluate(_fake_runs(), facts=load_facts(path))
    row = table.set_index("id").loc["new_fact"]
    assert not row.passed and "no model output" in row.note


def _fake_runs():
    rows = []
    for seed in range(5):
        for scenario, lift in (
            ("baseline", 1.0),
            ("full_alignment", 1.3),
            ("combined_funnel", 1.1),
        ):
            rows.append(
                {
                    "scenario": scenario,
                    "seed": seed,
                    "win_rate": 0.24 * lift + 0.001 * seed,
                    "revenue_per_year": 1e6 * lift + 1e3 * seed,
                    "mql_to_sql_rate": 0.15 * lift,
                    "retention_12m": 1 - 0.12 / lift,
                    "opportunities_per_month": 50 * lift + seed,
                    "sales_cycle_days_median": 75 / lift,
                }
            )
    return pd.DataFrame(rows)


def test_each_kind_of_check_on_known_numbers():
    facts = [
        f
        for f in load_facts()
        if f.id
        in (
            "opportunity_win_rate",
            "win_rate_uplift",
            "revenue_uplift",
            "churn_reduction",
            "alignment_shortens_cycle",
            "separate_funnels_hurt_pipeline",
            "no_marketing_no_mqls",
        )
    ]
    extremes = {"no_marketing_no_mqls": pd.DataFrame({"mqls": [0, 0, 0]})}
    table = evaluate(_fake_runs(), extremes, facts).set_index("id")
    assert table.loc["opportunity_win_rate", "model_mean"] == pytest.approx(0.242)
    assert table.loc["opportunity_win_rate", "passed"]
    assert table.loc["win_rate_uplift", "model_mean"] == pytest.approx(0.3, rel=1e-2)
    assert table.loc["win_rate_uplift", "passed"]
    assert table.loc["revenue_uplift", "passed"]  # +30% is inside [0.11, 0.6]
    churn = 0.12 / 1.3 / 0.12 - 1  # churn falls by a quarter
    assert table.loc["churn_reduction", "model_mean"] == pytest.approx(churn)
    assert table.loc["alignment_shortens_cycle", "passed"]
    assert table.loc["separate_funnels_hurt_pipeline", "passed"]
    assert table.loc["no_marketing_no_mqls", "passed"]
    failing = evaluate(
        _fake_runs(), {"no_marketing_no_mqls": pd.DataFrame({"mqls": [0, 3]})}, facts
    ).set_index("id")
    assert not failing.loc["no_marketing_no_mqls", "passed"]


def test_the_loss_prefers_the_target_and_punishes_leaving_the_range():
    def table(value):
        return pd.DataFrame(
            [
                {
                    "kind": "level",
                    "target": 0.24,
                    "range_low": 0.15,
                    "range_high": 0.35,
                    "model_mean": value,
                    "passed": True,
                }
            ]
        )

    at, inside, outside = (calibration_loss(table(v)) for v in (0.24, 0.33, 0.37))
    assert at == 0.0 < inside < outside
    # leaving the range costs ten times the squared distance outside, on top of the distance
    assert outside == pytest.approx(((0.37 - 0.24) / 0.2) ** 2 + 10 * (0.02 / 0.2) ** 2)
    assert calibration_loss(table(math.nan)) > outside
    assert np.isfinite(calibration_loss(table(0.2)))
