"""Unit tests of single mechanisms, and the extreme-condition tests."""

import math

import pytest

import sim
from sim import FunnelModel
from sim.agents import MARKETING, Customer, Lead
from sim.funnel import Stage
from sim.policies import FollowUpPolicy, Goal, ThresholdPolicy

MEDIUM = {"days": 300, "warmup_days": 60}


def make_lead(model, fit=0.5, intent=0.5, u=(0.5,) * 5, z=(0.0,) * 4):
    lead = Lead(model, MARKETING, fit, intent, 10_000.0, 0, z, u)
    model.ledger.enter(Stage.LEAD)
    return lead


@pytest.fixture
def model():
    m = FunnelModel(days=50, warmup_days=0, seed=1)
    m.run_for(1)
    return m


def test_intent_decays_without_contact_and_rises_with_nurture(model):
    lead = make_lead(model, intent=0.5)
    decay = model.behaviour.intent_decay_per_day
    assert lead.window_day > model.day + 10  # its buyer is not in the market yet
    assert lead.intent_at(model.day + 10) == pytest.approx(0.5 * math.exp(-10 * decay))
    lead.touch(model.day + 10, gain=0.2)
    assert lead.intent == 0.5  # before its window a touch holds intent, never raises it
    lead.window_day = model.day + 10
    lead.touch(model.day + 10, gain=0.2)
    assert lead.intent == pytest.approx(0.5 + 0.2 * 0.5)  # in its window: a share of the gap
    assert lead.intent_at(model.day + 20) == pytest.approx(0.6 * math.exp(-10 * decay))


def test_speed_to_lead_decay_is_steep():
    s = sim.run(seed=2, **MEDIUM).summary
    assert s["speed_to_lead_ratio"] > 3


def test_slow_follow_up_lowers_the_chance_to_reach(model):
    rep = model.rep_order[0]
    results = {}
    for delay in (0, 1, 5):
        reached = 0
        for i in range(200):
            lead = make_lead(model, fit=0.9, intent=0.9, u=((i + 0.5) / 200, 0.99, 0.5, 0.5, 0.5))
            model.move(lead, Stage.MQL)
            lead.rep = rep
            lead.ready_day = model.day - delay
            rep.follow_up(lead)
            reached += lead.stage is Stage.SAL
        results[delay] = reached
    assert results[0] > 2 * results[1] > 0
    assert results[1] > results[5]


def test_churn_rises_when_the_sale_misses_the_need_or_the_promise(model):
    lead = make_lead(model, fit=0.5)
    lead.need = 0.0
    customer = Customer(model, lead)
    lead.source = "rep"  # no promise of marketing's: only the need counts
    lead.pitch = 0.0
    matched = customer.churn_probability()
    lead.pitch = 2.0
    wrong_need = customer.churn_probability()
    assert wrong_need > matched
    b = model.behaviour
    gap = 1 - math.exp(-(2.0**2) / (2 * b.pitch_tolerance**2))
    assert wrong_need == pytest.approx(min(1.0, matched * (1 + b.churn_need_gap * gap)))


def test_volume_goal_lowers_the_threshold_below_quota(model):
    marketer = model.marketer_order[0]
    marketer.goal = Goal.mql_volume
    marketer.period_leads, marketer.period_mqls = 100, 0
    assert ThresholdPolicy().update(marketer) < marketer.threshold
    marketer.period_mqls = 100
    assert ThresholdPolicy().update(marketer) > marketer.threshold


def test_revenue_goal_raises_the_threshold_when_sales_ignores_mqls(model):
    marketer = model.marketer_order[0]
    marketer.goal = Goal.revenue
    model.kpis.period_followups, model.kpis.period_ignored = 10, 90
    assert ThresholdPolicy().update(marketer) > marketer.threshold


def test_follow_up_policy_takes_the_best_above_the_bar(model):
    rep = model.rep_order[0]
    rep.trust, rep.credit_weight = 1.0, 1.0
    leads = [make_lead(model) for _ in range(4)]
    for lead, view in zip(leads, (0.9, 0.5, 0.01, 0.7), strict=True):
        lead.rep_view = view
    chosen = FollowUpPolicy().choose(rep, leads, 2)
    assert chosen == [leads[0], leads[3]]
    rep.trust, rep.credit_weight = 0.7, 0.3  # valued in one call as one by one
    assert rep.perceived_all(leads) == [rep.perceived(lead) for lead in leads]
    assert leads[2] not in FollowUpPolicy().choose(rep, leads, 10)  # below the bar
    assert FollowUpPolicy().choose(rep, leads, 0) == []


def test_reps_never_give_more_hours_than_they_have(model):
    for _ in range(30):
        model.step()
    c = model.kpis.c
    used = (
        c["rep_admin_hours"]
        + c["rep_selling_hours"]
        + c["rep_follow_up_hours"]
        + c["rep_prospecting_hours"]
    )
    assert used == pytest.approx(c["rep_hours"])


# --- extreme conditions (calibration/stylized_facts.yaml) ---------------------------------
def test_no_marketing_no_mqls():
    s = sim.run(seed=1, inbound_leads_per_day=0.0, **MEDIUM).summary
    assert s["mqls"] == 0
    assert s["inbound_leads"] == 0


def test_unlimited_capacity_and_trust_leaves_no_mql_unworked():
    s = sim.run(
        seed=1,
        n_reps=60,
        rep_hours_per_day=24.0,
        rep_initial_trust=1.0,
        trust_learning_rate=0.0,
        marketing_credit_discount=1.0,
        follow_up_bar=0.0,
        prospect_reserve_share=0.0,
        **MEDIUM,
    ).summary
    assert s["mql_never_worked_share"] < 0.02


def test_a_tactic_only_shifts_its_own_random_streams():
    # the market is identical; prospects differ only because reps' time differs
    a = FunnelModel(days=40, warmup_days=0, seed=9)
    b = FunnelModel(days=40, warmup_days=0, seed=9, tactics=["data_sharing"])
    a.run(), b.run()
    assert a.rngs["market"].random() == b.rngs["market"].random()
    assert a.rngs["churn"].random() == b.rngs["churn"].random()
