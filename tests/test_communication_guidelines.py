"""communication_guidelines: an agreed definition, reported feedback, meetings that cost hours."""

from sim import FunnelModel
from tests.paired import assert_nothing_else, assert_off_is_baseline, effect

NAME = "communication_guidelines"


def test_both_teams_weigh_fit_as_agreed_and_marketers_keep_their_own_error():
    plain = FunnelModel(days=5, warmup_days=0)
    model = FunnelModel(tactics=[NAME], days=5, warmup_days=0)
    weight = model.behaviour.shared_fit_weight
    assert all(m.definition.fit_weight == weight for m in model.marketers)
    assert all(r.accept_definition.fit_weight == weight for r in model.reps)
    assert [m.definition.noise for m in model.marketers] == [
        m.definition.noise for m in plain.marketers
    ]
    assert model.handoff_rules_agreed and not plain.handoff_rules_agreed


def _rep_hours(**kw):
    model = FunnelModel(seed=1, days=100, warmup_days=20, **kw)
    model.run()
    return model.kpis.c["rep_hours"], model.kpis.summary()


def test_meetings_cost_rep_hours_and_are_held_at_the_cadence():
    base, base_summary = _rep_hours()
    spent, summary = _rep_hours(tactics={NAME: {"meeting_hours": 4.0, "meeting_every_days": 10}})
    assert summary["guideline_meetings"] == 8  # days 30, 40, ..., 100: the measured window
    assert spent == base - 8 * 4.0 * 12  # every rep, every meeting
    free, _ = _rep_hours(tactics={NAME: {"meeting_hours": 4.0, "switched_off": ["meetings"]}})
    assert free == base
    assert_nothing_else(NAME, summary, base_summary)


def test_reported_outcomes_teach_marketings_scoring():
    def noise(**kw):
        model = FunnelModel(seed=2, days=200, warmup_days=40, **kw)
        model.run()
        return model.marketing_score_noise

    plain = noise()
    assert noise(tactics={NAME: {}}, feedback_learning=0.01) < plain
    assert noise(tactics={NAME: {"switched_off": ["feedback"]}}, feedback_learning=0.01) == plain
    assert noise(tactics={NAME: {}}, feedback_learning=0.0) == plain  # marketing learns nothing


def test_every_mechanism_off_is_the_baseline():
    assert_off_is_baseline(NAME)


def test_it_helps_more_where_the_leaders_rules_drift_apart():
    """Listed under separate_leaders in docs/ODD.md: agreed rules stop the drift."""
    without = effect("revenue_per_year", NAME)
    with_cause = effect("revenue_per_year", NAME, separate_leaders=0.02)
    assert with_cause > without
