"""Mesa's own tools drive the model as they would any Mesa model."""

import mesa
import numpy as np
import pytest
from mesa.experimental.scenarios import Scenario

import sim
from sim import FunnelModel
from sim.kpis import TO_DATE
from sim.params import ConfigError

RUN = {"days": 120, "warmup_days": 20}


def test_batch_run_rows_carry_the_kpis_with_fresh_seeds_numpy_values_and_a_named_org():
    rows = mesa.batch_run(
        FunnelModel,
        parameters={
            "org": "small",
            "n_reps": np.int64(8),
            "follow_up_hours": np.float64(0.4),
            "days": np.int64(RUN["days"]),
            "warmup_days": RUN["warmup_days"],
        },
        rng=[None] * 3,
        max_steps=RUN["days"],
        data_collection_period=-1,
        display_progress=False,
    )
    assert len(rows) == 3
    revenue = [r["revenue_per_year"] for r in rows]
    assert all(v > 0 for v in revenue) and all(0 < r["win_rate"] < 1 for r in rows)
    assert len(set(revenue)) == 3  # rng=None: each replicate draws its own seed


def test_the_last_collected_kpis_equal_the_summary():
    model = FunnelModel(org="small", rng=4, **RUN)
    model.run()
    last = model.datacollector.get_model_vars_dataframe().iloc[-1]
    summary = model.kpis.summary()
    for kpi in TO_DATE:
        assert last[kpi] == pytest.approx(summary[kpi], nan_ok=True)


def test_an_explicit_seed_always_wins_and_a_missing_one_is_drawn_and_recorded():
    assert FunnelModel(rng=7, **RUN).config.seed == 7
    assert FunnelModel(seed=7, **RUN).config.seed == 7
    assert FunnelModel({"seed": 7, **RUN}).config.seed == 7
    assert FunnelModel(sim.build_config(seed=7, **RUN)).config.seed == 7
    assert FunnelModel(scenario=Scenario(rng=7), **RUN).config.seed == 7
    drawn = {FunnelModel(**RUN).config.seed for _ in range(3)}
    assert len(drawn) == 3
    seed = FunnelModel(**RUN).config.seed
    a, b = FunnelModel(rng=seed, **RUN), FunnelModel(seed=seed, **RUN)
    a.run(), b.run()
    assert a.kpis.summary() == pytest.approx(b.kpis.summary(), nan_ok=True)


def test_named_organisations_and_scenarios_compose_their_files():
    model = FunnelModel(org="small", scenario="full_alignment", rng=1, **RUN)
    expected = sim.load_config(["org=small", "scenario=full_alignment"])
    assert model.config.org == expected.org
    assert model.config.scenario.name == "full_alignment"
    assert set(model.config.scenario.tactics) == set(expected.scenario.tactics)
    assert isinstance(model.scenario, Scenario)  # Mesa's attribute stays Mesa's
    with pytest.raises(ConfigError, match="no such scenario"):
        FunnelModel(scenario="nonesuch")
    with pytest.raises(ConfigError, match="not both"):
        FunnelModel({"days": 50}, org="small")


def test_solaraviz_reset_re_creates_the_model_through_mesas_own_code():
    """What SolaraViz's Reset button runs: Mesa's kwargs builder, then the model's class."""
    solara_viz = pytest.importorskip("mesa.visualization.solara_viz")  # the view extra
    model = FunnelModel(org="small", rng=3, **RUN)
    for params in ({}, {"n_reps": 8, "rng": 5, **RUN}):
        kwargs = solara_viz._build_model_init_kwargs(
            model, params, add_scenario_when_empty=True, require_model_accepts_scenario=True
        )
        assert isinstance(kwargs["scenario"], Scenario)
        fresh = type(model)(**kwargs)
        fresh.step()
    assert fresh.config.org.n_reps == 8 and fresh.config.seed == 5
    fresh.run()
    last = fresh.datacollector.get_model_vars_dataframe().iloc[-1]
    summary = fresh.kpis.summary()
    for kpi in TO_DATE:
        assert last[kpi] == pytest.approx(summary[kpi], nan_ok=True)


def test_solaraviz_reset_passes_a_mesa_scenario():
    """SolaraViz re-creates the model with scenario=Scenario(**params) on Reset."""
    model = FunnelModel(scenario=Scenario(n_reps=5), **RUN)
    assert model.config.org.n_reps == 5
    model.step()
