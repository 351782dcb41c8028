"""The causes of misalignment (sim/causes.py): properties of the organisation, off by default."""

import pytest

import sim
from sim import FunnelModel
from sim.agents import Lead
from sim.causes import org_causes
from sim.io import to_json
from sim.params import CAUSES
from tests.conftest import ROOT
from tests.paired import SMALL, mean, runs

BUILT_IN = ("default", "small", "large")


@pytest.mark.parametrize("org", BUILT_IN)
def test_the_built_in_organisations_have_no_cause(org):
    cfg = sim.load_config([f"org={org}"])
    assert org_causes(cfg.org) == []
    assert all(not (ROOT / "conf" / "org" / f"{org}.yaml").read_text().count(c) for c in CAUSES)


def test_the_misaligned_organisation_has_every_cause_and_costs_revenue():
    cfg = sim.load_config(["org=misaligned"])
    assert {c.name for c in org_causes(cfg.org)} == {
        "budget_dispute",
        "separate_leaders",
        "hybrid_work",
    }
    misaligned = {c: getattr(cfg.org, c) for c in CAUSES}
    assert mean(runs(**misaligned), "revenue_per_year") < mean(runs(), "revenue_per_year")


def _inbound(journeys, first=0, last=10**9):
    inbound = journeys[journeys.source == "marketing"]
    return inbound[(inbound.created_day >= first) & (inbound.created_day <= last)]


def test_a_budget_dispute_thins_the_same_market_after_its_lag():
    kw = {"seed": 4, "record_journeys": True, **SMALL}
    base = sim.run(**kw).journeys
    cut = sim.run(budget_dispute=0.5, budget_lag_days=20, **kw).journeys
    assert set(_inbound(cut).fit) <= set(_inbound(base).fit)  # the same leads, fewer of them
    assert len(_inbound(cut, last=20)) == len(_inbound(base, last=20))  # campaigns in flight
    assert 0.4 < len(_inbound(cut, first=21)) / len(_inbound(base, first=21)) < 0.6
    never = sim.run(budget_dispute=0.5, budget_lag_days=SMALL["days"], **kw).summary
    assert never["inbound_leads"] == sim.run(**kw).summary["inbound_leads"]


def test_separate_leaders_pull_the_hand_off_rules_apart_unless_rules_are_agreed():
    def rules(**kw):
        model = FunnelModel(seed=1, days=100, warmup_days=20, **kw)
        model.run()
        return model.handoff_threshold, model.rep_order[0].reserve_share

    theta, reserve = rules()
    drifted = rules(separate_leaders=0.03)
    assert drifted[0] < theta and drifted[1] > reserve
    assert drifted[1] <= sim.build_config().behaviour.reserve_share_max
    model = FunnelModel(seed=1, days=100, warmup_days=20, separate_leaders=0.03)
    model.handoff_rules_agreed = True  # what agreeing tactics set
    model.run()
    assert (model.handoff_threshold, model.rep_order[0].reserve_share) == (theta, reserve)


def test_remote_hand_offs_reach_reps_late_and_cost_leads():
    base = runs()
    remote = runs(hybrid_work=0.6)
    assert mean(remote, "mql_to_sql_rate") < mean(base, "mql_to_sql_rate")
    assert mean(remote, "inbound_leads") == mean(base, "inbound_leads")
    no_lag = runs(hybrid_work=0.6, hybrid_delay_days=0)
    assert [to_json(r) for r in no_lag] == [to_json(r) for r in base]


def test_which_hand_offs_are_remote_is_each_leads_own_draw():
    model = FunnelModel(seed=2, hybrid_work=0.3, **SMALL)
    (cause,) = model.causes
    model.run()
    rep = model.rep_order[0]
    leads = list(model.agents_by_type[Lead])
    lags = [cause.lag(model, lead, rep) for lead in leads]
    assert len(lags) > 50
    assert 0.15 < sum(lag > 0 for lag in lags) / len(lags) < 0.45
    assert lags == [cause.lag(model, lead, rep) for lead in leads]  # the same draw each time
