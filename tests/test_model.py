import mesa
import numpy as np
import pandas as pd
import pytest

import sim
from sim import FunnelModel
from sim.agents import Customer, Lead, Marketer, SalesRep
from sim.funnel import OPEN_STAGES, Stage
from sim.io import to_json
from sim.tactics.liaison import Liaison
from tests.conftest import SCENARIOS, SHORT


def test_model_runs_with_all_defaults_for_a_few_days():
    model = FunnelModel()
    model.run_for(5)
    assert model.day == 5
    assert len(model.agents_by_type[Marketer]) == 6
    assert len(model.agents_by_type[SalesRep]) == 12
    assert model.ledger.created > 0


def test_same_seed_gives_identical_outputs():
    a = sim.run(seed=11, record_journeys=True, **SHORT)
    b = sim.run(seed=11, record_journeys=True, **SHORT)
    assert to_json(a.summary) == to_json(b.summary)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    pd.testing.assert_frame_equal(a.journeys, b.journeys)
    c = sim.run(seed=12, **SHORT)
    assert c.summary["leads_created"] != a.summary["leads_created"]


def _inbound(result):
    j = result.journeys
    j = j[j.source == "marketing"]
    return j.sort_values(["created_day", "fit"])[["created_day", "fit", "intent"]].reset_index(
        drop=True
    )


def test_every_scenario_faces_the_same_market():
    runs = {
        name: sim.run(seed=5, record_journeys=True, **kw, **SHORT) for name, kw in SCENARIOS.items()
    }
    base = runs["baseline"]
    for name, result in runs.items():
        if FunnelModel(**SCENARIOS[name], **SHORT).inbound_keep:
            # its campaigns reach part of the market (joint planning): the same leads, fewer
            reached = _inbound(result).merge(_inbound(base), how="left", indicator=True)
            assert (reached._merge == "both").all(), name
            assert 0 < len(reached) < len(_inbound(base)), name
            continue
        assert result.summary["inbound_leads"] == base.summary["inbound_leads"], name
        pd.testing.assert_frame_equal(_inbound(result), _inbound(base), obj=name)
    # ...while what the teams do differs
    assert len({r.summary["mqls"] for r in runs.values()}) > 1


def test_closed_leads_leave_the_model():
    result = sim.run(seed=3, keep_model=True, record_journeys=True, **SHORT)
    model = result.model
    open_now = sum(model.open_lead_counts().values())
    assert len(model.agents_by_type[Lead]) == open_now
    closed = sum(model.ledger.counts[s] for s in Stage if s not in OPEN_STAGES)
    assert closed > open_now  # most leads have left the agent set
    assert len(result.journeys) == model.ledger.created


def test_liaison_agents_exist_only_with_the_tactic():
    assert Liaison not in FunnelModel(days=10, warmup_days=0).agents_by_type
    model = FunnelModel(days=10, warmup_days=0, tactics={"liaison": {"n_liaisons": 2}})
    assert len(model.agents_by_type[Liaison]) == 2


def test_won_deals_become_customers():
    result = sim.run(seed=2, keep_model=True, record_journeys=True, days=300, warmup_days=30)
    customers = result.model.agents_by_type.get(Customer, [])
    j = result.journeys
    assert len(customers) == (j.outcome == "customer").sum() > 0


def test_mesa_batch_run_drives_the_model():
    rows = mesa.batch_run(
        FunnelModel,
        {"tactics": [[], ["data_sharing"]], "days": 60, "warmup_days": 10},
        rng=[1, 2],
        data_collection_period=-1,
        number_processes=1,
        display_progress=False,
    )
    df = pd.DataFrame(rows)
    assert len(df) == 4
    assert (df["day"] == 60).all()


def test_rng_must_be_a_seed():
    with pytest.raises(TypeError, match="whole-number seed"):
        FunnelModel(rng=np.random.default_rng(1))


def test_streamed_journeys_equal_the_in_memory_log(tmp_path):
    in_memory = sim.run(seed=3, record_journeys=True, **SHORT).journeys
    path = tmp_path / "journeys.parquet"
    model = FunnelModel(seed=3, record_journeys=True, journeys_path=path, **SHORT)
    model.journeys.chunk_rows = 1000  # many row groups
    model.run()
    model.finish()
    assert model.journeys.close() is None
    assert len(model.journeys.rows) == 0 < model.journeys.written  # nothing kept in memory
    pd.testing.assert_frame_equal(pd.read_parquet(path), in_memory)


def test_scheduled_actions_run_on_their_day_in_order_between_work_and_reviews():
    model = FunnelModel(days=30, warmup_days=0, seed=1)
    model.run_for(2)
    seen = []

    class Probe:  # the model schedules bound methods of agents
        def __init__(self, name):
            self.name = name

        def act(self):
            # after the day's work (step) and before its end (the day's row is not collected)
            rows = len(model.datacollector.model_vars["day"])
            seen.append((self.name, model.day, rows))
            if self.name == "b":
                model.schedule_after(0, probes["same day"].act)

    probes = {name: Probe(name) for name in ("a", "b", "c", "same day", "later")}
    model.schedule_after(3, probes["a"].act)
    model.schedule_after(5, probes["later"].act)
    model.schedule_after(3, probes["b"].act)
    model.schedule_after(3, probes["c"].act)
    model.run_for(6)
    assert seen == [("a", 5, 4), ("b", 5, 4), ("c", 5, 4), ("same day", 5, 4), ("later", 7, 6)]
    assert min(model._agenda) > model.day  # past days leave nothing behind
