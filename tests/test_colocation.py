"""colocation: co-located reps hear of hand-offs at once and overhear context; a floor's limit."""

import sim
from sim import FunnelModel
from sim.io import to_json
from sim.kpis import KPIS
from tests.paired import SMALL, assert_nothing_else, assert_off_is_baseline, effect

NAME = "colocation"


def test_only_as_many_reps_as_the_floor_holds_are_co_located():
    model = FunnelModel(tactics={NAME: {"site_size": 10}}, days=5, warmup_days=0)
    assert model.colocated == frozenset(model.rep_order[:4])  # 6 marketers take the first seats
    assert FunnelModel(days=5, warmup_days=0).colocated == frozenset()


def test_co_located_reps_hear_marketings_context_of_some_leads():
    kw = {"seed": 2, "record_journeys": True, **SMALL}
    base = sim.run(**kw)
    on = sim.run(tactics={NAME: {"switched_off": ["informal_feedback"]}}, **kw)
    assert on.summary["overheard_handoffs"] > 0
    handed = on.journeys[(on.journeys.mql_day >= 0) & (on.journeys.source == "marketing")]
    assert 0.1 < handed.history_seen.mean() < 0.5  # overhear_share 0.3 of the leads waiting
    assert not base.journeys.history_seen.any()
    deals = lambda r: r.journeys[r.journeys.sql_day >= 0].pitch_match.mean()  # noqa: E731
    assert deals(on) > deals(base)
    assert_nothing_else(NAME, on.summary, base.summary)
    off = sim.run(tactics={NAME: {"switched_off": ["overheard_context"]}}, **kw)
    assert off.summary["overheard_handoffs"] == 0


def test_co_located_reps_learn_of_remote_hand_offs_at_once():
    remote = {"hybrid_work": 1.0, "hybrid_delay_days": 3}
    only = {"switched_off": ["overheard_context", "informal_feedback"]}
    late = sim.run(seed=1, **SMALL, **remote).summary
    seated = sim.run(seed=1, tactics={NAME: only}, **SMALL, **remote).summary
    on_site = sim.run(seed=1, **SMALL).summary
    # every rep of the small organisation sits with marketing: as if nobody worked remotely
    assert to_json({k: seated[k] for k in KPIS}) == to_json({k: on_site[k] for k in KPIS})
    assert seated["mql_to_sql_rate"] > late["mql_to_sql_rate"]
    # a floor too small for any rep removes no lag
    nobody = sim.run(seed=1, tactics={NAME: {**only, "site_size": 0}}, **SMALL, **remote).summary
    assert nobody["mql_to_sql_rate"] == late["mql_to_sql_rate"]


def test_marketing_hears_some_outcomes_of_co_located_reps_and_learns():
    def noise(share, **kw):
        only = {"switched_off": ["fast_handoff", "overheard_context"]}
        model = FunnelModel(
            seed=2, days=200, warmup_days=40, tactics={NAME: {**only, **share}}, **kw
        )
        model.run()
        return model.marketing_score_noise

    plain = FunnelModel(seed=2, days=200, warmup_days=40)
    plain.run()
    none, some, every = (noise({"outcome_heard_share": s}) for s in (0.0, 0.5, 1.0))
    assert none == plain.marketing_score_noise  # hearing of no outcome teaches nothing
    assert every < some < none  # the more outcomes reach marketing, the more it learns
    assert noise({}, feedback_learning=0.0) == none  # marketing's own rate: zero learns nothing


def test_every_mechanism_off_is_the_baseline():
    assert_off_is_baseline(NAME)


def test_it_helps_more_where_hand_offs_are_remote():
    """Listed under hybrid_work in docs/ODD.md: co-located reps hear of hand-offs at once."""
    without = effect("revenue_per_year", NAME)
    with_cause = effect("revenue_per_year", NAME, hybrid_work=0.5)
    assert with_cause > without
