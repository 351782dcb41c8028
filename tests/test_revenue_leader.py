"""revenue_leader: one owner of the budget, one definition, one leader."""

from sim import FunnelModel
from tests.paired import assert_nothing_else, assert_off_is_baseline, effect, mean, runs

NAME = "revenue_leader"


def test_one_leader_imposes_one_definition_and_one_set_of_rules():
    model = FunnelModel(tactics=[NAME], days=5, warmup_days=0)
    weight = model.behaviour.shared_fit_weight
    assert all(m.definition.fit_weight == weight for m in model.marketers)
    assert all(r.accept_definition.fit_weight == weight for r in model.reps)
    assert model.handoff_rules_agreed and model.budget_resolved
    base, on = runs(), runs(tactics=[NAME])
    assert mean(on, "mql_acceptance_rate") != mean(base, "mql_acceptance_rate")
    assert_nothing_else(NAME, on[0], base[0])


def test_one_owner_ends_the_budget_cut():
    dispute = {"budget_dispute": 0.4}
    cut = runs(**dispute)
    owner = runs(tactics={NAME: {"switched_off": ["one_definition", "one_leader"]}}, **dispute)
    assert mean(owner, "inbound_leads") == mean(runs(), "inbound_leads")
    assert mean(cut, "inbound_leads") < mean(owner, "inbound_leads")


def test_every_mechanism_off_is_the_baseline():
    assert_off_is_baseline(NAME)


def test_it_helps_more_where_budgets_are_disputed():
    """Listed under budget_dispute in docs/ODD.md."""
    without = effect("revenue_per_year", NAME)
    assert effect("revenue_per_year", NAME, budget_dispute=0.3) > without


def test_it_helps_more_where_the_leaders_rules_drift_apart():
    """Listed under separate_leaders in docs/ODD.md."""
    without = effect("revenue_per_year", NAME)
    assert effect("revenue_per_year", NAME, separate_leaders=0.02) > without
