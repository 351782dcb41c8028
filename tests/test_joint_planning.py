"""joint_planning: fewer, better-fit leads from one market draw; reps know the plan; hours."""

import sim
from sim import FunnelModel
from tests.paired import SMALL, assert_off_is_baseline, mean, runs

NAME = "joint_planning"


def _inbound_fits(**kw):
    result = sim.run(seed=3, record_journeys=True, **{**SMALL, **kw})
    j = result.journeys
    return result.summary, j[j.source == "marketing"]


def test_targeting_thins_the_same_market_towards_fit():
    base, base_leads = _inbound_fits()
    on, on_leads = _inbound_fits(tactics=[NAME])
    assert on["inbound_leads"] < base["inbound_leads"]
    # the leads reached are leads of the same market: a subset, not new draws
    assert set(on_leads.fit) <= set(base_leads.fit)
    assert on_leads.fit.mean() > base_leads.fit.mean()
    # aiming harder keeps a subset of what aiming less keeps (one thinning of one draw)
    _, harder = _inbound_fits(tactics={NAME: {"aim": 0.8}})
    assert set(harder.fit) <= set(on_leads.fit)
    off, _ = _inbound_fits(tactics={NAME: {"switched_off": ["targeting"]}})
    assert off["inbound_leads"] == base["inbound_leads"]


def test_reps_know_what_planned_campaigns_promised():
    on = runs(tactics={NAME: {"aim": 0.0, "planning_hours": 0.0}})
    assert mean(on, "planned_handoffs") > 0
    _, leads = _inbound_fits(tactics={NAME: {"aim": 0.0, "planning_hours": 0.0}})
    handed = leads[leads.mql_day >= 0]
    share = handed.history_seen.mean()
    assert 0.35 < share < 0.65  # planned_share 0.5, each lead by its own draw
    _, none = _inbound_fits(tactics={NAME: {"aim": 0.0, "switched_off": ["shared_plan"]}})
    assert not none.history_seen.any()
    # knowing the promise brings the pitch closer to the need (sim.needs)
    _, base = _inbound_fits()
    deals = lambda j: j[j.sql_day >= 0].pitch_match.mean()  # noqa: E731
    assert deals(leads) > deals(base)


def test_planning_sessions_cost_rep_hours_once_a_period():
    def hours(**kw):
        model = FunnelModel(seed=1, days=100, warmup_days=20, **kw)
        model.run()
        return model.kpis.c["rep_hours"]

    spec = {"aim": 0.0, "planned_share": 0.0, "planning_hours": 3.0}
    assert hours(tactics={NAME: spec}) == hours() - 4 * 3.0 * 12  # days 21, 41, 61, 81


def test_every_mechanism_off_is_the_baseline():
    assert_off_is_baseline(NAME)
