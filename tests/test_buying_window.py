"""Buyers' buying windows: when each buyer enters the market, and what follows from it."""

import numpy as np

import sim
from sim.agents import window_delay, window_delays
from sim.params import BehaviourParams


def test_window_delays_follow_the_declared_share_and_median():
    b = BehaviourParams()
    u = (np.arange(20_000) + 0.5) / 20_000  # an even grid of uniforms
    delays = np.array([window_delay(x, b, inbound=True) for x in u])
    in_market = u < b.in_market_share
    assert (delays[in_market] == 0).all() and (delays[~in_market] >= 0).all()
    later = delays[~in_market]
    assert abs(np.median(later) - b.buying_window_median_days) <= 1
    found = np.array([window_delay(x, b, inbound=False) for x in u])
    assert (found[u < b.prospect_in_market_share] == 0).all()
    assert (found[u >= b.prospect_in_market_share][100:] > 0).all()  # past rounding to 0


def test_a_days_delays_at_once_are_each_leads_own():
    """The model computes a day's window delays in one call: the same numbers, lead by lead."""
    b = BehaviourParams()
    u = np.random.default_rng(3).random(2_000).tolist()
    for inbound in (True, False):
        assert window_delays(u, b, inbound) == [window_delay(x, b, inbound) for x in u]


def test_a_longer_median_wait_delays_every_buyer_not_yet_in_market():
    short = BehaviourParams(buying_window_median_days=100.0)
    long = BehaviourParams(buying_window_median_days=300.0)
    for x in (0.2, 0.5, 0.9):
        assert window_delay(x, long, inbound=True) > window_delay(x, short, inbound=True)


def _journeys(days=300, **behaviour):
    overrides = [f"behaviour.{k}={v}" for k, v in behaviour.items()]
    run = [f"days={days}", "org=small", "warmup_days=50", "seed=4", "record_journeys=true"]
    cfg = sim.load_config([*run, *overrides])
    return sim.run(cfg)


def test_buyers_in_the_market_come_in_at_full_intent_and_go_to_sales_at_once():
    result = _journeys()
    j = result.journeys
    inbound = j[j.source == "marketing"]
    in_market = inbound[inbound.window_day == inbound.created_day]
    assert len(in_market) > 0 and (in_market.intent == 1.0).all()
    # they score far above the bar: nearly all are handed over on the day they appear
    assert (in_market.mql_day == in_market.created_day).mean() > 0.8
    later = inbound[inbound.window_day > inbound.created_day]
    assert (later.intent < 1.0).all()


def test_nurture_pays_when_buyers_wait_and_bought_elsewhere_counts_closed_windows():
    # Nurtured buyers are mostly handed over once their windows open; with nobody in the
    # market at first and a ten-year median wait, few windows open and close in the run.
    waiting = _journeys()
    assert waiting.summary["leads_bought_elsewhere"] > 0
    j = waiting.journeys
    handed_from_nurture = j[j.nurtured & (j.mql_day >= 0)]
    assert (handed_from_nurture.mql_day >= handed_from_nurture.window_day).mean() > 0.8
    rare = _journeys(in_market_share=0.0, buying_window_median_days=2500.0)
    assert rare.summary["leads_bought_elsewhere"] < waiting.summary["leads_bought_elsewhere"] / 5


def test_nurture_keeps_waiting_buyers_beyond_the_old_six_months():
    j = _journeys(days=500, nurture_max_days=250).journeys
    handed = j[j.nurtured & (j.mql_day >= 0)]
    late = handed.mql_day - handed.created_day > 120  # the old nurture limit
    assert late.sum() > 0.1 * len(handed)
    assert (handed[late].mql_day >= handed[late].window_day).mean() > 0.8  # once in market
    won = j[j.outcome.isin(["customer", "churned"])]
    assert (won.closed_day - won.created_day).max() > 150
