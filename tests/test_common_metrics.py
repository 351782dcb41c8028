"""common_metrics: marketing's bar follows the unworked share, reps keep fewer hours back."""

from sim import FunnelModel
from tests.paired import assert_nothing_else, assert_off_is_baseline, effect, mean, runs

NAME = "common_metrics"


def test_reps_measured_on_follow_up_keep_fewer_hours_for_themselves():
    plain = FunnelModel(days=5, warmup_days=0)
    model = FunnelModel(tactics={NAME: {"reserve_released": 0.1}}, days=5, warmup_days=0)
    assert [r.reserve_share for r in model.reps] == [r.reserve_share - 0.1 for r in plain.reps]
    assert model.handoff_rules_agreed
    base = runs()
    on = runs(tactics={NAME: {"switched_off": ["marketing_on_follow_up"]}})
    assert mean(on, "rep_prospecting_share") < mean(base, "rep_prospecting_share")
    assert mean(on, "mql_follow_up_rate") > mean(base, "mql_follow_up_rate")
    assert_nothing_else(NAME, on[0], base[0])


def test_marketing_raises_its_bar_while_sales_leaves_mqls_unworked():
    def threshold(**kw):
        model = FunnelModel(seed=1, days=200, warmup_days=40, **kw)
        model.run()
        return model.handoff_threshold

    only = {"switched_off": ["sales_on_follow_up", "one_scorecard"]}
    # the baseline leaves more than half of the MQLs unworked: a target of 0.1 raises the bar
    assert threshold(tactics={NAME: {**only, "target_unworked_share": 0.1}}) > threshold()
    assert threshold(tactics={NAME: {**only, "target_unworked_share": 1.0}}) == threshold()


def test_every_mechanism_off_is_the_baseline():
    assert_off_is_baseline(NAME)


def test_it_helps_more_where_the_leaders_rules_drift_apart():
    """Listed under separate_leaders in docs/ODD.md: one scorecard stops the drift."""
    without = effect("revenue_per_year", NAME)
    with_cause = effect("revenue_per_year", NAME, separate_leaders=0.02)
    assert with_cause > without
